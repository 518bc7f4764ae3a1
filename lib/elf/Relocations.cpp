#include "lib/elf/Relocations.h"

namespace aisos::elf {

namespace {

// Error reasons are static strings, so the type number is spelled out here.
constexpr const char* unsupported_type_reasons[] = {
    "relocation type 0 (R_X86_64_NONE) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 1 (R_X86_64_64) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 2 (R_X86_64_PC32) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 3 (R_X86_64_GOT32) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 4 (R_X86_64_PLT32) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 5 (R_X86_64_COPY) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 6 (R_X86_64_GLOB_DAT) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 7 (R_X86_64_JUMP_SLOT) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 8 (R_X86_64_RELATIVE) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 9 (R_X86_64_GOTPCREL) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 10 (R_X86_64_32) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 11 (R_X86_64_32S) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 12 (R_X86_64_16) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 13 (R_X86_64_PC16) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 14 (R_X86_64_8) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 15 (R_X86_64_PC8) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 16 (R_X86_64_DTPMOD64) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 17 (R_X86_64_DTPOFF64) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 18 (R_X86_64_TPOFF64) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 19 (R_X86_64_TLSGD) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 20 (R_X86_64_TLSLD) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 21 (R_X86_64_DTPOFF32) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 22 (R_X86_64_GOTTPOFF) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 23 (R_X86_64_TPOFF32) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 24 (R_X86_64_PC64) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 25 (R_X86_64_GOTOFF64) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 26 (R_X86_64_GOTPC32) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 27 (R_X86_64_GOT64) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 28 (R_X86_64_GOTPCREL64) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 29 (R_X86_64_GOTPC64) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 30 (R_X86_64_GOTPLT64) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 31 (R_X86_64_PLTOFF64) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 32 (R_X86_64_SIZE32) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 33 (R_X86_64_SIZE64) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 34 (R_X86_64_GOTPC32_TLSDESC) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 35 (R_X86_64_TLSDESC_CALL) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 36 (R_X86_64_TLSDESC) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 37 (R_X86_64_IRELATIVE) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 38 (R_X86_64_RELATIVE64) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 39 is not supported (only R_X86_64_RELATIVE)",
    "relocation type 40 is not supported (only R_X86_64_RELATIVE)",
    "relocation type 41 (R_X86_64_GOTPCRELX) is not supported (only R_X86_64_RELATIVE)",
    "relocation type 42 (R_X86_64_REX_GOTPCRELX) is not supported (only R_X86_64_RELATIVE)",
};

Error unsupported_type(uint32_t type)
{
    if (type < sizeof(unsupported_type_reasons) / sizeof(unsupported_type_reasons[0]))
        return Error::unsupported(unsupported_type_reasons[type]);
    return Error::unsupported("relocation type is unknown (only R_X86_64_RELATIVE is supported)");
}

bool inside(uint64_t offset, uint64_t length, uint64_t size) { return offset <= size && length <= size - offset; }

uint64_t read_u64(std::span<const uint8_t> image, uint64_t offset)
{
    uint64_t value;
    __builtin_memcpy(&value, image.data() + offset, sizeof(value));
    return value;
}

// The file offset of [address, address + size) when it lies entirely in one
// PT_LOAD's file-backed bytes.
bool file_offset_of(const LoadSegment* segments, uint32_t count, uint64_t address, uint64_t size, uint64_t& offset)
{
    for (uint32_t i = 0; i < count; ++i) {
        auto const& segment = segments[i];
        if (address < segment.virtual_address)
            continue;
        uint64_t delta = address - segment.virtual_address;
        if (inside(delta, size, segment.file_size)) {
            offset = segment.file_offset + delta;
            return true;
        }
    }
    return false;
}

const LoadSegment* writable_segment_of(const RelocationPlan& plan, uint64_t address)
{
    for (uint32_t i = 0; i < plan.segment_count && i < max_load_segments; ++i) {
        auto const& segment = plan.segments[i];
        if ((segment.flags & segment_writable) && address >= segment.virtual_address && inside(address - segment.virtual_address, 8, segment.memory_size))
            return &segment;
    }
    return nullptr;
}

ErrorOr<const LoadSegment*> check_target(const RelocationPlan& plan, uint64_t address)
{
    if (address & 7)
        return Error::corrupt("relocation target is not 8-byte aligned");
    auto segment = writable_segment_of(plan, address);
    if (!segment)
        return Error::corrupt("relocation target lies outside every writable segment");
    return segment;
}

// The 8 bytes an image holds at a slot of `segment`; bytes past the
// segment's file size are zero in memory, so they read as zero here too.
uint64_t stored_value(std::span<const uint8_t> image, const LoadSegment& segment, uint64_t address)
{
    uint8_t bytes[8] = {};
    uint64_t delta = address - segment.virtual_address;
    for (uint64_t i = 0; i < 8; ++i) {
        if (delta + i < segment.file_size && segment.file_offset + delta + i < image.size())
            bytes[i] = image[segment.file_offset + delta + i];
    }
    uint64_t value;
    __builtin_memcpy(&value, bytes, sizeof(value));
    return value;
}

// Walks both tables, checking every entry, and hands each slot with the
// value it gets at load_base to `visit`. Returns the number of slots.
template<typename Visit>
ErrorOr<uint64_t> walk(const RelocationPlan& plan, std::span<const uint8_t> image, uint64_t load_base, Visit&& visit)
{
    uint64_t slots = 0;
    if (plan.rela_count > max_relocations || plan.relr_words > max_relocations)
        return Error::unsupported("too many relocations");
    if (!inside(plan.rela_file_offset, plan.rela_count * sizeof(RelocationWithAddend), image.size()))
        return Error::corrupt("RELA relocation table lies outside the file");
    if (!inside(plan.relr_file_offset, plan.relr_words * 8, image.size()))
        return Error::corrupt("RELR relocation table lies outside the file");

    for (uint64_t i = 0; i < plan.rela_count; ++i) {
        RelocationWithAddend rela;
        __builtin_memcpy(&rela, image.data() + plan.rela_file_offset + i * sizeof(rela), sizeof(rela));
        uint32_t type = uint32_t(rela.info);
        if (type != relocation_x86_64_relative)
            return unsupported_type(type);
        if (rela.info >> 32)
            return Error::corrupt("R_X86_64_RELATIVE relocation names a symbol");
        TRY(check_target(plan, rela.offset));
        TRY(visit(rela.offset, load_base + uint64_t(rela.addend)));
        ++slots;
    }

    // RELR: an even word is the address of a slot and starts a run; an odd
    // word is a bitmap whose bit i (1..63) relocates the slot i-1 words past
    // the run's current position, which then advances by 63 words.
    uint64_t where = 0;
    bool have_address = false;
    for (uint64_t i = 0; i < plan.relr_words; ++i) {
        uint64_t word = read_u64(image, plan.relr_file_offset + i * 8);
        if ((word & 1) == 0) {
            auto segment = TRY(check_target(plan, word));
            TRY(visit(word, load_base + stored_value(image, *segment, word)));
            ++slots;
            where = word + 8; // cannot wrap: word lies in a canonical segment
            have_address = true;
            continue;
        }
        if (!have_address)
            return Error::corrupt("RELR table starts with a bitmap instead of an address");
        for (uint64_t bit = 1; bit < 64; ++bit) {
            if (!((word >> bit) & 1))
                continue;
            uint64_t address = where + (bit - 1) * 8;
            if (address < where)
                return Error::corrupt("RELR bitmap address wraps around");
            auto segment = TRY(check_target(plan, address));
            TRY(visit(address, load_base + stored_value(image, *segment, address)));
            ++slots;
        }
        if (where > ~0ull - 63 * 8)
            return Error::corrupt("RELR bitmap address wraps around");
        where += 63 * 8;
    }
    return slots;
}

struct DynamicTags {
    bool has_rela { false }, has_rela_size { false }, has_rela_entry { false };
    bool has_relr { false }, has_relr_size { false }, has_relr_entry { false };
    uint64_t rela { 0 }, rela_size { 0 }, rela_entry { 0 };
    uint64_t relr { 0 }, relr_size { 0 }, relr_entry { 0 };
};

ErrorOr<void> set_once(bool& seen, uint64_t& slot, uint64_t value)
{
    if (seen)
        return Error::corrupt("ELF dynamic section repeats a relocation tag");
    seen = true;
    slot = value;
    return {};
}

} // namespace

ErrorOr<RelocationPlan> parse_relocations(std::span<const uint8_t> image, const ExecutableLayout& layout)
{
    RelocationPlan plan;
    plan.segment_count = layout.segment_count < max_load_segments ? layout.segment_count : max_load_segments;
    for (uint32_t i = 0; i < plan.segment_count; ++i)
        plan.segments[i] = layout.segments[i];
    if (layout.dynamic_address == 0 && layout.dynamic_size == 0)
        return plan;

    uint64_t dynamic_offset = 0;
    if (layout.dynamic_size < sizeof(DynamicEntry) || !file_offset_of(plan.segments, plan.segment_count, layout.dynamic_address, layout.dynamic_size, dynamic_offset))
        return Error::corrupt("ELF dynamic section does not lie inside a loadable segment's file bytes");
    if (!inside(dynamic_offset, layout.dynamic_size, image.size()))
        return Error::corrupt("ELF dynamic section lies outside the file");

    DynamicTags tags;
    bool terminated = false;
    uint64_t entries = layout.dynamic_size / sizeof(DynamicEntry);
    for (uint64_t i = 0; i < entries && !terminated; ++i) {
        DynamicEntry entry;
        __builtin_memcpy(&entry, image.data() + dynamic_offset + i * sizeof(entry), sizeof(entry));
        switch (entry.tag) {
        case dynamic_null:
            terminated = true;
            break;
        case dynamic_needed:
            return Error::unsupported("module needs a shared library (DT_NEEDED); link it statically");
        case dynamic_text_relocations:
            return Error::unsupported("module has text relocations (DT_TEXTREL)");
        case dynamic_flags:
            if (entry.value & dynamic_flag_text_relocations)
                return Error::unsupported("module has text relocations (DF_TEXTREL)");
            break;
        case dynamic_plt_relocation_size:
            if (entry.value != 0)
                return Error::unsupported("module has PLT relocations (DT_PLTRELSZ); link it as a static PIE");
            break;
        case dynamic_rel:
        case dynamic_rel_size:
            return Error::unsupported("module has REL relocations (DT_REL); x86_64 modules use RELA");
        case dynamic_rela:
            TRY(set_once(tags.has_rela, tags.rela, entry.value));
            break;
        case dynamic_rela_size:
            TRY(set_once(tags.has_rela_size, tags.rela_size, entry.value));
            break;
        case dynamic_rela_entry:
            TRY(set_once(tags.has_rela_entry, tags.rela_entry, entry.value));
            break;
        case dynamic_relr:
            TRY(set_once(tags.has_relr, tags.relr, entry.value));
            break;
        case dynamic_relr_size:
            TRY(set_once(tags.has_relr_size, tags.relr_size, entry.value));
            break;
        case dynamic_relr_entry:
            TRY(set_once(tags.has_relr_entry, tags.relr_entry, entry.value));
            break;
        default:
            // Hash and symbol tables, DT_DEBUG, DT_FLAGS_1, init arrays (crt0
            // runs those itself): nothing the kernel acts on.
            break;
        }
    }
    if (!terminated)
        return Error::corrupt("ELF dynamic section is truncated (no DT_NULL)");

    if (tags.has_rela_size && tags.rela_size != 0) {
        if (!tags.has_rela)
            return Error::corrupt("ELF dynamic section has DT_RELASZ without DT_RELA");
        if (!tags.has_rela_entry || tags.rela_entry != sizeof(RelocationWithAddend))
            return Error::corrupt("ELF DT_RELAENT is not 24");
        if (tags.rela_size % sizeof(RelocationWithAddend))
            return Error::corrupt("ELF DT_RELASZ is not a multiple of 24");
        plan.rela_count = tags.rela_size / sizeof(RelocationWithAddend);
        if (plan.rela_count > max_relocations)
            return Error::unsupported("module has more than 4 million RELA relocations");
        if (!file_offset_of(plan.segments, plan.segment_count, tags.rela, tags.rela_size, plan.rela_file_offset))
            return Error::corrupt("RELA relocation table does not lie inside a loadable segment's file bytes");
    } else if (tags.has_rela && !tags.has_rela_size) {
        return Error::corrupt("ELF dynamic section has DT_RELA without DT_RELASZ");
    }

    if (tags.has_relr_size && tags.relr_size != 0) {
        if (!tags.has_relr)
            return Error::corrupt("ELF dynamic section has DT_RELRSZ without DT_RELR");
        if (!tags.has_relr_entry || tags.relr_entry != 8)
            return Error::corrupt("ELF DT_RELRENT is not 8");
        if (tags.relr_size % 8)
            return Error::corrupt("ELF DT_RELRSZ is not a multiple of 8");
        plan.relr_words = tags.relr_size / 8;
        if (plan.relr_words > max_relocations)
            return Error::unsupported("module has more than 4 million RELR entries");
        if (!file_offset_of(plan.segments, plan.segment_count, tags.relr, tags.relr_size, plan.relr_file_offset))
            return Error::corrupt("RELR relocation table does not lie inside a loadable segment's file bytes");
    } else if (tags.has_relr && !tags.has_relr_size) {
        return Error::corrupt("ELF dynamic section has DT_RELR without DT_RELRSZ");
    }

    plan.relocation_count = TRY(walk(plan, image, 0, [](uint64_t, uint64_t) -> ErrorOr<void> { return {}; }));
    return plan;
}

ErrorOr<void> apply_relocations(const RelocationPlan& plan, std::span<const uint8_t> image, uint64_t load_base, WriteFunction write64)
{
    TRY(walk(plan, image, load_base, [&](uint64_t address, uint64_t value) -> ErrorOr<void> { return write64(address, value); }));
    return {};
}

ErrorOr<ModuleImage> validate_module(std::span<const uint8_t> elf, uint64_t max_span)
{
    ModuleImage module;
    module.layout = TRY(validate_executable(elf, ImageType::PositionIndependent));
    auto const& layout = module.layout;
    if (layout.end_address == 0 || layout.end_address <= layout.lowest_address)
        return Error::corrupt("module address range wraps around");
    if (layout.lowest_address > max_span)
        return Error::unsupported("module is not linked near address 0 (lowest segment address too high)");
    if (layout.end_address - layout.lowest_address > max_span)
        return Error::unsupported("module segments span more memory than allowed");
    for (uint32_t i = 0; i < layout.segment_count; ++i) {
        auto const& segment = layout.segments[i];
        if ((segment.flags & segment_writable) && (segment.flags & segment_executable))
            return Error::unsupported("module has a segment that is both writable and executable");
    }
    // Permissions are per page: two segments that disagree on them cannot
    // share one.
    for (uint32_t i = 0; i < layout.segment_count; ++i) {
        for (uint32_t j = i + 1; j < layout.segment_count; ++j) {
            auto const& a = layout.segments[i];
            auto const& b = layout.segments[j];
            uint64_t a_last = (a.virtual_address + a.memory_size - 1) >> 12;
            uint64_t b_last = (b.virtual_address + b.memory_size - 1) >> 12;
            bool share = (a.virtual_address >> 12) <= b_last && (b.virtual_address >> 12) <= a_last;
            if (share && a.flags != b.flags)
                return Error::unsupported("module segments with different permissions share a page (link with -z separate-loadable-segments)");
        }
    }
    bool entry_ok = false;
    for (uint32_t i = 0; i < layout.segment_count; ++i) {
        auto const& segment = layout.segments[i];
        if ((segment.flags & segment_executable) && layout.entry >= segment.virtual_address && layout.entry - segment.virtual_address < segment.memory_size)
            entry_ok = true;
    }
    if (!entry_ok)
        return Error::corrupt("module entry point is not inside an executable segment");
    module.relocations = TRY(parse_relocations(elf, layout));
    return module;
}

} // namespace aisos::elf
