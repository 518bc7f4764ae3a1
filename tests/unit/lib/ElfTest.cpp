#include "lib/elf/ExecutableImage.h"
#include "lib/elf/Symbolizer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

using namespace aisos;
using namespace aisos::elf;

namespace {

std::vector<uint8_t> read_file(const char* path)
{
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    return { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
}

// Builds small executables in memory: a header, a program header table at
// offset 64, and file bytes up to `file_size`.
struct ElfBuilder {
    FileHeader header {};
    std::vector<ProgramHeader> segments;
    size_t file_size { 0x3000 };

    ElfBuilder()
    {
        std::memcpy(header.ident, magic, 4);
        header.ident[ident_class] = class_64;
        header.ident[ident_data] = data_little_endian;
        header.ident[ident_version] = version_current;
        header.type = type_executable;
        header.machine = machine_x86_64;
        header.version = version_current;
        header.entry = 0xffffffff80001010ull;
        header.program_header_offset = 64;
        header.header_size = 64;
        header.program_header_entry_size = sizeof(ProgramHeader);
        // Text at 0xffffffff80001000 from file offset 0x1000, data after it.
        segments.push_back({ segment_load, segment_readable | segment_executable, 0x1000, 0xffffffff80001000ull, 0x1000000, 0x800, 0x800, 0x1000 });
        segments.push_back({ segment_load, segment_readable | segment_writable, 0x2000, 0xffffffff80002000ull, 0x1001000, 0x400, 0x5000, 0x1000 });
    }

    std::vector<uint8_t> build()
    {
        header.program_header_count = static_cast<uint16_t>(segments.size());
        std::vector<uint8_t> bytes(file_size, 0);
        std::memcpy(bytes.data(), &header, sizeof(header));
        for (size_t i = 0; i < segments.size(); ++i)
            std::memcpy(bytes.data() + 64 + i * sizeof(ProgramHeader), &segments[i], sizeof(ProgramHeader));
        return bytes;
    }
};

ErrorOr<ExecutableLayout> check(ElfBuilder& builder, ImageType type = ImageType::Either)
{
    auto bytes = builder.build();
    return validate_executable(bytes, type);
}

std::string reason_of(ErrorOr<ExecutableLayout> const& result) { return result.is_error() ? result.error().reason() : "ok"; }

} // namespace

TEST(ElfExecutable, AcceptsAWellFormedImage)
{
    ElfBuilder builder;
    auto layout = MUST(check(builder));
    EXPECT_EQ(layout.type, type_executable);
    EXPECT_EQ(layout.entry, 0xffffffff80001010ull);
    ASSERT_EQ(layout.segment_count, 2u);
    EXPECT_EQ(layout.segments[1].memory_size, 0x5000u);
    EXPECT_EQ(layout.lowest_address, 0xffffffff80001000ull);
    EXPECT_EQ(layout.end_address, 0xffffffff80007000ull);
    EXPECT_FALSE(layout.segments_share_pages);
}

TEST(ElfExecutable, RejectsBrokenImages)
{
    struct Case {
        const char* what;
        void (*mutate)(ElfBuilder&);
        ErrorCode code;
    };
    const Case cases[] = {
        { "bad magic", [](ElfBuilder& b) { b.header.ident[1] = 'X'; }, ErrorCode::Corrupt },
        { "32-bit", [](ElfBuilder& b) { b.header.ident[ident_class] = 1; }, ErrorCode::Unsupported },
        { "big endian", [](ElfBuilder& b) { b.header.ident[ident_data] = 2; }, ErrorCode::Unsupported },
        { "wrong machine", [](ElfBuilder& b) { b.header.machine = 183; /* aarch64 */ }, ErrorCode::Unsupported },
        { "bad version", [](ElfBuilder& b) { b.header.version = 2; }, ErrorCode::Unsupported },
        { "relocatable", [](ElfBuilder& b) { b.header.type = 1; }, ErrorCode::Unsupported },
        { "tiny header size", [](ElfBuilder& b) { b.header.header_size = 40; }, ErrorCode::Corrupt },
        { "no program headers", [](ElfBuilder& b) { b.segments.clear(); }, ErrorCode::Corrupt },
        { "phentsize", [](ElfBuilder& b) { b.header.program_header_entry_size = 32; }, ErrorCode::Corrupt },
        { "phoff past end", [](ElfBuilder& b) { b.header.program_header_offset = 0x2ff0; }, ErrorCode::Corrupt },
        { "phoff huge", [](ElfBuilder& b) { b.header.program_header_offset = ~0ull - 10; }, ErrorCode::Corrupt },
        { "segment offset outside", [](ElfBuilder& b) { b.segments[0].offset = 0x2900; }, ErrorCode::Corrupt },
        { "segment size wraps", [](ElfBuilder& b) { b.segments[0].file_size = ~0ull - 0x500; b.segments[0].memory_size = ~0ull; }, ErrorCode::Corrupt },
        { "filesz > memsz", [](ElfBuilder& b) { b.segments[1].file_size = 0x800; b.segments[1].memory_size = 0x400; }, ErrorCode::Corrupt },
        { "address wraps", [](ElfBuilder& b) { b.segments[1].virtual_address = 0xfffffffffffff000ull; b.segments[1].offset = 0x2000; }, ErrorCode::Corrupt },
        { "non-canonical", [](ElfBuilder& b) { b.segments[1].virtual_address = 0x0000900000002000ull; }, ErrorCode::Corrupt },
        { "crosses canonical hole", [](ElfBuilder& b) { b.segments[1].virtual_address = 0x00007ffffffff000ull; }, ErrorCode::Corrupt },
        { "overlap", [](ElfBuilder& b) { b.segments[1].virtual_address = 0xffffffff80001000ull + 0x1000; b.segments[1].offset = 0x2000; b.segments[0].memory_size = 0x1800; }, ErrorCode::Corrupt },
        { "overlap contained", [](ElfBuilder& b) { b.segments[1].virtual_address = 0xffffffff80001000ull; b.segments[1].offset = 0x1000; }, ErrorCode::Corrupt },
        { "alignment not power of two", [](ElfBuilder& b) { b.segments[0].alignment = 0x3000; }, ErrorCode::Corrupt },
        { "offset/address misaligned", [](ElfBuilder& b) { b.segments[0].offset = 0x1100; b.segments[0].file_size = 0x100; }, ErrorCode::Corrupt },
        { "entry outside", [](ElfBuilder& b) { b.header.entry = 0xffffffff80002010ull; }, ErrorCode::Corrupt },
        { "entry zero", [](ElfBuilder& b) { b.header.entry = 0; }, ErrorCode::Corrupt },
        { "interpreter", [](ElfBuilder& b) { b.segments.push_back({ segment_interpreter, 4, 0x100, 0, 0, 0x10, 0x10, 1 }); }, ErrorCode::Unsupported },
        { "dynamic outside", [](ElfBuilder& b) { b.segments.push_back({ segment_dynamic, 4, 0x2f00, 0, 0, 0x200, 0x200, 8 }); }, ErrorCode::Corrupt },
        { "too many segments", [](ElfBuilder& b) {
             b.segments.clear();
             for (uint64_t i = 0; i < 17; ++i)
                 b.segments.push_back({ segment_load, 5, 0x1000, 0xffffffff80001000ull + i * 0x1000, 0, 0x100, 0x100, 0x1000 });
         },
            ErrorCode::Unsupported },
    };
    for (auto const& c : cases) {
        ElfBuilder builder;
        c.mutate(builder);
        auto result = check(builder);
        ASSERT_TRUE(result.is_error()) << c.what;
        EXPECT_EQ(result.error().code(), c.code) << c.what << ": " << reason_of(result);
    }
}

TEST(ElfExecutable, ChecksTheExpectedType)
{
    ElfBuilder builder;
    EXPECT_FALSE(check(builder, ImageType::Executable).is_error());
    EXPECT_EQ(check(builder, ImageType::PositionIndependent).error().code(), ErrorCode::Unsupported);
    builder.header.type = type_dynamic;
    EXPECT_FALSE(check(builder, ImageType::PositionIndependent).is_error());
    EXPECT_TRUE(check(builder, ImageType::Executable).is_error());
}

TEST(ElfExecutable, FlagsSegmentsSharingAPage)
{
    ElfBuilder builder;
    builder.segments[1].virtual_address = 0xffffffff80001800ull;
    builder.segments[1].offset = 0x1800;
    builder.segments[1].alignment = 0x800;
    auto layout = MUST(check(builder));
    EXPECT_TRUE(layout.segments_share_pages);
}

TEST(ElfExecutable, ZeroSizedLoadSegmentsAreIgnored)
{
    ElfBuilder builder;
    builder.segments.push_back({ segment_load, 4, 0x5000000, 0x100, 0, 0, 0, 0 });
    auto layout = MUST(check(builder));
    EXPECT_EQ(layout.segment_count, 2u);
}

TEST(ElfExecutable, RealExecutableFromTheHostCompiler)
{
    auto bytes = read_file(AISOS_ELF_SAMPLE_EXEC);
    auto layout = MUST(validate_executable(bytes, ImageType::Executable));
    EXPECT_EQ(layout.type, type_executable);
    EXPECT_GE(layout.segment_count, 2u);
    EXPECT_EQ(layout.dynamic_address, 0u);
    bool writable_with_bss = false;
    for (uint32_t i = 0; i < layout.segment_count; ++i) {
        if ((layout.segments[i].flags & segment_writable) && layout.segments[i].memory_size >= layout.segments[i].file_size + 4096)
            writable_with_bss = true;
    }
    EXPECT_TRUE(writable_with_bss); // sample_bss is 4 KiB of bss
    EXPECT_TRUE(validate_executable(bytes, ImageType::PositionIndependent).is_error());
}

TEST(ElfExecutable, RealStaticPieFromTheHostCompiler)
{
    auto bytes = read_file(AISOS_ELF_SAMPLE_PIE);
    auto layout = MUST(validate_executable(bytes, ImageType::PositionIndependent));
    EXPECT_EQ(layout.type, type_dynamic);
    EXPECT_NE(layout.dynamic_address, 0u);
    EXPECT_EQ(layout.lowest_address, 0u);
}

TEST(ElfExecutable, EveryTruncationOfARealFileIsHandled)
{
    auto bytes = read_file(AISOS_ELF_SAMPLE_EXEC);
    auto full = MUST(validate_executable(bytes));
    uint64_t needed = 0;
    for (uint32_t i = 0; i < full.segment_count; ++i)
        needed = std::max(needed, full.segments[i].file_offset + full.segments[i].file_size);
    for (size_t length = 0; length < bytes.size(); ++length) {
        // Copy so ASan sees reads past the truncated end.
        std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<long>(length));
        auto result = validate_executable(prefix);
        if (length < needed) {
            ASSERT_TRUE(result.is_error()) << length;
        }
    }
}

