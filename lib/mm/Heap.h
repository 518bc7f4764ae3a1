#pragma once

// Kernel heap: slabs of small objects plus page-granular large allocations,
// on top of a page provider (in the kernel: frames from the FrameAllocator
// reached through the direct map).
//
// Small requests (up to 2016 bytes) are served from 4 KiB slabs, one size
// class per slab. A slab's 64-byte header sits at the start of its page and
// holds an allocation bitmap, so a free can check that the pointer is a slot
// start and that the slot is in use (double free) before touching anything.
// Large requests get whole pages with a 64-byte header in front; a pointer
// is classified by the magic word in the header of the page it points into
// (page-aligned payloads, which only 4096-byte alignment produces, keep their
// header in the page before).
//
// Every object is at least 16-byte aligned; up to 4096-byte alignment is
// supported. Not thread safe: the kernel wraps it in a lock.

#include "lib/base/ErrorOr.h"

#include <stddef.h>
#include <stdint.h>

namespace aisos::mm {

class PageProvider {
public:
    // `count` contiguous, writable, 4 KiB-aligned pages.
    virtual ErrorOr<void*> allocate_pages(size_t count) = 0;
    virtual void free_pages(void* pages, size_t count) = 0;

protected:
    ~PageProvider() = default;
};

struct HeapStatistics {
    size_t bytes_in_use { 0 };      // usable bytes of live allocations
    size_t peak_bytes_in_use { 0 };
    size_t live_allocations { 0 };
    size_t pages_in_use { 0 };      // pages held from the provider
    size_t total_allocations { 0 };
    size_t failed_allocations { 0 };
};

class Heap {
public:
    static constexpr size_t min_alignment = 16;
    static constexpr size_t max_alignment = 4096;
    static constexpr size_t largest_small_size = 2016;
    static constexpr size_t class_count = 21;
    // Requests above this are refused outright (no provider call).
    static constexpr size_t max_allocation = size_t(1) << 40;

    explicit constexpr Heap(PageProvider& provider)
        : m_provider(&provider)
    {
    }

    // `alignment` must be a power of two up to 4096. Size 0 is served as 1.
    ErrorOr<void*> allocate(size_t size, size_t alignment = min_alignment);
    // Null is accepted. Pointers that are not live allocations of this heap
    // are rejected with an error when the check is cheap (bad alignment,
    // missing header, not a slot start, slot already free).
    ErrorOr<void> free(void* pointer);
    // Usable size of a live allocation (at least what was asked for).
    ErrorOr<size_t> usable_size(void* pointer) const;

    HeapStatistics const& statistics() const { return m_statistics; }

    static constexpr size_t class_size(size_t index) { return s_class_sizes[index]; }

private:
    struct SlabHeader;
    struct LargeHeader;

    static constexpr size_t s_class_sizes[class_count] = {
        16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 1008, 1344, 2016
    };

    ErrorOr<void*> allocate_small(size_t class_index);
    ErrorOr<void*> allocate_large(size_t size, size_t alignment);
    ErrorOr<SlabHeader*> new_slab(size_t class_index);
    void unlink(SlabHeader*);
    void push_front(SlabHeader*);
    void account_allocation(size_t bytes);

    PageProvider* m_provider;
    SlabHeader* m_partial[class_count] {};
    HeapStatistics m_statistics {};
};

} // namespace aisos::mm
