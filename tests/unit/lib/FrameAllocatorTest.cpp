#include "lib/mm/FrameAllocator.h"
#include "tests/unit/lib/FakePhysicalMemory.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

using namespace aisos;
using namespace aisos::mm;
using aisos::test::FakePhysicalMemory;

namespace {

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;
constexpr uint64_t GiB = 1024 * MiB;

MemoryRegion region(uint64_t base, uint64_t size, MemoryKind kind = MemoryKind::Usable)
{
    return { base, size / page_size, kind, 0 };
}

// A small PC-like map: low memory, a hole, RAM, ACPI data, a firmware hole.
std::vector<MemoryRegion> small_map()
{
    return {
        region(0, 640 * KiB),
        region(640 * KiB, 384 * KiB, MemoryKind::Reserved),
        region(1 * MiB, 15 * MiB, MemoryKind::LoaderData),
        region(16 * MiB, 48 * MiB),
        region(64 * MiB, 1 * MiB, MemoryKind::AcpiReclaimable),
        region(65 * MiB, 63 * MiB),
        region(0xfec00000, 4 * KiB, MemoryKind::Reserved),
    };
}

// The fake RAM window covers the top of the highest usable region, where the
// allocator puts its bitmaps.
struct Fixture {
    explicit Fixture(uint64_t top, uint64_t window = 8 * MiB)
        : memory(top - window, window)
    {
    }
    FakePhysicalMemory memory;
    FrameAllocator allocator;
};

uint64_t usable_pages(std::vector<MemoryRegion> const& map)
{
    uint64_t pages = 0;
    for (auto& r : map)
        if (r.kind == MemoryKind::Usable)
            pages += r.pages;
    return pages;
}

} // namespace

TEST(FrameAllocator, CountsUsablePagesMinusPageZeroAndBitmap)
{
    auto map = small_map();
    Fixture f(128 * MiB);
    ASSERT_FALSE(f.allocator.initialize(map, f.memory.mapper()).is_error());
    EXPECT_EQ(f.allocator.span_pages(), 128 * MiB / page_size);
    // 32768 pages -> 512 words per map, 2 maps = 8 KiB = 2 pages.
    EXPECT_EQ(f.allocator.metadata_range().size, 2 * page_size);
    EXPECT_EQ(f.allocator.metadata_range().base, 128 * MiB - 2 * page_size);
    EXPECT_EQ(f.allocator.total_pages(), usable_pages(map) - 1 - 2);
    EXPECT_EQ(f.allocator.free_pages(), f.allocator.total_pages());
}

TEST(FrameAllocator, AllocationsStayInUsableMemoryAndNeverReturnPageZero)
{
    auto map = small_map();
    Fixture f(128 * MiB);
    ASSERT_FALSE(f.allocator.initialize(map, f.memory.mapper()).is_error());
    std::vector<uint64_t> pages;
    while (true) {
        auto result = f.allocator.alloc(1);
        if (result.is_error()) {
            EXPECT_EQ(result.error().code(), ErrorCode::OutOfMemory);
            break;
        }
        uint64_t p = result.value();
        EXPECT_NE(p, 0u);
        EXPECT_TRUE(is_page_aligned(p));
        bool usable = (p < 640 * KiB) || (p >= 16 * MiB && p < 64 * MiB) || (p >= 65 * MiB && p < 128 * MiB);
        EXPECT_TRUE(usable) << std::hex << p;
        EXPECT_FALSE(p >= f.allocator.metadata_range().base && p < f.allocator.metadata_range().base + f.allocator.metadata_range().size);
        pages.push_back(p);
    }
    EXPECT_EQ(pages.size(), f.allocator.total_pages());
    EXPECT_EQ(f.allocator.free_pages(), 0u);
    std::sort(pages.begin(), pages.end());
    EXPECT_EQ(std::adjacent_find(pages.begin(), pages.end()), pages.end());
    for (auto p : pages)
        ASSERT_FALSE(f.allocator.free(p, 1).is_error());
    EXPECT_EQ(f.allocator.free_pages(), f.allocator.total_pages());
}

