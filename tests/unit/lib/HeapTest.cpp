#include "lib/mm/Heap.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <vector>

using namespace aisos;
using namespace aisos::mm;

namespace {

// Pages from the host with a budget. Freed pages are kept until the end so a
// double free in a test reads stale memory rather than tripping ASan's
// use-after-free on purpose.
class FakePageProvider final : public PageProvider {
public:
    explicit FakePageProvider(size_t budget = 1 << 20)
        : m_budget(budget)
    {
    }
    ~FakePageProvider()
    {
        for (auto& [pointer, count] : m_live)
            std::free(pointer);
        for (auto* pointer : m_released)
            std::free(pointer);
    }
    ErrorOr<void*> allocate_pages(size_t count) override
    {
        if (count > m_budget - m_in_use)
            return Error::no_memory();
        void* pages = std::aligned_alloc(4096, count * 4096);
        if (!pages)
            return Error::no_memory();
        std::memset(pages, 0xcd, count * 4096); // not zeroed, like real memory
        m_in_use += count;
        m_live[pages] = count;
        return pages;
    }
    void free_pages(void* pages, size_t count) override
    {
        auto it = m_live.find(pages);
        ASSERT_NE(it, m_live.end()) << "heap freed pages it does not own";
        ASSERT_EQ(it->second, count);
        m_live.erase(it);
        m_in_use -= count;
        m_released.push_back(pages);
    }
    size_t in_use() const { return m_in_use; }

private:
    size_t m_budget;
    size_t m_in_use { 0 };
    std::map<void*, size_t> m_live;
    std::vector<void*> m_released;
};

} // namespace

TEST(Heap, SmallAllocationsAreAlignedAndDistinct)
{
    FakePageProvider provider;
    Heap heap(provider);
    std::set<uintptr_t> seen;
    for (size_t size = 0; size <= 2100; size += 7) {
        void* p = MUST(heap.allocate(size));
        auto address = reinterpret_cast<uintptr_t>(p);
        EXPECT_EQ(address % 16, 0u) << size;
        EXPECT_GE(MUST(heap.usable_size(p)), size);
        std::memset(p, 0xab, size);
        EXPECT_TRUE(seen.insert(address).second);
    }
    EXPECT_EQ(heap.statistics().live_allocations, seen.size());
    for (auto address : seen)
        MUST(heap.free(reinterpret_cast<void*>(address)));
    EXPECT_EQ(heap.statistics().bytes_in_use, 0u);
    EXPECT_EQ(heap.statistics().live_allocations, 0u);
    // At most one cached empty slab per class remains.
    EXPECT_LE(provider.in_use(), Heap::class_count);
}

TEST(Heap, HonoursAlignmentUpToAPage)
{
    FakePageProvider provider;
    Heap heap(provider);
    for (size_t alignment = 1; alignment <= 4096; alignment *= 2) {
        for (size_t size : { size_t(1), size_t(24), size_t(100), size_t(1000), size_t(2016), size_t(3000), size_t(4096), size_t(10000) }) {
            void* p = MUST(heap.allocate(size, alignment));
            EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % alignment, 0u) << size << " " << alignment;
            EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
            EXPECT_GE(MUST(heap.usable_size(p)), size);
            std::memset(p, 1, size);
            MUST(heap.free(p));
        }
    }
    EXPECT_EQ(heap.allocate(16, 3).error().code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(heap.allocate(16, 0).error().code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(heap.allocate(16, 8192).error().code(), ErrorCode::Unsupported);
}

TEST(Heap, LargeAllocationsUseWholePages)
{
    FakePageProvider provider;
    Heap heap(provider);
    void* p = MUST(heap.allocate(1 << 20));
    EXPECT_EQ(provider.in_use(), 257u); // 1 MiB plus the header page
    EXPECT_EQ(heap.statistics().pages_in_use, 257u);
    std::memset(p, 0x5a, 1 << 20);
    void* q = MUST(heap.allocate(4096, 4096));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(q) % 4096, 0u);
    EXPECT_EQ(MUST(heap.usable_size(q)), 4096u);
    MUST(heap.free(p));
    MUST(heap.free(q));
    EXPECT_EQ(provider.in_use(), 0u);
    EXPECT_EQ(heap.statistics().bytes_in_use, 0u);
    EXPECT_GE(heap.statistics().peak_bytes_in_use, size_t(1 << 20) + 4096);
}

