#include "lib/elf/Symbolizer.h"
#include "lib/elf/Executable.h"

namespace aisos::elf {

namespace {

bool inside(uint64_t offset, uint64_t length, uint64_t size) { return offset <= size && length <= size - offset; }

bool is_function_candidate(Symbol const& symbol)
{
    return symbol_type(symbol.info) == symbol_function && symbol.section_index != section_index_undefined
        && (symbol.section_index < section_index_lo_reserve || symbol.section_index == section_index_absolute) && symbol.name != 0;
}

} // namespace

ErrorOr<Symbolizer> Symbolizer::create(std::span<const uint8_t> file)
{
    FileHeader header;
    ElfCheck check = parse_file_header(file.data(), file.size(), header);
    if (!check.ok())
        return Error { check.unsupported ? ErrorCode::Unsupported : ErrorCode::Corrupt, check.reason };
    if (header.section_header_offset == 0 || header.section_header_count == 0)
        return Error::not_found("ELF file has no section headers");
    if (header.section_header_entry_size != sizeof(SectionHeader))
        return Error::corrupt("ELF section header entry size is wrong");
    uint64_t table_size = uint64_t(header.section_header_count) * sizeof(SectionHeader);
    if (!inside(header.section_header_offset, table_size, file.size()))
        return Error::corrupt("ELF section header table lies outside the file");

    auto section = [&](size_t index) {
        SectionHeader sh;
        __builtin_memcpy(&sh, file.data() + header.section_header_offset + index * sizeof(SectionHeader), sizeof(sh));
        return sh;
    };

    for (size_t i = 0; i < header.section_header_count; ++i) {
        SectionHeader symtab = section(i);
        if (symtab.type != section_symtab)
            continue;
        if (symtab.entry_size != sizeof(Symbol) || symtab.size % sizeof(Symbol) != 0)
            return Error::corrupt("ELF symbol table entry size is wrong");
        if (!inside(symtab.offset, symtab.size, file.size()))
            return Error::corrupt("ELF symbol table lies outside the file");
        if (symtab.link == 0 || symtab.link >= header.section_header_count)
            return Error::corrupt("ELF symbol table links to a missing string table");
        SectionHeader strtab = section(symtab.link);
        if (strtab.type != section_strtab)
            return Error::corrupt("ELF symbol table links to a section that is not a string table");
        if (!inside(strtab.offset, strtab.size, file.size()))
            return Error::corrupt("ELF string table lies outside the file");

        Symbolizer symbolizer;
        symbolizer.m_file = file;
        symbolizer.m_symbols_offset = symtab.offset;
        symbolizer.m_symbol_count = symtab.size / sizeof(Symbol);
        symbolizer.m_strings_offset = strtab.offset;
        symbolizer.m_strings_size = strtab.size;
        return symbolizer;
    }
    return Error::not_found("ELF file has no symbol table (stripped?)");
}

Symbol Symbolizer::symbol_at(size_t index) const
{
    Symbol symbol;
    __builtin_memcpy(&symbol, m_file.data() + m_symbols_offset + index * sizeof(Symbol), sizeof(symbol));
    return symbol;
}

std::string_view Symbolizer::name_of(uint32_t offset) const
{
    if (offset >= m_strings_size)
        return {};
    auto const* start = reinterpret_cast<const char*>(m_file.data() + m_strings_offset + offset);
    size_t limit = m_strings_size - offset;
    size_t length = 0;
    while (length < limit && start[length] != 0)
        ++length;
    if (length == limit)
        return {}; // not terminated inside the table
    return { start, length };
}

std::optional<SymbolMatch> Symbolizer::symbolize(uint64_t address) const
{
    bool have_sized = false;
    Symbol sized {};
    bool have_label = false;
    Symbol label {};
    uint64_t latest_sized_end = 0; // end of the sized functions wholly below the address
    for (size_t i = 0; i < m_symbol_count; ++i) {
        Symbol symbol = symbol_at(i);
        if (!is_function_candidate(symbol) || symbol.value > address)
            continue;
        if (symbol.size == 0) {
            if (!have_label || symbol.value > label.value) {
                label = symbol;
                have_label = true;
            }
            continue;
        }
        if (address - symbol.value < symbol.size) {
            // Aliases: prefer the innermost (latest starting) one.
            if (!have_sized || symbol.value > sized.value) {
                sized = symbol;
                have_sized = true;
            }
        } else if (symbol.value + symbol.size > latest_sized_end) {
            latest_sized_end = symbol.value + symbol.size;
        }
    }
    Symbol const* best = nullptr;
    if (have_sized)
        best = &sized;
    else if (have_label && label.value >= latest_sized_end)
        best = &label;
    if (!best)
        return std::nullopt;
    std::string_view name = name_of(best->name);
    if (name.empty())
        return std::nullopt;
    return SymbolMatch { name, best->value, address - best->value, best->size };
}

std::optional<uint64_t> Symbolizer::address_of(std::string_view name) const
{
    for (size_t i = 0; i < m_symbol_count; ++i) {
        Symbol symbol = symbol_at(i);
        if (is_function_candidate(symbol) && name_of(symbol.name) == name)
            return symbol.value;
    }
    return std::nullopt;
}

} // namespace aisos::elf