TEST(ElfExecutable, RandomCorruptionNeverCrashes)
{
    auto original = read_file(AISOS_ELF_SAMPLE_PIE);
    std::mt19937 rng(5);
    size_t rejected = 0;
    for (int round = 0; round < 3000; ++round) {
        auto bytes = original;
        int flips = 1 + static_cast<int>(rng() % 8);
        for (int i = 0; i < flips; ++i) {
            // Mostly hit the headers, where the interesting fields are.
            size_t at = rng() % 4 ? rng() % 0x200 : rng() % bytes.size();
            bytes[at] = static_cast<uint8_t>(rng());
        }
        auto result = validate_executable(bytes);
        if (result.is_error()) {
            ++rejected;
            EXPECT_NE(result.error().reason(), nullptr);
        }
        auto symbolizer = Symbolizer::create(bytes);
        if (!symbolizer.is_error())
            (void)symbolizer.value().symbolize(0x1010);
    }
    EXPECT_GT(rejected, 100u);
}

TEST(ElfSymbolizer, NamesFunctionsInARealExecutable)
{
    auto bytes = read_file(AISOS_ELF_SAMPLE_EXEC);
    auto symbolizer = MUST(Symbolizer::create(bytes));
    EXPECT_GT(symbolizer.symbol_count(), 3u);
    auto one = symbolizer.address_of("sample_function_one");
    auto two = symbolizer.address_of("sample_function_two");
    auto start = symbolizer.address_of("_start");
    ASSERT_TRUE(one && two && start);
    EXPECT_FALSE(symbolizer.address_of("sample_data").has_value()); // an object, not a function

    auto match = symbolizer.symbolize(*two + 5);
    ASSERT_TRUE(match.has_value());
    EXPECT_EQ(match->name, "sample_function_two");
    EXPECT_EQ(match->offset, 5u);
    EXPECT_EQ(match->address, *two);
    EXPECT_GT(match->size, 5u);
    EXPECT_EQ(symbolizer.symbolize(*one)->name, "sample_function_one");
    EXPECT_EQ(symbolizer.symbolize(*start)->offset, 0u);
    EXPECT_FALSE(symbolizer.symbolize(0x10).has_value());
    EXPECT_FALSE(symbolizer.symbolize(*start + 0x100000).has_value());
}