TEST(Heap, DetectsInvalidAndDoubleFrees)
{
    FakePageProvider provider;
    Heap heap(provider);
    auto* a = static_cast<uint8_t*>(MUST(heap.allocate(40)));
    auto* keep = MUST(heap.allocate(40)); // keeps the slab alive
    MUST(heap.free(a));
    EXPECT_EQ(heap.free(a).error().code(), ErrorCode::InvalidArgument);
    auto* b = static_cast<uint8_t*>(MUST(heap.allocate(40)));
    EXPECT_TRUE(heap.free(b + 16).is_error()); // inside an object
    EXPECT_TRUE(heap.free(b + 1).is_error());  // misaligned
    MUST(heap.free(b));

    auto* big = static_cast<uint8_t*>(MUST(heap.allocate(10000)));
    EXPECT_TRUE(heap.free(big + 16).is_error());
    MUST(heap.free(big));
    EXPECT_EQ(heap.free(big).error().code(), ErrorCode::InvalidArgument);

    // Memory that never came from this heap.
    alignas(4096) static uint8_t foreign[8192];
    std::memset(foreign, 0, sizeof(foreign));
    EXPECT_TRUE(heap.free(foreign + 64).is_error());
    EXPECT_TRUE(heap.usable_size(foreign + 64).is_error());
    // A slab of another heap.
    FakePageProvider other_provider;
    Heap other(other_provider);
    void* theirs = MUST(other.allocate(32));
    EXPECT_TRUE(heap.free(theirs).is_error());
    MUST(other.free(theirs));
    MUST(heap.free(nullptr));
    MUST(heap.free(keep));
    EXPECT_EQ(heap.statistics().live_allocations, 0u);
}

TEST(Heap, ExhaustionIsAnErrorAndTheHeapStaysUsable)
{
    FakePageProvider provider(64);
    Heap heap(provider);
    std::vector<void*> live;
    while (true) {
        auto r = heap.allocate(500);
        if (r.is_error()) {
            EXPECT_EQ(r.error().code(), ErrorCode::OutOfMemory);
            break;
        }
        live.push_back(r.value());
    }
    EXPECT_EQ(live.size(), 64u * 7u); // 7 slots of 512 bytes per page
    EXPECT_TRUE(heap.allocate(1 << 20).is_error());
    EXPECT_TRUE(heap.allocate(Heap::max_allocation + 1).is_error());
    EXPECT_TRUE(heap.allocate(~size_t(0)).is_error());
    EXPECT_GE(heap.statistics().failed_allocations, 4u);
    MUST(heap.free(live.back()));
    live.pop_back();
    live.push_back(MUST(heap.allocate(500)));
    for (void* p : live)
        MUST(heap.free(p));
    EXPECT_EQ(heap.statistics().bytes_in_use, 0u);
}

TEST(Heap, RandomStormKeepsContents)
{
    FakePageProvider provider(20000);
    Heap heap(provider);
    std::mt19937_64 rng(7);
    struct Live {
        uint8_t* pointer;
        size_t size;
        uint8_t fill;
    };
    std::vector<Live> live;
    for (int step = 0; step < 60000; ++step) {
        if (live.empty() || rng() % 100 < 52) {
            size_t size = rng() % 16 == 0 ? rng() % 40000 : rng() % 700;
            size_t alignment = size_t(1) << (rng() % 8);
            auto r = heap.allocate(size, alignment);
            if (r.is_error()) {
                ASSERT_EQ(r.error().code(), ErrorCode::OutOfMemory);
                continue;
            }
            auto* p = static_cast<uint8_t*>(r.value());
            ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % alignment, 0u);
            uint8_t fill = static_cast<uint8_t>(rng());
            std::memset(p, fill, size);
            live.push_back({ p, size, fill });
        } else {
            size_t index = rng() % live.size();
            auto entry = live[index];
            for (size_t i = 0; i < entry.size; ++i)
                ASSERT_EQ(entry.pointer[i], entry.fill) << "object corrupted";
            MUST(heap.free(entry.pointer));
            live[index] = live.back();
            live.pop_back();
        }
    }
    size_t bytes = 0;
    for (auto& entry : live)
        bytes += MUST(heap.usable_size(entry.pointer));
    EXPECT_EQ(heap.statistics().bytes_in_use, bytes);
    EXPECT_EQ(heap.statistics().live_allocations, live.size());
    for (auto& entry : live)
        MUST(heap.free(entry.pointer));
    EXPECT_EQ(heap.statistics().bytes_in_use, 0u);
    EXPECT_LE(provider.in_use(), Heap::class_count);
}

TEST(Heap, EverySmallSizeGetsTheSmallestFittingClass)
{
    FakePageProvider provider;
    Heap heap(provider);
    for (size_t size = 0; size <= Heap::largest_small_size; ++size) {
        size_t expected = 0;
        for (size_t i = 0; i < Heap::class_count; ++i) {
            if (Heap::class_size(i) >= (size ? size : 1)) {
                expected = Heap::class_size(i);
                break;
            }
        }
        void* p = MUST(heap.allocate(size));
        ASSERT_EQ(MUST(heap.usable_size(p)), expected) << size;
        MUST(heap.free(p));
    }
    void* big = MUST(heap.allocate(Heap::largest_small_size + 1));
    EXPECT_EQ(MUST(heap.usable_size(big)), 4096u - 64u); // one page minus the header
    MUST(heap.free(big));
}