TEST(FrameAllocator, RejectsDoubleFreeAndForeignMemory)
{
    auto map = small_map();
    Fixture f(128 * MiB);
    ASSERT_FALSE(f.allocator.initialize(map, f.memory.mapper()).is_error());
    uint64_t p = MUST(f.allocator.alloc(4));
    ASSERT_FALSE(f.allocator.free(p, 4).is_error());
    auto again = f.allocator.free(p, 4);
    ASSERT_TRUE(again.is_error());
    EXPECT_EQ(again.error().code(), ErrorCode::InvalidArgument);

    // Half allocated, half free: rejected without changing anything.
    uint64_t q = MUST(f.allocator.alloc(3));
    MUST(f.allocator.free(q + 2 * page_size, 1));
    uint64_t free_before = f.allocator.free_pages();
    EXPECT_TRUE(f.allocator.free(q, 3).is_error());
    EXPECT_EQ(f.allocator.free_pages(), free_before);
    EXPECT_TRUE(f.allocator.is_allocated(q, 2));
    EXPECT_TRUE(f.allocator.is_free(q + 2 * page_size, 1));

    EXPECT_TRUE(f.allocator.free(0, 1).is_error());                // page 0
    EXPECT_TRUE(f.allocator.free(2 * MiB, 1).is_error());          // LoaderData (kernel)
    EXPECT_TRUE(f.allocator.free(0xfec00000, 1).is_error());       // MMIO, beyond span
    EXPECT_TRUE(f.allocator.free(q + 1, 1).is_error());            // unaligned
    EXPECT_TRUE(f.allocator.free(q, 0).is_error());                // zero pages
    EXPECT_TRUE(f.allocator.free(f.allocator.metadata_range().base, 1).is_error()); // the bitmap itself
    EXPECT_TRUE(f.allocator.free(~0ull & ~(page_size - 1), ~size_t(0)).is_error());
    EXPECT_EQ(f.allocator.free_pages(), free_before);
}