namespace {

// An ELF with just section headers, a symbol table and a string table.
struct SymbolFileBuilder {
    std::vector<Symbol> symbols { Symbol {} };
    std::string strings { std::string(1, '\0') };
    std::vector<SectionHeader> sections;

    void add(const char* name, uint8_t type, uint64_t value, uint64_t size, uint16_t section = 1)
    {
        Symbol s {};
        s.name = static_cast<uint32_t>(strings.size());
        strings += name;
        strings += '\0';
        s.info = type;
        s.section_index = section;
        s.value = value;
        s.size = size;
        symbols.push_back(s);
    }

    std::vector<uint8_t> build()
    {
        FileHeader header {};
        std::memcpy(header.ident, magic, 4);
        header.ident[ident_class] = class_64;
        header.ident[ident_data] = data_little_endian;
        header.ident[ident_version] = version_current;
        header.type = type_executable;
        header.machine = machine_x86_64;
        header.version = version_current;
        header.header_size = 64;
        size_t symbols_offset = 64;
        size_t strings_offset = symbols_offset + symbols.size() * sizeof(Symbol);
        size_t sections_offset = (strings_offset + strings.size() + 7) & ~size_t(7);
        sections.assign(3, SectionHeader {});
        sections[1].type = section_symtab;
        sections[1].offset = symbols_offset;
        sections[1].size = symbols.size() * sizeof(Symbol);
        sections[1].entry_size = sizeof(Symbol);
        sections[1].link = 2;
        sections[2].type = section_strtab;
        sections[2].offset = strings_offset;
        sections[2].size = strings.size();
        header.section_header_offset = sections_offset;
        header.section_header_count = 3;
        header.section_header_entry_size = sizeof(SectionHeader);
        std::vector<uint8_t> bytes(sections_offset + 3 * sizeof(SectionHeader));
        std::memcpy(bytes.data(), &header, sizeof(header));
        std::memcpy(bytes.data() + symbols_offset, symbols.data(), symbols.size() * sizeof(Symbol));
        std::memcpy(bytes.data() + strings_offset, strings.data(), strings.size());
        std::memcpy(bytes.data() + sections_offset, sections.data(), 3 * sizeof(SectionHeader));
        return bytes;
    }
};

template<typename T>
void poke(std::vector<uint8_t>& bytes, size_t offset, T value) { std::memcpy(bytes.data() + offset, &value, sizeof(T)); }

} // namespace

