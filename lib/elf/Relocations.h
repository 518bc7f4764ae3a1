#pragma once

// Static-PIE modules (.rpk): the checks a module's ELF must pass before the
// kernel maps it, and the R_X86_64_RELATIVE relocations it applies at load.
//
// A module is linked by lld with `-pie --no-dynamic-linker` (optionally
// `-z pack-relative-relocs`). Its PT_DYNAMIC then names a RELA table
// (DT_RELA/DT_RELASZ/DT_RELAENT) and/or a RELR table (DT_RELR/DT_RELRSZ/
// DT_RELRENT) holding only relative relocations: "store load_base + addend
// at load_base + offset". Anything that needs a dynamic linker (DT_NEEDED,
// symbol or PLT relocations, text relocations) is refused.
//
// Every relocation target is an 8-byte-aligned slot entirely inside a
// writable PT_LOAD's memory range, so it never straddles a page and never
// patches code or read-only data. Addresses are link-time virtual
// addresses (the image is linked at 0 or near it; the kernel adds its load
// base when it maps the segments).

#include "lib/base/ErrorOr.h"
#include "lib/elf/ExecutableImage.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <type_traits>

namespace aisos::elf {

// Dynamic section tags (System V gABI; DT_RELR from the 2022 gABI update).
inline constexpr int64_t dynamic_null = 0;
inline constexpr int64_t dynamic_needed = 1;
inline constexpr int64_t dynamic_plt_relocation_size = 2; // DT_PLTRELSZ
inline constexpr int64_t dynamic_rela = 7;
inline constexpr int64_t dynamic_rela_size = 8;
inline constexpr int64_t dynamic_rela_entry = 9;
inline constexpr int64_t dynamic_rel = 17;
inline constexpr int64_t dynamic_rel_size = 18;
inline constexpr int64_t dynamic_text_relocations = 22; // DT_TEXTREL
inline constexpr int64_t dynamic_jump_relocations = 23; // DT_JMPREL
inline constexpr int64_t dynamic_flags = 30;            // DT_FLAGS
inline constexpr int64_t dynamic_relr_size = 35;
inline constexpr int64_t dynamic_relr = 36;
inline constexpr int64_t dynamic_relr_entry = 37;
inline constexpr uint64_t dynamic_flag_text_relocations = 4; // DF_TEXTREL

inline constexpr uint32_t relocation_x86_64_relative = 8; // R_X86_64_RELATIVE

inline constexpr uint64_t max_relocations = 4 * 1024 * 1024; // per table
inline constexpr uint64_t max_module_span = 1ull << 30;      // default for validate_module

struct DynamicEntry { // Elf64_Dyn
    int64_t tag;
    uint64_t value;
};
static_assert(sizeof(DynamicEntry) == 16);

struct RelocationWithAddend { // Elf64_Rela
    uint64_t offset;
    uint64_t info; // symbol << 32 | type
    int64_t addend;
};
static_assert(sizeof(RelocationWithAddend) == 24);

struct RelocationPlan {
    uint64_t rela_file_offset { 0 }; // the RELA table inside the ELF file
    uint64_t rela_count { 0 };
    uint64_t relr_file_offset { 0 }; // the RELR table inside the ELF file
    uint64_t relr_words { 0 };
    uint64_t relocation_count { 0 }; // slots written in all (RELA + RELR)
    // The layout's load segments: RELR slots keep their addend in the file
    // bytes, and every target is re-checked when the plan is applied.
    uint32_t segment_count { 0 };
    LoadSegment segments[max_load_segments] {};
};

// Reads and checks the dynamic section and both relocation tables of the
// validated image `image` described by `layout`. An image without PT_DYNAMIC
// has nothing to relocate and gets an empty plan.
ErrorOr<RelocationPlan> parse_relocations(std::span<const uint8_t> image, const ExecutableLayout&);

// Called once per relocated slot with its link-time virtual address (8-byte
// aligned, inside a writable segment's memory) and the 64-bit value to store.
// A non-owning reference to any callable, so the kernel needs no allocation.
class WriteFunction {
public:
    template<typename F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, WriteFunction>)
    WriteFunction(F& function)
        : m_context(&function)
        , m_call([](void* context, uint64_t address, uint64_t value) -> ErrorOr<void> { return (*static_cast<F*>(context))(address, value); })
    {
    }
    ErrorOr<void> operator()(uint64_t address, uint64_t value) const { return m_call(m_context, address, value); }

private:
    void* m_context;
    ErrorOr<void> (*m_call)(void*, uint64_t, uint64_t);
};

// Applies the plan for an image loaded at `load_base` (the address its
// virtual address 0 is mapped to): RELA slots get load_base + addend, RELR
// slots get load_base + the 64-bit value the file holds in that slot (bytes
// past a segment's file size count as zero). The stored values come from
// `image`, the same bytes the plan was parsed from, so the kernel needs no
// way to read back what it mapped; it must copy the segments first and
// apply the relocations after. Every entry is checked again, so a plan
// applied to other bytes fails cleanly instead of writing out of bounds.
ErrorOr<void> apply_relocations(const RelocationPlan&, std::span<const uint8_t> image, uint64_t load_base, WriteFunction write64);

struct ModuleImage {
    ExecutableLayout layout;
    RelocationPlan relocations;
};

// Everything install checks about a module's ELF: a valid position-
// independent ELF64 x86_64 (validate_executable), lowest address at most
// max_span and a span (end - lowest) of at most max_span, no segment both
// writable and executable, no page shared by segments with different
// permissions, the entry point inside an executable segment, and relocations
// that parse_relocations accepts.
ErrorOr<ModuleImage> validate_module(std::span<const uint8_t> elf, uint64_t max_span = max_module_span);

} // namespace aisos::elf
