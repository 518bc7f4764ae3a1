#pragma once

// Physical page (frame) allocator over the loader's memory map.
//
// Two bitmaps with one bit per 4 KiB page cover physical memory from 0 up to
// the end of the highest RAM region: `used` (1 = not available) and `owned`
// (1 = the page belongs to this allocator's pool). The owned map is what lets
// free() reject double frees and pages that were never ours (MMIO, the kernel
// image, reserved ranges). At 64 GiB the two maps take 4 MiB, carved from
// the highest usable region so low memory stays free for DMA and the AP
// trampoline.
//
// Searches run a word (64 pages) at a time from a hint that always points at
// or below the lowest word with a free page, so single-page allocation is
// O(1) amortised and contiguous searches skip full words.
//
// Not thread safe: the kernel wraps it in a lock.

#include "lib/base/ErrorOr.h"
#include "lib/boot/BootInfo.h"
#include "lib/mm/PhysicalMapper.h"

#include <span>

namespace aisos::mm {

class FrameAllocator {
public:
    static constexpr uint64_t no_limit = ~0ull;

    constexpr FrameAllocator() = default;

    // Builds the pool from every Usable region. `reserved` ranges (kernel
    // image, boot data, low memory, ...) are excluded before the bitmaps are
    // placed, so the bitmaps never land on them. Page 0 is never handed out.
    // The regions may be unsorted; overlapping Usable regions are an error.
    ErrorOr<void> initialize(std::span<const MemoryRegion> regions, PhysicalMapper mapper, std::span<const PhysicalRange> reserved = {});

    // Takes pool pages out of circulation for good (they stop being owned).
    // Pages outside the pool are ignored; an allocated page in the range is
    // an error and nothing changes.
    ErrorOr<void> reserve(PhysicalRange range);

    // Adds pages to the pool, e.g. ACPI reclaimable memory once the tables
    // are parsed. Must lie within the bitmaps' span and not be pool pages.
    ErrorOr<void> add_range(PhysicalRange range);

    // `pages` physically contiguous pages whose first address is a multiple
    // of alignment_pages * 4 KiB (a power of two) and whose end is at most
    // physical_limit (exclusive). Returns the physical address.
    ErrorOr<uint64_t> alloc(size_t pages, size_t alignment_pages = 1, uint64_t physical_limit = no_limit);

    // Frees pages obtained from alloc(). Rejects (changing nothing) ranges
    // that are unaligned, not ours, or not all allocated (double free).
    ErrorOr<void> free(uint64_t physical, size_t pages);

    bool is_initialized() const { return m_used != nullptr; }
    uint64_t free_pages() const { return m_free_pages; }
    uint64_t total_pages() const { return m_total_pages; }
    // Pages the allocator covers (0 .. end of RAM), including holes.
    uint64_t span_pages() const { return m_page_count; }
    PhysicalRange metadata_range() const { return m_metadata; }

    // True when every page of [physical, physical + pages * 4 KiB) is owned
    // and allocated. For assertions and tests.
    bool is_allocated(uint64_t physical, size_t pages) const;
    bool is_free(uint64_t physical, size_t pages) const;

private:
    static constexpr size_t bits_per_word = 64;

    bool test(const uint64_t* map, uint64_t page) const { return (map[page / bits_per_word] >> (page % bits_per_word)) & 1; }
    void set_range(uint64_t* map, uint64_t first, uint64_t count, bool value);
    bool range_all(const uint64_t* map, uint64_t first, uint64_t count, bool value) const;
    // Index of the last page in [first, first + count) whose used bit is
    // set, or ~0 when all are clear.
    uint64_t last_used_in(uint64_t first, uint64_t count) const;
    uint64_t find_free_from(uint64_t page, uint64_t end) const;
    bool convert_range(PhysicalRange range, uint64_t& first, uint64_t& count) const;

    uint64_t* m_used { nullptr };
    uint64_t* m_owned { nullptr };
    uint64_t m_page_count { 0 };
    uint64_t m_word_count { 0 };
    uint64_t m_total_pages { 0 };
    uint64_t m_free_pages { 0 };
    uint64_t m_hint_word { 0 };
    PhysicalRange m_metadata {};
};

} // namespace aisos::mm
