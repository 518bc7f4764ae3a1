#pragma once

// Validation of kernel.elf before the loader trusts a single byte of it, and
// the copy of its PT_LOAD segments into memory. Portable (no UEFI calls) and
// std-free, so it runs in the loader and in host unit tests alike.
//
// The kernel is loaded physically contiguous: one block covers every page
// from the lowest to the highest PT_LOAD page, so physical = block base +
// (virtual - span_start) for every byte of the kernel image.

#include "boot/Result.h"

#include <stddef.h>
#include <stdint.h>

namespace aisos::boot {

inline constexpr uint64_t page_size = 4096;
inline constexpr size_t max_kernel_segments = 16;
// Largest span of virtual memory the PT_LOAD segments may cover (including
// zero-filled .bss). Far above any sane kernel, far below what would exhaust
// a small machine by accident.
inline constexpr uint64_t max_kernel_span = 1ull << 30;

// ELF program header flags.
inline constexpr uint32_t segment_executable = 1;
inline constexpr uint32_t segment_writable = 2;
inline constexpr uint32_t segment_readable = 4;

struct KernelSegment {
    uint64_t virtual_address;
    uint64_t file_offset;
    uint64_t file_size;
    uint64_t memory_size;
    uint32_t flags;
};

struct KernelImage {
    uint64_t entry;
    uint64_t span_start; // page-aligned virtual address of the lowest PT_LOAD page
    uint64_t span_size;  // bytes, a multiple of page_size
    uint32_t segment_count;
    KernelSegment segments[max_kernel_segments];
};

// Checks that `data` is an ELF64 little-endian x86_64 ET_EXEC whose program
// headers and PT_LOAD segments are inside the file, do not overflow, do not
// overlap, live at or above kernel_virtual_base, span at most
// max_kernel_span, and whose entry point is inside an executable segment
// (the generic part is lib/elf/Executable.h, shared with module loading).
Result<KernelImage> parse_kernel_elf(const uint8_t* data, uint64_t size);

// Copies every segment of a parsed image from `file` into `span`, a buffer
// of image.span_size bytes standing for the virtual range starting at
// image.span_start, and zero-fills everything else (.bss and gaps).
void copy_kernel_segments(const KernelImage& image, const uint8_t* file, uint8_t* span);

struct PageAccess {
    bool mapped;
    bool writable;
    bool executable;
};

// How the page at `page_virtual` (page-aligned, inside the span) must be
// mapped: the union of the permissions of the segments that touch it, so a
// page shared by two segments gets what both need; a page no segment
// touches stays unmapped.
PageAccess kernel_page_access(const KernelImage& image, uint64_t page_virtual);

} // namespace aisos::boot
