#include "lib/elf/Executable.h"

namespace aisos::elf {

namespace {

constexpr ElfCheck malformed(const char* reason) { return { reason, false }; }
constexpr ElfCheck unsupported(const char* reason) { return { reason, true }; }

bool is_canonical(uint64_t address)
{
    uint64_t top = address >> 47;
    return top == 0 || top == 0x1ffff;
}

// [offset, offset + length) lies inside a file of `size` bytes.
bool inside(uint64_t offset, uint64_t length, uint64_t size) { return offset <= size && length <= size - offset; }

} // namespace

ElfCheck parse_file_header(const uint8_t* data, uint64_t size, FileHeader& out)
{
    if (!data || size < sizeof(FileHeader))
        return malformed("ELF file is shorter than its header");
    __builtin_memcpy(&out, data, sizeof(FileHeader));
    if (__builtin_memcmp(out.ident, magic, 4) != 0)
        return malformed("not an ELF file (bad magic)");
    if (out.ident[ident_class] != class_64)
        return unsupported("ELF file is not 64-bit");
    if (out.ident[ident_data] != data_little_endian)
        return unsupported("ELF file is not little-endian");
    if (out.ident[ident_version] != version_current || out.version != version_current)
        return unsupported("unknown ELF version");
    if (out.machine != machine_x86_64)
        return unsupported("ELF file is not for x86_64");
    if (out.header_size < sizeof(FileHeader))
        return malformed("ELF header size field is too small");
    return {};
}

ElfCheck parse_executable(const uint8_t* data, uint64_t size, ImageType wanted, ExecutableLayout& out)
{
    __builtin_memset(&out, 0, sizeof(out));
    FileHeader header;
    ElfCheck check = parse_file_header(data, size, header);
    if (!check.ok())
        return check;

    bool type_ok = (header.type == type_executable && wanted != ImageType::PositionIndependent)
        || (header.type == type_dynamic && wanted != ImageType::Executable);
    if (!type_ok)
        return unsupported(header.type == type_executable || header.type == type_dynamic ? "ELF file has the wrong type (executable vs position-independent)" : "ELF file is not an executable");

    if (header.program_header_count == 0)
        return malformed("ELF file has no program headers");
    if (header.program_header_count > max_program_headers)
        return unsupported("ELF file has too many program headers");
    if (header.program_header_entry_size != sizeof(ProgramHeader))
        return malformed("ELF program header entry size is wrong");
    uint64_t table_size = uint64_t(header.program_header_count) * sizeof(ProgramHeader);
    if (!inside(header.program_header_offset, table_size, size))
        return malformed("ELF program header table lies outside the file");

    out.type = header.type;
    out.entry = header.entry;
    out.lowest_address = ~0ull;
    for (uint32_t i = 0; i < header.program_header_count; ++i) {
        ProgramHeader ph;
        __builtin_memcpy(&ph, data + header.program_header_offset + i * sizeof(ProgramHeader), sizeof(ph));
        if (ph.type == segment_interpreter)
            return unsupported("ELF file needs a dynamic linker (PT_INTERP)");
        if (ph.type == segment_dynamic) {
            if (!inside(ph.offset, ph.file_size, size))
                return malformed("ELF dynamic segment lies outside the file");
            out.dynamic_address = ph.virtual_address;
            out.dynamic_size = ph.file_size;
            continue;
        }
        if (ph.type != segment_load)
            continue;
        if (ph.memory_size == 0)
            continue;
        if (out.segment_count == max_load_segments)
            return unsupported("ELF file has too many loadable segments");
        if (!inside(ph.offset, ph.file_size, size))
            return malformed("ELF segment data lies outside the file");
        if (ph.file_size > ph.memory_size)
            return malformed("ELF segment file size exceeds its memory size");
        if (ph.virtual_address > ~0ull - (ph.memory_size - 1))
            return malformed("ELF segment address range wraps around");
        uint64_t last = ph.virtual_address + (ph.memory_size - 1);
        if (!is_canonical(ph.virtual_address) || !is_canonical(last) || (ph.virtual_address >> 63) != (last >> 63))
            return malformed("ELF segment address is not canonical");
        if (ph.alignment > 1) {
            if (ph.alignment & (ph.alignment - 1))
                return malformed("ELF segment alignment is not a power of two");
            if ((ph.virtual_address - ph.offset) & (ph.alignment - 1))
                return malformed("ELF segment address and offset disagree modulo alignment");
        }
        for (uint32_t j = 0; j < out.segment_count; ++j) {
            auto const& other = out.segments[j];
            uint64_t other_last = other.virtual_address + (other.memory_size - 1);
            if (ph.virtual_address <= other_last && other.virtual_address <= last)
                return malformed("ELF segments overlap");
            if ((ph.virtual_address >> 12) <= (other_last >> 12) && (other.virtual_address >> 12) <= (last >> 12))
                out.segments_share_pages = true;
        }
        out.segments[out.segment_count++] = { ph.offset, ph.file_size, ph.virtual_address, ph.physical_address, ph.memory_size, ph.alignment, ph.flags };
        if (ph.virtual_address < out.lowest_address)
            out.lowest_address = ph.virtual_address;
        if (last + 1 > out.end_address || last == ~0ull)
            out.end_address = last + 1; // 0 means "to the top of memory"
    }
    if (out.segment_count == 0)
        return malformed("ELF file has no loadable segments");

    bool entry_ok = false;
    for (uint32_t i = 0; i < out.segment_count; ++i) {
        auto const& segment = out.segments[i];
        if ((segment.flags & segment_executable) && header.entry >= segment.virtual_address && header.entry - segment.virtual_address < segment.memory_size)
            entry_ok = true;
    }
    if (!entry_ok)
        return malformed("ELF entry point is not inside an executable segment");
    return {};
}

} // namespace aisos::elf