TEST(FrameAllocator, ContiguousAlignedAndLimitedAllocations)
{
    auto map = small_map();
    Fixture f(128 * MiB);
    ASSERT_FALSE(f.allocator.initialize(map, f.memory.mapper()).is_error());

    uint64_t big = MUST(f.allocator.alloc(512, 512));
    EXPECT_EQ(big % (2 * MiB), 0u);
    EXPECT_TRUE(f.allocator.is_allocated(big, 512));

    uint64_t low = MUST(f.allocator.alloc(1, 1, 1 * MiB));
    EXPECT_LT(low, 640 * KiB);

    // Nothing usable below 4 KiB except page 0, which is never handed out.
    auto none = f.allocator.alloc(1, 1, page_size);
    ASSERT_TRUE(none.is_error());
    EXPECT_EQ(none.error().code(), ErrorCode::OutOfMemory);

    // The allocation must end below the limit, not just start below it.
    uint64_t below = MUST(f.allocator.alloc(16, 1, 64 * MiB));
    EXPECT_LE(below + 16 * page_size, 64 * MiB);

    // Larger than any single usable region.
    EXPECT_TRUE(f.allocator.alloc(64 * MiB / page_size).is_error());
    EXPECT_TRUE(f.allocator.alloc(0).is_error());
    EXPECT_EQ(f.allocator.alloc(1, 3).error().code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(f.allocator.alloc(1, 0).error().code(), ErrorCode::InvalidArgument);
}

TEST(FrameAllocator, FindsTheOnlyHoleBigEnough)
{
    std::vector<MemoryRegion> map { region(1 * MiB, 1 * MiB) };
    Fixture f(2 * MiB, 1 * MiB);
    ASSERT_FALSE(f.allocator.initialize(map, f.memory.mapper()).is_error());
    std::vector<uint64_t> pages;
    while (true) {
        auto r = f.allocator.alloc(1);
        if (r.is_error())
            break;
        pages.push_back(r.value());
    }
    std::sort(pages.begin(), pages.end());
    // Free every other page, then one run of three.
    for (size_t i = 0; i + 1 < pages.size(); i += 2)
        MUST(f.allocator.free(pages[i], 1));
    EXPECT_TRUE(f.allocator.alloc(2).is_error());
    MUST(f.allocator.free(pages[101], 1));
    MUST(f.allocator.free(pages[103], 1));
    // pages 100..104: 100 free, 101 free, 102 free, 103 free, 104 free.
    uint64_t run = MUST(f.allocator.alloc(5));
    EXPECT_EQ(run, pages[100]);
    EXPECT_TRUE(f.allocator.alloc(2).is_error());
}

TEST(FrameAllocator, ReservedRangesAreNeverHandedOut)
{
    auto map = small_map();
    Fixture f(128 * MiB);
    // Reserve the top of memory: the bitmaps must move below it.
    PhysicalRange reserved[] = { { 0, 1 * MiB }, { 127 * MiB, 1 * MiB }, { 20 * MiB + 100, 8 * KiB } };
    ASSERT_FALSE(f.allocator.initialize(map, f.memory.mapper(), reserved).is_error());
    EXPECT_EQ(f.allocator.metadata_range().base, 127 * MiB - 2 * page_size);
    while (true) {
        auto r = f.allocator.alloc(1);
        if (r.is_error())
            break;
        uint64_t p = r.value();
        EXPECT_GE(p, 1 * MiB);
        EXPECT_LT(p, 127 * MiB);
        // The unaligned reservation covers every page it touches.
        EXPECT_FALSE(p >= 20 * MiB && p < 20 * MiB + 12 * KiB) << std::hex << p;
    }
}

TEST(FrameAllocator, ReserveAfterInitialization)
{
    auto map = small_map();
    Fixture f(128 * MiB);
    ASSERT_FALSE(f.allocator.initialize(map, f.memory.mapper()).is_error());
    uint64_t total = f.allocator.total_pages();
    ASSERT_FALSE(f.allocator.reserve({ 0x8000, page_size }).is_error());
    EXPECT_EQ(f.allocator.total_pages(), total - 1);
    EXPECT_EQ(f.allocator.free_pages(), total - 1);
    EXPECT_TRUE(f.allocator.free(0x8000, 1).is_error());
    // Reserving memory that is not ours changes nothing.
    ASSERT_FALSE(f.allocator.reserve({ 2 * MiB, 4 * MiB }).is_error());
    ASSERT_FALSE(f.allocator.reserve({ 0xfec00000, page_size }).is_error());
    EXPECT_EQ(f.allocator.total_pages(), total - 1);
    // Reserving an allocated page is refused.
    uint64_t p = MUST(f.allocator.alloc(1));
    auto busy = f.allocator.reserve({ p, page_size });
    ASSERT_TRUE(busy.is_error());
    EXPECT_EQ(busy.error().code(), ErrorCode::Busy);
    EXPECT_TRUE(f.allocator.is_allocated(p, 1));
    EXPECT_TRUE(f.allocator.reserve({ ~0ull - 10, 100 }).is_error());
}

TEST(FrameAllocator, AddRangeReclaimsAcpiMemory)
{
    auto map = small_map();
    Fixture f(128 * MiB);
    ASSERT_FALSE(f.allocator.initialize(map, f.memory.mapper()).is_error());
    uint64_t total = f.allocator.total_pages();
    ASSERT_FALSE(f.allocator.add_range({ 64 * MiB, 1 * MiB }).is_error());
    EXPECT_EQ(f.allocator.total_pages(), total + 256);
    EXPECT_TRUE(f.allocator.is_free(64 * MiB, 256));
    auto again = f.allocator.add_range({ 64 * MiB, page_size });
    ASSERT_TRUE(again.is_error());
    EXPECT_EQ(again.error().code(), ErrorCode::Exists);
    EXPECT_EQ(f.allocator.add_range({ 200 * MiB, page_size }).error().code(), ErrorCode::OutOfRange);
    EXPECT_TRUE(f.allocator.add_range(f.allocator.metadata_range()).is_error());
}

TEST(FrameAllocator, RejectsBadMaps)
{
    Fixture f(128 * MiB);
    std::vector<MemoryRegion> overlapping { region(1 * MiB, 8 * MiB), region(4 * MiB, 8 * MiB) };
    EXPECT_EQ(f.allocator.initialize(overlapping, f.memory.mapper()).error().code(), ErrorCode::Corrupt);
    std::vector<MemoryRegion> nothing { region(0, 1 * MiB, MemoryKind::Reserved) };
    EXPECT_EQ(f.allocator.initialize(nothing, f.memory.mapper()).error().code(), ErrorCode::NotFound);
    std::vector<MemoryRegion> wrapping { region(1 * MiB, 8 * MiB), { ~0ull - page_size + 1, 4, MemoryKind::Usable, 0 } };
    // The wrapping region is ignored; the rest works.
    Fixture g(9 * MiB, 1 * MiB);
    EXPECT_FALSE(g.allocator.initialize(wrapping, g.memory.mapper()).is_error());
    EXPECT_EQ(g.allocator.span_pages(), 9 * MiB / page_size);
    EXPECT_EQ(g.allocator.initialize(wrapping, g.memory.mapper()).error().code(), ErrorCode::Busy);
    FrameAllocator uninitialized;
    EXPECT_TRUE(uninitialized.alloc(1).is_error());
    EXPECT_TRUE(uninitialized.free(page_size, 1).is_error());
    // Fake RAM that does not cover where the bitmap goes.
    FakePhysicalMemory elsewhere(0, 1 * MiB);
    FrameAllocator h;
    std::vector<MemoryRegion> map { region(16 * MiB, 16 * MiB) };
    EXPECT_TRUE(h.initialize(map, elsewhere.mapper()).is_error());
}

TEST(FrameAllocator, UnsortedMapWithUnalignedRegions)
{
    std::vector<MemoryRegion> map { region(32 * MiB, 32 * MiB), { 1 * MiB + 123, 10, MemoryKind::Usable, 0 }, region(8 * MiB, 8 * MiB) };
    Fixture f(64 * MiB);
    ASSERT_FALSE(f.allocator.initialize(map, f.memory.mapper()).is_error());
    // The unaligned region keeps only its whole pages: 9 of 10.
    EXPECT_EQ(f.allocator.total_pages() + f.allocator.metadata_range().size / page_size, 8192 + 2048 + 9);
}

TEST(FrameAllocator, RandomStormAgainstModel)
{
    std::vector<MemoryRegion> map { region(1 * MiB, 7 * MiB), region(12 * MiB, 20 * MiB), region(40 * MiB, 24 * MiB) };
    Fixture f(64 * MiB);
    ASSERT_FALSE(f.allocator.initialize(map, f.memory.mapper()).is_error());
    std::mt19937_64 rng(1234);
    std::map<uint64_t, size_t> live; // base -> pages
    uint64_t expected_free = f.allocator.free_pages();
    for (int step = 0; step < 20000; ++step) {
        if (live.empty() || rng() % 100 < 55) {
            size_t pages = 1 + rng() % (rng() % 8 == 0 ? 600 : 8);
            size_t alignment = size_t(1) << (rng() % 4 == 0 ? rng() % 10 : 0);
            uint64_t limit = rng() % 10 == 0 ? 16 * MiB : FrameAllocator::no_limit;
            auto r = f.allocator.alloc(pages, alignment, limit);
            if (r.is_error()) {
                ASSERT_EQ(r.error().code(), ErrorCode::OutOfMemory);
                continue;
            }
            uint64_t base = r.value();
            ASSERT_EQ(base % (alignment * page_size), 0u);
            if (limit != FrameAllocator::no_limit) {
                ASSERT_LE(base + pages * page_size, limit);
            }
            auto next = live.lower_bound(base);
            if (next != live.end()) {
                ASSERT_LE(base + pages * page_size, next->first);
            }
            if (next != live.begin()) {
                auto prev = std::prev(next);
                ASSERT_LE(prev->first + prev->second * page_size, base);
            }
            live[base] = pages;
            expected_free -= pages;
        } else {
            auto it = live.begin();
            std::advance(it, rng() % live.size());
            ASSERT_FALSE(f.allocator.free(it->first, it->second).is_error());
            ASSERT_TRUE(f.allocator.free(it->first, it->second).is_error());
            expected_free += it->second;
            live.erase(it);
        }
        ASSERT_EQ(f.allocator.free_pages(), expected_free);
    }
    for (auto& [base, pages] : live)
        ASSERT_TRUE(f.allocator.is_allocated(base, pages));
}

TEST(FrameAllocator, SixtyFourGibMachine)
{
    // QEMU-like layout with 64 GiB: 2 GiB below the PCI hole, the rest above 4 GiB.
    std::vector<MemoryRegion> map {
        region(0, 640 * KiB),
        region(1 * MiB, 2 * GiB - 1 * MiB),
        region(0xe0000000, 256 * MiB, MemoryKind::Reserved),
        region(4 * GiB, 62 * GiB),
    };
    Fixture f(66 * GiB, 8 * MiB);
    ASSERT_FALSE(f.allocator.initialize(map, f.memory.mapper()).is_error());
    EXPECT_EQ(f.allocator.metadata_range().size, 66 * GiB / page_size / 4); // two bits per page
    EXPECT_GE(f.allocator.metadata_range().base, 4 * GiB);
    // Many single pages, then big aligned runs, then DMA below 4 GiB.
    std::vector<uint64_t> pages;
    for (int i = 0; i < 200000; ++i)
        pages.push_back(MUST(f.allocator.alloc(1)));
    uint64_t huge = MUST(f.allocator.alloc(GiB / page_size, GiB / page_size));
    EXPECT_EQ(huge % GiB, 0u);
    uint64_t dma = MUST(f.allocator.alloc(256, 16, 4 * GiB));
    EXPECT_LT(dma, 4 * GiB);
    for (size_t i = 0; i < pages.size(); i += 3)
        MUST(f.allocator.free(pages[i], 1));
    for (int i = 0; i < 50000; ++i)
        MUST(f.allocator.alloc(1));
    MUST(f.allocator.free(huge, GiB / page_size));
    EXPECT_TRUE(f.allocator.is_free(huge, GiB / page_size));
}
