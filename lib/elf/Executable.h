#pragma once

// Validation of an ELF64 x86_64 executable image held in memory, before
// anything is loaded from it: header identity, the program header table,
// and every PT_LOAD segment (inside the file, filesz <= memsz, no address
// wrap, canonical addresses, sane alignment, no overlaps), plus the entry
// point inside an executable segment.
//
// No standard library and no ErrorOr here, so the UEFI loader can compile
// this file too; lib/elf/ExecutableImage.h wraps it for ErrorOr callers.

#include "lib/elf/Elf64.h"

#include <stddef.h>
#include <stdint.h>

namespace aisos::elf {

inline constexpr uint32_t max_load_segments = 16;
inline constexpr uint32_t max_program_headers = 256;

enum class ImageType : uint8_t {
    Executable,          // ET_EXEC only (the kernel)
    PositionIndependent, // ET_DYN only (static-PIE modules)
    Either,
};

struct LoadSegment {
    uint64_t file_offset;
    uint64_t file_size;
    uint64_t virtual_address;
    uint64_t physical_address;
    uint64_t memory_size;
    uint64_t alignment;
    uint32_t flags; // segment_readable | segment_writable | segment_executable
};

struct ExecutableLayout {
    uint16_t type; // type_executable or type_dynamic
    uint64_t entry;
    uint32_t segment_count;
    LoadSegment segments[max_load_segments]; // in program header order
    uint64_t lowest_address;                 // lowest PT_LOAD virtual address
    uint64_t end_address;                    // one past the highest PT_LOAD byte
    bool segments_share_pages;               // two segments touch the same 4 KiB page
    uint64_t dynamic_address;                // PT_DYNAMIC, 0 when absent
    uint64_t dynamic_size;
};

struct ElfCheck {
    const char* reason { nullptr }; // static string; null when valid
    bool unsupported { false };     // well-formed, but not something we run

    constexpr bool ok() const { return reason == nullptr; }
};

ElfCheck parse_executable(const uint8_t* data, uint64_t size, ImageType, ExecutableLayout& out);

// Validates and copies the file header (shared with the symbolizer).
ElfCheck parse_file_header(const uint8_t* data, uint64_t size, FileHeader& out);

} // namespace aisos::elf