TEST(ElfSymbolizer, PrefersContainingFunctionsAndHandlesLabels)
{
    SymbolFileBuilder builder;
    builder.add("outer", symbol_function, 0x1000, 0x100);
    builder.add("inner_alias", symbol_function, 0x1040, 0x20);
    builder.add("isr_stub", symbol_function, 0x2000, 0);  // assembly label, no size
    builder.add("after_stub", symbol_function, 0x2100, 0x10);
    builder.add("a_variable", symbol_object, 0x3000, 0x100);
    builder.add("undefined", symbol_function, 0x4000, 0x100, section_index_undefined);
    auto bytes = builder.build();
    auto symbolizer = MUST(Symbolizer::create(bytes));
    EXPECT_EQ(symbolizer.symbolize(0x1010)->name, "outer");
    EXPECT_EQ(symbolizer.symbolize(0x1050)->name, "inner_alias");
    EXPECT_EQ(symbolizer.symbolize(0x1050)->offset, 0x10u);
    EXPECT_EQ(symbolizer.symbolize(0x10ff)->name, "outer");
    EXPECT_FALSE(symbolizer.symbolize(0x1100).has_value()); // past outer, before the label
    EXPECT_EQ(symbolizer.symbolize(0x2040)->name, "isr_stub");
    EXPECT_EQ(symbolizer.symbolize(0x2040)->size, 0u);
    EXPECT_EQ(symbolizer.symbolize(0x2105)->name, "after_stub");
    // after_stub ends at 0x2110: the label before it must not claim 0x2200.
    EXPECT_FALSE(symbolizer.symbolize(0x2200).has_value());
    EXPECT_FALSE(symbolizer.symbolize(0x3010).has_value());
    EXPECT_FALSE(symbolizer.symbolize(0x4010).has_value());
}

