// Static-PIE modules: validate_module and the RELA/RELR relocations, on real
// lld output (tests/unit/rpk/module_sample) and on mutations of it.
#include "lib/elf/Elf64.h"
#include "lib/elf/Relocations.h"
#include "tests/unit/rpk/RpkTestSupport.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <string>

using namespace aisos;
using namespace aisos::elf;
using aisos::rpk::test::read_file;

namespace {

constexpr int32_t marker_base = 0x5a0000a0; // module.c: markers[k] == marker_base + k

std::vector<uint8_t> rela_sample() { return read_file(AISOS_RPK_SAMPLE_RELA); }
std::vector<uint8_t> relr_sample() { return read_file(AISOS_RPK_SAMPLE_RELR); }

template<typename T>
T get(const std::vector<uint8_t>& bytes, uint64_t offset)
{
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}

template<typename T>
void put(std::vector<uint8_t>& bytes, uint64_t offset, const T& value)
{
    std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

FileHeader header_of(const std::vector<uint8_t>& bytes) { return get<FileHeader>(bytes, 0); }

uint64_t program_header_offset(const std::vector<uint8_t>& bytes, uint32_t index)
{
    return header_of(bytes).program_header_offset + uint64_t(index) * sizeof(ProgramHeader);
}

// Index of the n-th program header of `type` (optionally with `flags`).
uint32_t find_program_header(const std::vector<uint8_t>& bytes, uint32_t type, int nth = 0, uint32_t flags = ~0u)
{
    auto header = header_of(bytes);
    for (uint32_t i = 0; i < header.program_header_count; ++i) {
        auto ph = get<ProgramHeader>(bytes, program_header_offset(bytes, i));
        if (ph.type == type && (flags == ~0u || ph.flags == flags) && nth-- == 0)
            return i;
    }
    ADD_FAILURE() << "no program header of type " << type;
    return 0;
}

ProgramHeader program_header(const std::vector<uint8_t>& bytes, uint32_t index) { return get<ProgramHeader>(bytes, program_header_offset(bytes, index)); }

template<typename Change>
void change_program_header(std::vector<uint8_t>& bytes, uint32_t index, Change change)
{
    auto ph = program_header(bytes, index);
    change(ph);
    put(bytes, program_header_offset(bytes, index), ph);
}

// File offset of a virtual address in the original file (PT_LOAD mapping).
uint64_t file_offset(const std::vector<uint8_t>& bytes, uint64_t address)
{
    auto header = header_of(bytes);
    for (uint32_t i = 0; i < header.program_header_count; ++i) {
        auto ph = program_header(bytes, i);
        if (ph.type == segment_load && address >= ph.virtual_address && address < ph.virtual_address + ph.file_size)
            return ph.offset + (address - ph.virtual_address);
    }
    ADD_FAILURE() << "address not in the file: " << address;
    return 0;
}

// File offset of the dynamic entry with `tag` (the first one).
uint64_t dynamic_entry_offset(const std::vector<uint8_t>& bytes, int64_t tag)
{
    auto dynamic = program_header(bytes, find_program_header(bytes, segment_dynamic));
    for (uint64_t at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.file_size; at += 16) {
        if (get<DynamicEntry>(bytes, at).tag == tag)
            return at;
    }
    ADD_FAILURE() << "no dynamic tag " << tag;
    return 0;
}

uint64_t dynamic_value(const std::vector<uint8_t>& bytes, int64_t tag) { return get<DynamicEntry>(bytes, dynamic_entry_offset(bytes, tag)).value; }

// An entry lld emits that the kernel ignores, so a test can retag it.
uint64_t spare_dynamic_entry(const std::vector<uint8_t>& bytes)
{
    constexpr int64_t debug = 21; // DT_DEBUG
    return dynamic_entry_offset(bytes, debug);
}

uint64_t first_rela_offset(const std::vector<uint8_t>& bytes) { return file_offset(bytes, dynamic_value(bytes, dynamic_rela)); }

std::string refusal(const std::vector<uint8_t>& bytes, uint64_t max_span = max_module_span)
{
    auto result = validate_module(bytes, max_span);
    if (!result.is_error())
        return "(accepted)";
    return result.error().reason();
}

// A simulated load: segments copied into a flat buffer standing for the
// module's address space (link address a lives at memory[a]), then the
// relocations applied through the callback as the kernel does.
struct Loaded {
    ModuleImage module;
    std::vector<uint8_t> memory;
    std::map<uint64_t, uint64_t> writes; // link address -> value
};

Loaded load(const std::vector<uint8_t>& bytes, uint64_t base)
{
    Loaded loaded { MUST(validate_module(bytes)), {}, {} };
    auto const& layout = loaded.module.layout;
    loaded.memory.assign(layout.end_address, 0);
    for (uint32_t i = 0; i < layout.segment_count; ++i) {
        auto const& segment = layout.segments[i];
        std::memcpy(loaded.memory.data() + segment.virtual_address, bytes.data() + segment.file_offset, segment.file_size);
    }
    auto write = [&](uint64_t address, uint64_t value) -> ErrorOr<void> {
        EXPECT_EQ(address % 8, 0u);
        EXPECT_LE(address + 8, loaded.memory.size());
        EXPECT_EQ(loaded.writes.count(address), 0u) << "slot written twice";
        loaded.writes[address] = value;
        std::memcpy(loaded.memory.data() + address, &value, 8);
        return {};
    };
    MUST(apply_relocations(loaded.module.relocations, bytes, base, write));
    return loaded;
}

const LoadSegment* segment_at(const ExecutableLayout& layout, uint64_t address)
{
    for (uint32_t i = 0; i < layout.segment_count; ++i) {
        auto const& segment = layout.segments[i];
        if (address >= segment.virtual_address && address - segment.virtual_address < segment.memory_size)
            return &segment;
    }
    return nullptr;
}

// Follows every relocated pointer of module.c and checks where it lands.
void check_sample_relocations(const std::vector<uint8_t>& bytes, uint64_t base)
{
    auto loaded = load(bytes, base);
    auto const& layout = loaded.module.layout;
    // pointers[0..4], handlers[0], message; pointers[5] and handlers[1] are null.
    EXPECT_EQ(loaded.module.relocations.relocation_count, 7u);
    ASSERT_EQ(loaded.writes.size(), 7u);
    int markers_seen[4] = {};
    int functions = 0, messages = 0, to_bss = 0;
    for (auto [address, value] : loaded.writes) {
        auto slot_segment = segment_at(layout, address);
        ASSERT_NE(slot_segment, nullptr);
        EXPECT_TRUE(slot_segment->flags & segment_writable);
        ASSERT_GE(value, base) << "relocated value below the load base";
        uint64_t target = value - base;
        auto target_segment = segment_at(layout, target);
        ASSERT_NE(target_segment, nullptr) << "pointer to " << target << " leads outside the image";
        if (target_segment->flags & segment_executable) {
            EXPECT_EQ(target_segment->flags & segment_writable, 0u);
            ++functions;
            continue;
        }
        if (target + 18 <= loaded.memory.size() && std::memcmp(loaded.memory.data() + target, "rpk-sample-message", 18) == 0) {
            ++messages;
            continue;
        }
        int32_t marker;
        std::memcpy(&marker, loaded.memory.data() + target, 4);
        if (marker >= marker_base && marker < marker_base + 4)
            ++markers_seen[marker - marker_base];
        else if (marker == 0 && target >= target_segment->virtual_address + target_segment->file_size)
            ++to_bss; // &counter, a zeroed static
        else
            ADD_FAILURE() << "relocated pointer to " << target << " holds " << marker;
    }
    for (int k = 0; k < 4; ++k)
        EXPECT_EQ(markers_seen[k], 1) << k;
    EXPECT_EQ(functions, 1);
    EXPECT_EQ(messages, 1);
    EXPECT_EQ(to_bss, 1);
}

} // namespace

TEST(RpkStaticPie, RealRelaSampleIsAValidModule)
{
    auto bytes = rela_sample();
    auto module = MUST(validate_module(bytes));
    EXPECT_EQ(module.layout.type, type_dynamic);
    EXPECT_EQ(module.layout.lowest_address, 0u);
    EXPECT_GT(module.relocations.rela_count, 0u);
    EXPECT_EQ(module.relocations.relr_words, 0u);
}

TEST(RpkStaticPie, RealRelrSampleIsAValidModule)
{
    auto bytes = relr_sample();
    auto module = MUST(validate_module(bytes));
    EXPECT_EQ(module.relocations.rela_count, 0u);
    EXPECT_GT(module.relocations.relr_words, 0u);
    // RELR packs the five consecutive pointers[] slots into a bitmap.
    EXPECT_LT(module.relocations.relr_words, module.relocations.relocation_count);
}

TEST(RpkStaticPie, RelaRelocationsLandWhereTheyShould)
{
    auto bytes = rela_sample();
    for (uint64_t base : { 0x0ull, 0x400000ull, 0x7f0000000000ull })
        check_sample_relocations(bytes, base);
}

TEST(RpkStaticPie, RelrRelocationsLandWhereTheyShould)
{
    auto bytes = relr_sample();
    for (uint64_t base : { 0x0ull, 0x400000ull, 0x7f0000000000ull })
        check_sample_relocations(bytes, base);
}

TEST(RpkStaticPie, RelaValuesAreBasePlusAddend)
{
    auto bytes = rela_sample();
    auto loaded = load(bytes, 0x10000000);
    auto const& plan = loaded.module.relocations;
    for (uint64_t i = 0; i < plan.rela_count; ++i) {
        auto rela = get<RelocationWithAddend>(bytes, plan.rela_file_offset + i * 24);
        ASSERT_EQ(loaded.writes.count(rela.offset), 1u);
        EXPECT_EQ(loaded.writes[rela.offset], 0x10000000 + uint64_t(rela.addend));
    }
}

TEST(RpkStaticPie, WriteErrorsStopApplying)
{
    auto bytes = rela_sample();
    auto module = MUST(validate_module(bytes));
    int calls = 0;
    auto failing = [&](uint64_t, uint64_t) -> ErrorOr<void> {
        ++calls;
        return Error { ErrorCode::IoError, "page not mapped" };
    };
    auto result = apply_relocations(module.relocations, bytes, 0x1000, failing);
    ASSERT_TRUE(result.is_error());
    EXPECT_STREQ(result.error().reason(), "page not mapped");
    EXPECT_EQ(calls, 1);
}

TEST(RpkStaticPie, APlanAppliedToOtherBytesFailsCleanly)
{
    auto bytes = rela_sample();
    auto module = MUST(validate_module(bytes));
    int calls = 0;
    auto count = [&](uint64_t, uint64_t) -> ErrorOr<void> {
        ++calls;
        return {};
    };
    // Shorter bytes: the table no longer fits.
    std::vector<uint8_t> short_bytes(bytes.begin(), bytes.begin() + long(module.relocations.rela_file_offset + 10));
    EXPECT_STREQ(apply_relocations(module.relocations, short_bytes, 0, count).error().reason(), "RELA relocation table lies outside the file");
    // Same size, different relocation: re-checked before writing.
    auto changed = bytes;
    auto rela = get<RelocationWithAddend>(changed, module.relocations.rela_file_offset);
    rela.offset = module.layout.entry & ~7ull;
    put(changed, module.relocations.rela_file_offset, rela);
    EXPECT_STREQ(apply_relocations(module.relocations, changed, 0, count).error().reason(), "relocation target lies outside every writable segment");
    EXPECT_EQ(calls, 0);
}

TEST(RpkStaticPie, ExecutableTypeIsRefused)
{
    auto bytes = rela_sample();
    auto header = header_of(bytes);
    header.type = type_executable;
    put(bytes, 0, header);
    EXPECT_EQ(refusal(bytes), "ELF file has the wrong type (executable vs position-independent)");
}

TEST(RpkStaticPie, OverlappingSegmentsAreRefused)
{
    auto bytes = rela_sample();
    auto text = program_header(bytes, find_program_header(bytes, segment_load, 1));
    change_program_header(bytes, find_program_header(bytes, segment_load, 2), [&](ProgramHeader& ph) {
        ph.virtual_address = text.virtual_address;
        ph.alignment = 1;
    });
    EXPECT_EQ(refusal(bytes), "ELF segments overlap");
}

TEST(RpkStaticPie, OutOfRangeOffsetsAreRefused)
{
    auto original = rela_sample();
    auto bytes = original;
    change_program_header(bytes, find_program_header(bytes, segment_load, 1), [&](ProgramHeader& ph) { ph.offset = original.size(); });
    EXPECT_EQ(refusal(bytes), "ELF segment data lies outside the file");
    bytes = original;
    change_program_header(bytes, find_program_header(bytes, segment_load, 1), [&](ProgramHeader& ph) { ph.file_size = ~0ull - 4; ph.memory_size = ~0ull - 4; });
    EXPECT_EQ(refusal(bytes), "ELF segment data lies outside the file");
    bytes = original;
    auto header = header_of(bytes);
    header.program_header_offset = original.size() - 8;
    put(bytes, 0, header);
    EXPECT_EQ(refusal(bytes), "ELF program header table lies outside the file");
}

TEST(RpkStaticPie, MemorySizeBelowFileSizeIsRefused)
{
    auto bytes = rela_sample();
    change_program_header(bytes, find_program_header(bytes, segment_load, 1), [&](ProgramHeader& ph) { ph.memory_size = ph.file_size - 1; });
    EXPECT_EQ(refusal(bytes), "ELF segment file size exceeds its memory size");
}

TEST(RpkStaticPie, HugeMemorySizeIsRefused)
{
    auto original = rela_sample();
    uint32_t last = find_program_header(original, segment_load, 3);
    auto bytes = original;
    change_program_header(bytes, last, [&](ProgramHeader& ph) { ph.memory_size = 2ull << 30; });
    EXPECT_EQ(refusal(bytes), "module segments span more memory than allowed");
    // The same image passes with a larger allowance, and the small one fails
    // a tighter limit: the check is the span, not a fixed size.
    EXPECT_EQ(refusal(bytes, 4ull << 30), "(accepted)");
    EXPECT_EQ(refusal(original, 4096), "module segments span more memory than allowed");
    bytes = original;
    change_program_header(bytes, last, [&](ProgramHeader& ph) { ph.memory_size = ~0ull - ph.virtual_address; });
    EXPECT_NE(refusal(bytes), "(accepted)");
}

TEST(RpkStaticPie, ModulesLinkedFarFromZeroAreRefused)
{
    auto bytes = rela_sample();
    auto header = header_of(bytes);
    for (uint32_t i = 0; i < header.program_header_count; ++i)
        change_program_header(bytes, i, [&](ProgramHeader& ph) { ph.virtual_address += 0x100000000ull; });
    header.entry += 0x100000000ull;
    put(bytes, 0, header);
    EXPECT_EQ(refusal(bytes), "module is not linked near address 0 (lowest segment address too high)");
}

TEST(RpkStaticPie, WritableAndExecutableSegmentIsRefused)
{
    auto bytes = rela_sample();
    change_program_header(bytes, find_program_header(bytes, segment_load, 0, segment_readable | segment_executable), [](ProgramHeader& ph) { ph.flags |= segment_writable; });
    EXPECT_EQ(refusal(bytes), "module has a segment that is both writable and executable");
}

TEST(RpkStaticPie, SegmentsWithDifferentPermissionsMayNotSharePages)
{
    auto bytes = rela_sample();
    // Move the RW data segment onto the page right after the text's start.
    auto text = program_header(bytes, find_program_header(bytes, segment_load, 1));
    change_program_header(bytes, find_program_header(bytes, segment_load, 2), [&](ProgramHeader& ph) {
        ph.virtual_address = text.virtual_address + text.memory_size + 8;
        ph.alignment = 1;
    });
    EXPECT_EQ(refusal(bytes), "module segments with different permissions share a page (link with -z separate-loadable-segments)");
}

TEST(RpkStaticPie, EntryOutsideTextIsRefused)
{
    auto original = rela_sample();
    uint64_t data_address = program_header(original, find_program_header(original, segment_load, 2)).virtual_address;
    for (uint64_t entry : { uint64_t(0), uint64_t(0x10), data_address, uint64_t(0x7fffffff) }) {
        auto bytes = original;
        auto header = header_of(bytes);
        header.entry = entry;
        put(bytes, 0, header);
        EXPECT_EQ(refusal(bytes), "ELF entry point is not inside an executable segment") << entry;
    }
}

TEST(RpkStaticPie, DynamicTagsThatNeedALinkerAreRefused)
{
    auto original = rela_sample();
    struct Case {
        int64_t tag;
        uint64_t value;
        const char* reason;
    } cases[] = {
        { dynamic_needed, 1, "module needs a shared library (DT_NEEDED); link it statically" },
        { dynamic_text_relocations, 0, "module has text relocations (DT_TEXTREL)" },
        { dynamic_flags, dynamic_flag_text_relocations, "module has text relocations (DF_TEXTREL)" },
        { dynamic_plt_relocation_size, 24, "module has PLT relocations (DT_PLTRELSZ); link it as a static PIE" },
        { dynamic_rel, 0x100, "module has REL relocations (DT_REL); x86_64 modules use RELA" },
        { dynamic_rela_entry, 24, "ELF dynamic section repeats a relocation tag" },
    };
    for (auto const& test_case : cases) {
        auto bytes = original;
        put(bytes, spare_dynamic_entry(bytes), DynamicEntry { test_case.tag, test_case.value });
        EXPECT_EQ(refusal(bytes), test_case.reason) << test_case.tag;
    }
    // A zero DT_PLTRELSZ and DT_FLAGS without DF_TEXTREL are harmless.
    auto bytes = original;
    put(bytes, spare_dynamic_entry(bytes), DynamicEntry { dynamic_plt_relocation_size, 0 });
    EXPECT_EQ(refusal(bytes), "(accepted)");
    bytes = original;
    put(bytes, spare_dynamic_entry(bytes), DynamicEntry { dynamic_flags, 8 });
    EXPECT_EQ(refusal(bytes), "(accepted)");
}

TEST(RpkStaticPie, RelaTableFieldsAreChecked)
{
    auto original = rela_sample();
    auto with_value = [&](int64_t tag, uint64_t value) {
        auto bytes = original;
        put(bytes, dynamic_entry_offset(bytes, tag), DynamicEntry { tag, value });
        return refusal(bytes);
    };
    uint64_t size = dynamic_value(original, dynamic_rela_size);
    EXPECT_EQ(with_value(dynamic_rela_entry, 16), "ELF DT_RELAENT is not 24");
    EXPECT_EQ(with_value(dynamic_rela_size, size + 1), "ELF DT_RELASZ is not a multiple of 24");
    EXPECT_EQ(with_value(dynamic_rela_size, size + 24 * 1000), "RELA relocation table does not lie inside a loadable segment's file bytes");
    EXPECT_EQ(with_value(dynamic_rela_size, 24ull * (max_relocations + 1)), "module has more than 4 million RELA relocations");
    EXPECT_EQ(with_value(dynamic_rela, 0x7fff0000), "RELA relocation table does not lie inside a loadable segment's file bytes");
    EXPECT_EQ(with_value(dynamic_rela, ~0ull - 8), "RELA relocation table does not lie inside a loadable segment's file bytes");
    // Without DT_RELA, or without its size.
    auto bytes = original;
    put(bytes, dynamic_entry_offset(bytes, dynamic_rela), DynamicEntry { 21, 0 });
    EXPECT_EQ(refusal(bytes), "ELF dynamic section has DT_RELASZ without DT_RELA");
    bytes = original;
    put(bytes, dynamic_entry_offset(bytes, dynamic_rela_size), DynamicEntry { 21, 0 });
    EXPECT_EQ(refusal(bytes), "ELF dynamic section has DT_RELA without DT_RELASZ");
    // An empty table is no table.
    EXPECT_EQ(with_value(dynamic_rela_size, 0), "(accepted)");
}

TEST(RpkStaticPie, OnlyRelativeRelocationsAreAccepted)
{
    auto original = rela_sample();
    uint64_t at = first_rela_offset(original);
    for (uint32_t type : { 1u, 6u, 7u, 37u, 42u, 43u, 0x7fffffffu }) {
        auto bytes = original;
        auto rela = get<RelocationWithAddend>(bytes, at);
        rela.info = type;
        put(bytes, at, rela);
        auto reason = refusal(bytes);
        EXPECT_NE(reason.find("only R_X86_64_RELATIVE"), std::string::npos) << reason;
        if (type <= 42) {
            EXPECT_TRUE(reason.starts_with("relocation type " + std::to_string(type) + " ")) << reason;
        }
    }
    auto bytes = original;
    auto rela = get<RelocationWithAddend>(bytes, at);
    rela.info = 7;
    put(bytes, at, rela);
    EXPECT_EQ(refusal(bytes), "relocation type 7 (R_X86_64_JUMP_SLOT) is not supported (only R_X86_64_RELATIVE)");
    EXPECT_EQ(validate_module(bytes).error().code(), ErrorCode::Unsupported);
    rela.info = (uint64_t(3) << 32) | relocation_x86_64_relative;
    put(bytes, at, rela);
    EXPECT_EQ(refusal(bytes), "R_X86_64_RELATIVE relocation names a symbol");
}

TEST(RpkStaticPie, RelocationTargetsMustBeWritableSlots)
{
    auto original = rela_sample();
    auto module = MUST(validate_module(original));
    uint64_t at = first_rela_offset(original);
    auto const& layout = module.layout;
    uint64_t text_address = layout.entry & ~7ull;
    uint64_t writable_end = 0;
    uint64_t read_only = ~0ull;
    for (uint32_t i = 0; i < layout.segment_count; ++i) {
        auto const& segment = layout.segments[i];
        if (segment.flags & segment_writable)
            writable_end = std::max(writable_end, segment.virtual_address + segment.memory_size);
        else if (!(segment.flags & segment_executable))
            read_only = segment.virtual_address;
    }
    struct Case {
        uint64_t target;
        const char* reason;
    } cases[] = {
        { text_address, "relocation target lies outside every writable segment" },
        { read_only, "relocation target lies outside every writable segment" },
        { (writable_end + 7) & ~7ull, "relocation target lies outside every writable segment" },
        { 0x7fffffff0000ull, "relocation target lies outside every writable segment" },
        { ~0ull - 7, "relocation target lies outside every writable segment" },
        { get<RelocationWithAddend>(original, at).offset + 4, "relocation target is not 8-byte aligned" },
    };
    for (auto const& test_case : cases) {
        auto bytes = original;
        auto rela = get<RelocationWithAddend>(bytes, at);
        rela.offset = test_case.target;
        put(bytes, at, rela);
        EXPECT_EQ(refusal(bytes), test_case.reason) << test_case.target;
    }
}

TEST(RpkStaticPie, TruncatedOrMisplacedDynamicSectionIsRefused)
{
    auto original = rela_sample();
    uint32_t dynamic = find_program_header(original, segment_dynamic);
    // Cut the dynamic section short, before its DT_NULL.
    for (uint64_t size : { 16ull, 32ull, 48ull }) {
        auto bytes = original;
        change_program_header(bytes, dynamic, [&](ProgramHeader& ph) { ph.file_size = size; ph.memory_size = size; });
        EXPECT_EQ(refusal(bytes), "ELF dynamic section is truncated (no DT_NULL)") << size;
    }
    auto bytes = original;
    change_program_header(bytes, dynamic, [&](ProgramHeader& ph) { ph.file_size = 8; });
    EXPECT_EQ(refusal(bytes), "ELF dynamic section does not lie inside a loadable segment's file bytes");
    bytes = original;
    change_program_header(bytes, dynamic, [&](ProgramHeader& ph) { ph.virtual_address = 0x7fff0000; });
    EXPECT_EQ(refusal(bytes), "ELF dynamic section does not lie inside a loadable segment's file bytes");
    bytes = original;
    change_program_header(bytes, dynamic, [&](ProgramHeader& ph) { ph.file_size = 1ull << 20; });
    EXPECT_EQ(refusal(bytes), "ELF dynamic segment lies outside the file");
    // No DT_NULL at all: every entry retagged as harmless.
    bytes = original;
    auto ph = program_header(bytes, dynamic);
    for (uint64_t entry = ph.offset; entry < ph.offset + ph.file_size; entry += 16) {
        if (get<DynamicEntry>(bytes, entry).tag == dynamic_null)
            put(bytes, entry, DynamicEntry { 21, 0 });
    }
    EXPECT_EQ(refusal(bytes), "ELF dynamic section is truncated (no DT_NULL)");
}

TEST(RpkStaticPie, RelrTableFieldsAreChecked)
{
    auto original = relr_sample();
    auto with_value = [&](int64_t tag, uint64_t value) {
        auto bytes = original;
        put(bytes, dynamic_entry_offset(bytes, tag), DynamicEntry { tag, value });
        return refusal(bytes);
    };
    uint64_t size = dynamic_value(original, dynamic_relr_size);
    EXPECT_EQ(with_value(dynamic_relr_entry, 16), "ELF DT_RELRENT is not 8");
    EXPECT_EQ(with_value(dynamic_relr_size, size + 4), "ELF DT_RELRSZ is not a multiple of 8");
    EXPECT_EQ(with_value(dynamic_relr_size, size + 8 * 100000), "RELR relocation table does not lie inside a loadable segment's file bytes");
    EXPECT_EQ(with_value(dynamic_relr, 0x7fff0000), "RELR relocation table does not lie inside a loadable segment's file bytes");

    uint64_t table = file_offset(original, dynamic_value(original, dynamic_relr));
    uint64_t first = get<uint64_t>(original, table);
    ASSERT_EQ(first & 1, 0u);
    // A bitmap before any address.
    auto bytes = original;
    put<uint64_t>(bytes, table, 0x3);
    EXPECT_EQ(refusal(bytes), "RELR table starts with a bitmap instead of an address");
    // An address in the text, an odd-but-even address, a bitmap reaching past
    // the writable segment.
    bytes = original;
    put<uint64_t>(bytes, table, MUST(validate_module(original)).layout.entry & ~7ull);
    EXPECT_EQ(refusal(bytes), "relocation target lies outside every writable segment");
    bytes = original;
    put<uint64_t>(bytes, table, first + 4);
    EXPECT_EQ(refusal(bytes), "relocation target is not 8-byte aligned");
    if (size >= 16) {
        bytes = original;
        put<uint64_t>(bytes, table + 8, ~0ull);
        EXPECT_EQ(refusal(bytes), "relocation target lies outside every writable segment");
    }
}

TEST(RpkStaticPie, RelrBitmapsDecodeAsSpecified)
{
    // A hand-made plan over a synthetic image: one writable segment of 64
    // slots at 0x1000, RELR table in the file after it.
    std::vector<uint8_t> image(0x200 + 64 * 8 + 3 * 8, 0);
    RelocationPlan plan;
    plan.segment_count = 1;
    plan.segments[0] = { 0x200, 64 * 8, 0x1000, 0x1000, 64 * 8 + 64, 8, segment_readable | segment_writable };
    for (uint64_t i = 0; i < 64; ++i)
        put<uint64_t>(image, 0x200 + i * 8, 0x100 * i); // stored addends
    uint64_t table = 0x200 + 64 * 8;
    put<uint64_t>(image, table, 0x1000 + 8 * 2);                  // slot 2
    put<uint64_t>(image, table + 8, (1ull << 1) | (1ull << 5) | 1); // slots 3 and 7
    put<uint64_t>(image, table + 16, (1ull << 63) | 1);            // slot 3 + 63 + 62 = 128: past the file bytes
    plan.relr_file_offset = table;
    plan.relr_words = 2;
    std::map<uint64_t, uint64_t> writes;
    auto record = [&](uint64_t address, uint64_t value) -> ErrorOr<void> {
        writes[address] = value;
        return {};
    };
    MUST(apply_relocations(plan, image, 0x50000, record));
    std::map<uint64_t, uint64_t> expected = { { 0x1010, 0x50200 }, { 0x1018, 0x50300 }, { 0x1038, 0x50700 } };
    EXPECT_EQ(writes, expected);
    // The third word reaches slot 3 + 63 + 62 = 128, beyond the 72 slots of memory.
    writes.clear();
    plan.relr_words = 3;
    EXPECT_STREQ(apply_relocations(plan, image, 0, record).error().reason(), "relocation target lies outside every writable segment");
    // Slots in the segment's bss (past its file size) hold zero.
    plan.relr_words = 1;
    put<uint64_t>(image, table, 0x1000 + 64 * 8);
    writes.clear();
    MUST(apply_relocations(plan, image, 0x9000, record));
    EXPECT_EQ(writes, (std::map<uint64_t, uint64_t> { { 0x1200, 0x9000 } }));
}

TEST(RpkStaticPie, ImagesWithoutDynamicSectionHaveNothingToRelocate)
{
    auto bytes = rela_sample();
    change_program_header(bytes, find_program_header(bytes, segment_dynamic), [](ProgramHeader& ph) { ph.type = segment_null; });
    auto module = MUST(validate_module(bytes));
    EXPECT_EQ(module.relocations.relocation_count, 0u);
    int calls = 0;
    auto count = [&](uint64_t, uint64_t) -> ErrorOr<void> {
        ++calls;
        return {};
    };
    MUST(apply_relocations(module.relocations, bytes, 0x1000, count));
    EXPECT_EQ(calls, 0);
}

TEST(RpkStaticPie, EveryTruncationIsHandled)
{
    for (auto const& original : { rela_sample(), relr_sample() }) {
        for (size_t length = 0; length < original.size(); ++length) {
            std::vector<uint8_t> prefix(original.begin(), original.begin() + long(length));
            auto result = validate_module(prefix);
            // The section headers sit at the end and are not needed; anything
            // that cuts into a segment must fail.
            if (length < 0x400) {
                ASSERT_TRUE(result.is_error()) << length;
            }
        }
    }
}

TEST(RpkStaticPie, RandomCorruptionNeverWritesOutOfBounds)
{
    auto original = rela_sample();
    std::mt19937 rng(11);
    size_t rejected = 0, accepted = 0;
    for (int round = 0; round < 3000; ++round) {
        auto bytes = original;
        int flips = 1 + int(rng() % 6);
        for (int i = 0; i < flips; ++i) {
            // Aim mostly at headers, dynamic section and relocations.
            size_t at = rng() % 3 ? rng() % std::min<size_t>(bytes.size(), 0x600) : rng() % bytes.size();
            bytes[at] = uint8_t(rng());
        }
        auto result = validate_module(bytes);
        if (result.is_error()) {
            ++rejected;
            continue;
        }
        ++accepted;
        auto const& module = result.value();
        auto check = [&](uint64_t address, uint64_t) -> ErrorOr<void> {
            auto segment = segment_at(module.layout, address);
            EXPECT_TRUE(segment && (segment->flags & segment_writable) && address + 8 <= segment->virtual_address + segment->memory_size);
            return {};
        };
        MUST(apply_relocations(module.relocations, bytes, 0x400000, check));
    }
    EXPECT_GT(rejected, 100u);
    EXPECT_GT(accepted, 10u);
}
