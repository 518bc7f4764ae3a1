#pragma once

// Where the block cache gets its 4096-byte pages. In the kernel a page is a
// physical frame reached through the direct map, so a cached page has a
// physical address the kernel can map into a process (model mapping). On
// the host (tests, tools) AllocatorPageProvider takes aligned memory from an
// Allocator and reports its virtual address as the "physical" one.

#include "lib/base/Allocator.h"
#include "lib/base/ErrorOr.h"

#include <stdint.h>

namespace aisos::block {

inline constexpr uint32_t kCachePageSize = 4096;

struct CachePageMemory {
    uint8_t* data;     // kCachePageSize bytes, page-aligned
    uint64_t physical; // what a page table entry would point at
};

class PageProvider {
public:
    virtual ErrorOr<CachePageMemory> allocate_page() = 0;
    virtual void free_page(CachePageMemory) = 0;

protected:
    ~PageProvider() = default;
};

class AllocatorPageProvider final : public PageProvider {
public:
    explicit AllocatorPageProvider(Allocator& allocator)
        : m_allocator(allocator)
    {
    }

    ErrorOr<CachePageMemory> allocate_page() override
    {
        auto* data = static_cast<uint8_t*>(TRY(m_allocator.allocate(kCachePageSize, kCachePageSize)));
        ++m_live;
        return CachePageMemory { data, reinterpret_cast<uintptr_t>(data) };
    }
    void free_page(CachePageMemory page) override
    {
        --m_live;
        m_allocator.free(page.data);
    }
    long live_pages() const { return m_live; }

private:
    Allocator& m_allocator;
    long m_live { 0 };
};

} // namespace aisos::block