TEST(ElfSymbolizer, RejectsCorruptSectionTables)
{
    SymbolFileBuilder builder;
    builder.add("f", symbol_function, 0x1000, 0x10);
    auto good = builder.build();
    MUST(Symbolizer::create(good));
    size_t shoff = offsetof(FileHeader, section_header_offset);
    uint64_t table;
    std::memcpy(&table, good.data() + shoff, 8);
    size_t symtab = table + sizeof(SectionHeader);
    size_t strtab = table + 2 * sizeof(SectionHeader);

    auto expect_error = [&](auto mutate, ErrorCode code, const char* what) {
        auto bytes = good;
        mutate(bytes);
        auto result = Symbolizer::create(bytes);
        ASSERT_TRUE(result.is_error()) << what;
        EXPECT_EQ(result.error().code(), code) << what << ": " << result.error().reason();
    };
    expect_error([&](auto& b) { poke<uint64_t>(b, shoff, b.size() - 10); }, ErrorCode::Corrupt, "section table outside");
    expect_error([&](auto& b) { poke<uint64_t>(b, shoff, ~0ull - 100); }, ErrorCode::Corrupt, "section table offset huge");
    expect_error([&](auto& b) { poke<uint16_t>(b, offsetof(FileHeader, section_header_entry_size), 40); }, ErrorCode::Corrupt, "shentsize");
    expect_error([&](auto& b) { poke<uint16_t>(b, offsetof(FileHeader, section_header_count), 0); }, ErrorCode::NotFound, "no sections");
    expect_error([&](auto& b) { poke<uint32_t>(b, symtab + offsetof(SectionHeader, link), 7); }, ErrorCode::Corrupt, "link out of range");
    expect_error([&](auto& b) { poke<uint32_t>(b, symtab + offsetof(SectionHeader, link), 1); }, ErrorCode::Corrupt, "link to non-strtab");
    expect_error([&](auto& b) { poke<uint64_t>(b, symtab + offsetof(SectionHeader, size), 25); }, ErrorCode::Corrupt, "symtab size");
    expect_error([&](auto& b) { poke<uint64_t>(b, symtab + offsetof(SectionHeader, offset), ~0ull - 8); }, ErrorCode::Corrupt, "symtab offset");
    expect_error([&](auto& b) { poke<uint64_t>(b, symtab + offsetof(SectionHeader, entry_size), 16); }, ErrorCode::Corrupt, "symtab entsize");
    expect_error([&](auto& b) { poke<uint64_t>(b, strtab + offsetof(SectionHeader, size), 1ull << 40); }, ErrorCode::Corrupt, "strtab size");
    expect_error([&](auto& b) { poke<uint32_t>(b, symtab + offsetof(SectionHeader, type), 1); }, ErrorCode::NotFound, "stripped");

    // A name offset past the string table, and an unterminated name, give no match.
    auto bytes = good;
    poke<uint32_t>(bytes, 64 + sizeof(Symbol), 1000);
    auto symbolizer = MUST(Symbolizer::create(bytes));
    EXPECT_FALSE(symbolizer.symbolize(0x1004).has_value());
    bytes = good;
    poke<uint64_t>(bytes, strtab + offsetof(SectionHeader, size), 2); // "\0f\0" becomes "\0f": unterminated
    auto cut = MUST(Symbolizer::create(bytes));
    EXPECT_FALSE(cut.symbolize(0x1004).has_value());
}
