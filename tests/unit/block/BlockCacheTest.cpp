// nvme_cache policy: hits and misses, LRU, write-back and flush ordering,
// read-ahead, bypass, pinning, the memory budget, device errors.

#include "host/MallocAllocator.h"
#include "tests/unit/block/CacheTestUtil.h"

#include <cstring>
#include <gtest/gtest.h>
#include <random>

using namespace aisos;
using namespace aisos::block;
using namespace aisos::block::test;
using Kind = LoggingDevice::Call::Kind;

namespace {

constexpr uint32_t B = BlockCache::kBlockSize;

std::vector<uint8_t> block_of(uint8_t value, size_t blocks = 1) { return std::vector<uint8_t>(blocks * B, value); }

// A device of 4096-byte blocks whose block n is filled with byte n % 251.
struct Fixture {
    explicit Fixture(BlockCacheOptions options, uint64_t blocks = 1024, uint32_t device_block = 4096)
        : ram(device_block, blocks * (B / device_block))
        , device(ram)
        , pages(allocator)
    {
        for (uint64_t n = 0; n < blocks; ++n)
            std::memset(ram.bytes().data() + n * B, int(n % 251), B);
        cache = MUST(BlockCache::try_create(device, pages, allocator, options));
    }
    ~Fixture()
    {
        BlockCache::destroy(cache);
        EXPECT_EQ(pages.live_pages(), 0);
        EXPECT_EQ(allocator.live_allocations(), 0);
    }

    std::vector<uint8_t> read(uint64_t block, size_t count = 1)
    {
        std::vector<uint8_t> out(count * B);
        auto result = cache->read(block, { out.data(), out.size() });
        EXPECT_FALSE(result.is_error()) << result.error().reason();
        return out;
    }
    void write(uint64_t block, const std::vector<uint8_t>& data)
    {
        auto result = cache->write(block, { data.data(), data.size() });
        EXPECT_FALSE(result.is_error()) << result.error().reason();
    }
    std::vector<uint8_t> on_disk(uint64_t block, size_t count = 1)
    {
        auto* start = ram.bytes().data() + block * B;
        return { start, start + count * B };
    }
    BlockCacheStatistics stats() const { return cache->statistics(); }

    RamBlockDevice ram;
    LoggingDevice device;
    MallocAllocator allocator;
    AllocatorPageProvider pages;
    BlockCache* cache { nullptr };
};

BlockCacheOptions small(uint64_t pages = 16, uint32_t read_ahead = 0)
{
    BlockCacheOptions options;
    options.budget_bytes = pages * B;
    options.read_ahead_blocks = read_ahead;
    options.bypass_blocks = 64;
    return options;
}

} // namespace

TEST(BlockCache, SecondReadIsAHit)
{
    Fixture f(small());
    EXPECT_EQ(f.read(5), block_of(5));
    EXPECT_EQ(f.device.count(Kind::Read), 1u);
    EXPECT_EQ(f.read(5), block_of(5));
    EXPECT_EQ(f.device.count(Kind::Read), 1u);
    EXPECT_EQ(f.stats().hits, 1u);
    EXPECT_EQ(f.stats().misses, 1u);
    EXPECT_TRUE(f.cache->is_cached(5));
}

TEST(BlockCache, MultiBlockReadMixesHitsAndOneReadPerMissingRun)
{
    Fixture f(small());
    (void)f.read(11);
    f.device.calls().clear();
    auto data = f.read(9, 5); // 9,10 miss; 11 hit; 12,13 miss
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(data[size_t(i) * B], uint8_t(9 + i));
    ASSERT_EQ(f.device.calls().size(), 2u);
    EXPECT_EQ(f.device.calls()[0], (LoggingDevice::Call { Kind::Read, 9, 2 }));
    EXPECT_EQ(f.device.calls()[1], (LoggingDevice::Call { Kind::Read, 12, 2 }));
}

TEST(BlockCache, EvictsTheLeastRecentlyUsedPage)
{
    Fixture f(small(16));
    for (uint64_t n = 0; n < 16; ++n)
        (void)f.read(n * 2); // blocks 0, 2, ..., 30
    (void)f.read(0);         // block 0 becomes the most recently used
    (void)f.read(100);       // evicts block 2, the least recently used
    EXPECT_TRUE(f.cache->is_cached(0));
    EXPECT_FALSE(f.cache->is_cached(2));
    EXPECT_TRUE(f.cache->is_cached(4));
    EXPECT_TRUE(f.cache->is_cached(100));
    (void)f.read(200); // next: block 4
    EXPECT_FALSE(f.cache->is_cached(4));
    EXPECT_TRUE(f.cache->is_cached(6));
    EXPECT_EQ(f.stats().evictions, 2u);
    EXPECT_EQ(f.stats().resident_pages, 16u);
}

TEST(BlockCache, WritesStayInTheCacheUntilFlush)
{
    Fixture f(small(64));
    for (uint64_t n = 0; n < 10; ++n)
        f.write(20 + n, block_of(uint8_t(200 + n)));
    EXPECT_EQ(f.device.count(Kind::Write), 0u);
    EXPECT_EQ(f.on_disk(20), block_of(20));
    EXPECT_EQ(f.stats().dirty_pages, 10u);
    EXPECT_EQ(f.read(25), block_of(205)); // reads see the cached write
    ASSERT_OK(f.cache->flush());
    for (uint64_t n = 0; n < 10; ++n)
        EXPECT_EQ(f.on_disk(20 + n), block_of(uint8_t(200 + n)));
    EXPECT_EQ(f.stats().dirty_pages, 0u);
    EXPECT_EQ(f.stats().write_backs, 10u);
    // The ten consecutive dirty blocks went out in one write, then the flush.
    ASSERT_EQ(f.device.calls().size(), 2u);
    EXPECT_EQ(f.device.calls()[0], (LoggingDevice::Call { Kind::Write, 20, 10 }));
    EXPECT_EQ(f.device.calls()[1].kind, Kind::Flush);
}

TEST(BlockCache, FlushWritesEveryDirtyPageBeforeTheDeviceFlush)
{
    Fixture f(small(64));
    f.write(50, block_of(1));
    f.write(3, block_of(2));
    f.write(51, block_of(3));
    f.write(7, block_of(4));
    f.write(3, block_of(5)); // rewritten before the flush: written once
    ASSERT_OK(f.cache->flush());
    std::vector<LoggingDevice::Call> expected {
        { Kind::Write, 3, 1 }, { Kind::Write, 7, 1 }, { Kind::Write, 50, 2 }, { Kind::Flush, 0, 0 }
    };
    EXPECT_EQ(f.device.calls(), expected);
    EXPECT_EQ(f.on_disk(3), block_of(5));
    // Later writes go after that flush, with their own flush.
    f.device.calls().clear();
    f.write(9, block_of(6));
    ASSERT_OK(f.cache->flush());
    ASSERT_OK(f.cache->flush()); // nothing dirty: only the device flush
    expected = { { Kind::Write, 9, 1 }, { Kind::Flush, 0, 0 }, { Kind::Flush, 0, 0 } };
    EXPECT_EQ(f.device.calls(), expected);
}

TEST(BlockCache, DirtyPagesAreWrittenBackWhenTheBudgetRunsOut)
{
    Fixture f(small(16));
    for (uint64_t n = 0; n < 16; ++n)
        f.write(n, block_of(uint8_t(100 + n)));
    EXPECT_EQ(f.device.count(Kind::Write), 0u);
    f.write(500, block_of(7)); // needs room: every dirty page goes out first
    EXPECT_EQ(f.device.count(Kind::Flush), 0u); // but no flush: that is the caller's
    for (uint64_t n = 0; n < 16; ++n)
        EXPECT_EQ(f.on_disk(n), block_of(uint8_t(100 + n)));
    EXPECT_EQ(f.stats().resident_pages, 16u);
    EXPECT_EQ(f.stats().dirty_pages, 1u);
    ASSERT_OK(f.cache->flush());
    EXPECT_EQ(f.on_disk(500), block_of(7));
}

TEST(BlockCache, SequentialReadsReadAheadInOneDeviceRead)
{
    Fixture f(small(64, 8));
    (void)f.read(10); // first read: not known to be sequential
    EXPECT_EQ(f.stats().read_ahead, 0u);
    f.device.calls().clear();
    EXPECT_EQ(f.read(11), block_of(11)); // continues the previous read
    ASSERT_EQ(f.device.calls().size(), 1u);
    EXPECT_EQ(f.device.calls()[0], (LoggingDevice::Call { Kind::Read, 11, 9 }));
    EXPECT_EQ(f.stats().read_ahead, 8u);
    for (uint64_t n = 12; n < 20; ++n)
        EXPECT_EQ(f.read(n), block_of(uint8_t(n)));
    EXPECT_EQ(f.device.calls().size(), 1u); // all hits
    EXPECT_EQ(f.stats().hits, 8u);
}

TEST(BlockCache, ReadAheadStopsAtACachedBlockAndAtTheEnd)
{
    Fixture f(small(64, 8), 100);
    (void)f.read(40);
    (void)f.read(30);
    f.device.calls().clear();
    (void)f.read(31); // sequential after 30: ahead 32..39, not 40
    EXPECT_EQ(f.device.calls().back(), (LoggingDevice::Call { Kind::Read, 31, 9 }));
    (void)f.read(95);
    (void)f.read(96); // ahead 97..99 only
    EXPECT_EQ(f.device.calls().back(), (LoggingDevice::Call { Kind::Read, 96, 4 }));
    (void)f.read(50);
    (void)f.read(52); // not sequential: no read-ahead
    EXPECT_EQ(f.device.calls().back(), (LoggingDevice::Call { Kind::Read, 52, 1 }));
}

TEST(BlockCache, LargeTransfersBypassTheCache)
{
    Fixture f(small(16));
    f.write(130, block_of(9)); // dirty, newer than the disk
    f.device.calls().clear();
    auto data = f.read(100, 64);
    ASSERT_EQ(f.device.calls().size(), 1u);
    EXPECT_EQ(f.device.calls()[0], (LoggingDevice::Call { Kind::Read, 100, 64 }));
    EXPECT_EQ(data[0], 100);
    EXPECT_EQ(data[30 * B], 9); // the cached dirty block wins
    EXPECT_EQ(f.stats().bypass_reads, 64u);
    EXPECT_EQ(f.stats().resident_pages, 1u); // nothing else was cached

    // A bypassing write replaces the cached copy: a later flush must not
    // write the stale dirty page over it.
    (void)f.read(120);
    auto big = block_of(77, 64);
    f.write(100, big);
    EXPECT_EQ(f.on_disk(130), block_of(77));
    EXPECT_FALSE(f.cache->is_cached(130));
    EXPECT_FALSE(f.cache->is_cached(120));
    ASSERT_OK(f.cache->flush());
    EXPECT_EQ(f.on_disk(130), block_of(77));
    EXPECT_EQ(f.read(120), block_of(77));
    EXPECT_EQ(f.stats().bypass_writes, 64u);
}

TEST(BlockCache, PinnedPagesStayResidentAndOutsideTheBudget)
{
    Fixture f(small(16));
    auto pinned = MUST(f.cache->pin(3));
    EXPECT_EQ(pinned.data[0], 3);
    EXPECT_EQ(pinned.physical, reinterpret_cast<uintptr_t>(pinned.data));
    for (uint64_t n = 100; n < 140; ++n)
        (void)f.read(n);
    EXPECT_TRUE(f.cache->is_cached(3));
    EXPECT_EQ(f.stats().resident_pages, 16u);
    EXPECT_EQ(f.stats().pinned_pages, 1u);
    EXPECT_EQ(f.pages.live_pages(), 17);
    auto again = MUST(f.cache->pin(3)); // shares the page
    EXPECT_EQ(again.data, pinned.data);
    EXPECT_EQ(f.stats().pinned_pages, 1u);
    f.cache->unpin(pinned.handle);
    EXPECT_EQ(f.stats().pinned_pages, 1u);
    f.cache->unpin(again.handle);
    EXPECT_EQ(f.stats().pinned_pages, 0u);
    EXPECT_LE(f.stats().resident_pages, 16u);
    EXPECT_EQ(f.pages.live_pages(), 16);
}

TEST(BlockCache, WriteToAPinnedBlockDetachesThePinnedPage)
{
    Fixture f(small(16));
    auto pinned = MUST(f.cache->pin(7));
    f.write(7, block_of(99));
    EXPECT_EQ(f.read(7), block_of(99));
    EXPECT_EQ(pinned.data[0], 7); // the mapping still sees the old contents
    EXPECT_EQ(pinned.data[B - 1], 7);
    ASSERT_OK(f.cache->flush());
    EXPECT_EQ(f.on_disk(7), block_of(99));
    EXPECT_EQ(pinned.data[0], 7);
    // The same through a bypassing write over the pinned block.
    auto other = MUST(f.cache->pin(200));
    f.write(180, block_of(55, 64));
    EXPECT_EQ(other.data[0], 200 % 251);
    EXPECT_EQ(f.read(200), block_of(55));
    long live = f.pages.live_pages();
    f.cache->unpin(pinned.handle); // detached: freed at the last unpin
    f.cache->unpin(other.handle);
    EXPECT_EQ(f.pages.live_pages(), live - 2);
    EXPECT_EQ(f.stats().pinned_pages, 0u);
}

TEST(BlockCache, PinningADirtyPageWritesItBackFirst)
{
    Fixture f(small(16));
    f.write(2, block_of(42));
    auto pinned = MUST(f.cache->pin(2));
    EXPECT_EQ(pinned.data[0], 42);
    EXPECT_EQ(f.on_disk(2), block_of(42));
    EXPECT_FALSE(f.cache->is_dirty(2));
    f.cache->unpin(pinned.handle);
}

TEST(BlockCache, PinnedPageLimit)
{
    auto options = small(16);
    options.pinned_limit_pages = 2;
    Fixture f(options);
    auto a = MUST(f.cache->pin(1));
    auto b = MUST(f.cache->pin(2));
    ASSERT_ERROR(f.cache->pin(3), ErrorCode::OutOfMemory);
    auto again = MUST(f.cache->pin(1)); // already pinned: no new page
    f.cache->unpin(a.handle);
    f.cache->unpin(again.handle);
    auto c = MUST(f.cache->pin(3));
    f.cache->unpin(b.handle);
    f.cache->unpin(c.handle);
    ASSERT_ERROR(f.cache->pin(5000), ErrorCode::OutOfRange);
}

TEST(BlockCache, FailedWriteBackKeepsPagesDirty)
{
    Fixture f(small(16));
    for (uint64_t n = 0; n < 5; ++n)
        f.write(n * 3, block_of(uint8_t(60 + n)));
    f.ram.fail_writes_after(0);
    ASSERT_ERROR(f.cache->flush(), ErrorCode::IoError);
    EXPECT_EQ(f.device.count(Kind::Flush), 0u); // no flush after a failed write
    EXPECT_EQ(f.stats().dirty_pages, 5u);
    EXPECT_EQ(f.read(6), block_of(62));
    // Memory pressure while the device fails: the new write is refused,
    // nothing already acknowledged is dropped.
    for (uint64_t n = 100; n < 111; ++n)
        (void)f.read(n);
    ASSERT_ERROR(f.cache->write(300, { block_of(1).data(), B }), ErrorCode::IoError);
    EXPECT_EQ(f.stats().dirty_pages, 5u);
    // A read under pressure still succeeds, uncached.
    EXPECT_EQ(f.read(400), block_of(uint8_t(400 % 251)));
    EXPECT_EQ(f.stats().dirty_pages, 5u);
    f.ram.fail_writes_after(-1);
    ASSERT_OK(f.cache->flush());
    for (uint64_t n = 0; n < 5; ++n)
        EXPECT_EQ(f.on_disk(n * 3), block_of(uint8_t(60 + n)));
}

TEST(BlockCache, DeviceFlushAndReadErrorsPropagate)
{
    Fixture f(small(16));
    f.write(1, block_of(5));
    f.ram.fail_flush(true);
    ASSERT_ERROR(f.cache->flush(), ErrorCode::IoError);
    f.ram.fail_flush(false);
    ASSERT_OK(f.cache->flush());
    f.ram.fail_reads(true);
    std::vector<uint8_t> out(B);
    ASSERT_ERROR(f.cache->read(9, { out.data(), B }), ErrorCode::IoError);
    EXPECT_FALSE(f.cache->is_cached(9));
    ASSERT_ERROR(f.cache->pin(9), ErrorCode::IoError);
    EXPECT_EQ(f.read(1), block_of(5)); // cached: no device read needed
    f.ram.fail_reads(false);
    EXPECT_EQ(f.read(9), block_of(9));
}

TEST(BlockCache, WithoutMemoryForPagesWritesGoThrough)
{
    Fixture f(small(16));
    f.allocator.fail_after(0);
    f.write(4, block_of(31));
    EXPECT_EQ(f.on_disk(4), block_of(31)); // written through
    EXPECT_EQ(f.read(4), block_of(31));    // served, uncached
    EXPECT_FALSE(f.cache->is_cached(4));
    f.allocator.never_fail();
}

TEST(BlockCache, SmallDeviceBlocksAreGroupedIntoPages)
{
    Fixture f(small(16), 64, 512);
    EXPECT_EQ(f.cache->block_count(), 64u);
    EXPECT_EQ(f.read(5), block_of(5));
    EXPECT_EQ(f.device.calls().back(), (LoggingDevice::Call { Kind::Read, 40, 8 }));
    f.write(6, block_of(8));
    ASSERT_OK(f.cache->flush());
    EXPECT_EQ(f.device.calls()[1], (LoggingDevice::Call { Kind::Write, 48, 8 }));
    EXPECT_EQ(f.on_disk(6), block_of(8));
    std::vector<uint8_t> out(B);
    ASSERT_ERROR(f.cache->read(64, { out.data(), B }), ErrorCode::OutOfRange);
    ASSERT_ERROR(f.cache->read(0, { out.data(), 100 }), ErrorCode::InvalidArgument);
}

TEST(BlockCache, RefusesUnsupportedDevicesAndBudgets)
{
    RamBlockDevice big(8192, 16);
    MallocAllocator allocator;
    AllocatorPageProvider pages(allocator);
    ASSERT_ERROR(BlockCache::try_create(big, pages, allocator), ErrorCode::Unsupported);
    RamBlockDevice ok(4096, 16);
    ASSERT_ERROR(BlockCache::try_create(ok, pages, allocator, small(4)), ErrorCode::InvalidArgument);
    allocator.fail_after(1);
    ASSERT_ERROR(BlockCache::try_create(ok, pages, allocator, small(16)), ErrorCode::OutOfMemory);
    EXPECT_EQ(allocator.live_allocations(), 0);
}

// Random reads, writes, pins, unpins and flushes against a model of the
// disk: contents always match, the budget is never exceeded, every page is
// accounted for, and after a flush the disk equals the model.
TEST(BlockCache, RandomOperationsMatchAModelAndStayWithinTheBudget)
{
    constexpr uint64_t blocks = 256;
    Fixture f(small(16, 4), blocks);
    std::vector<std::vector<uint8_t>> model(blocks);
    for (uint64_t n = 0; n < blocks; ++n)
        model[n] = block_of(uint8_t(n % 251));
    struct Pin {
        PinnedPage page;
        std::vector<uint8_t> expected;
    };
    std::vector<Pin> pins;
    std::mt19937 random(7);
    for (int step = 0; step < 20000; ++step) {
        uint32_t what = random() % 100;
        uint64_t first = random() % blocks;
        uint64_t count = 1 + random() % (what < 5 ? 80 : 6);
        if (first + count > blocks)
            count = blocks - first;
        if (what < 45) {
            auto data = f.read(first, count);
            for (uint64_t i = 0; i < count; ++i)
                ASSERT_EQ(0, std::memcmp(data.data() + i * B, model[first + i].data(), B)) << "step " << step << " block " << first + i;
        } else if (what < 85) {
            std::vector<uint8_t> data(count * B);
            for (auto& byte : data)
                byte = uint8_t(random());
            f.write(first, data);
            for (uint64_t i = 0; i < count; ++i)
                model[first + i].assign(data.begin() + long(i * B), data.begin() + long((i + 1) * B));
        } else if (what < 92 && pins.size() < 40) {
            auto pinned = MUST(f.cache->pin(first));
            pins.push_back({ pinned, model[first] });
        } else if (what < 98 && !pins.empty()) {
            size_t index = random() % pins.size();
            f.cache->unpin(pins[index].page.handle);
            pins.erase(pins.begin() + long(index));
        } else {
            ASSERT_OK(f.cache->flush());
            for (uint64_t n = 0; n < blocks; ++n)
                ASSERT_EQ(f.on_disk(n), model[n]) << "block " << n;
        }
        auto stats = f.stats();
        ASSERT_LE(stats.resident_pages, 16u);
        ASSERT_EQ(uint64_t(f.pages.live_pages()), stats.resident_pages + stats.pinned_pages);
        for (auto& pin : pins)
            ASSERT_EQ(0, std::memcmp(pin.page.data, pin.expected.data(), B)) << "a pinned page changed at step " << step;
    }
    for (auto& pin : pins)
        f.cache->unpin(pin.page.handle);
    ASSERT_OK(f.cache->flush());
    for (uint64_t n = 0; n < blocks; ++n)
        ASSERT_EQ(f.on_disk(n), model[n]);
    EXPECT_GT(f.stats().evictions, 100u);
    EXPECT_GT(f.stats().read_ahead, 0u);
    EXPECT_GT(f.stats().hits, 100u);
}

TEST(BlockCache, DiscardDropsCachedCopiesAndReachesTheDevice)
{
    Fixture f(small(16), 1024, 512);
    f.read(4);                     // clean and cached
    f.write(5, block_of(77));      // dirty
    auto pinned = MUST(f.cache->pin(6));
    f.device.calls().clear();
    ASSERT_OK(f.cache->discard(4, 3));
    EXPECT_FALSE(f.cache->is_cached(4));
    EXPECT_FALSE(f.cache->is_cached(5));
    EXPECT_FALSE(f.cache->is_cached(6));
    EXPECT_EQ(f.stats().dirty_pages, 0u);
    EXPECT_EQ(pinned.data[0], 6); // the mapping keeps its contents
    // One device call in device blocks (8 per cache block), no write-back of the dropped dirty page.
    ASSERT_EQ(f.device.calls().size(), 1u);
    EXPECT_EQ(f.device.calls()[0], (LoggingDevice::Call { Kind::Discard, 4 * 8, 3 * 8 }));
    EXPECT_EQ(f.on_disk(5), block_of(RamBlockDevice::kDiscardedByte));
    EXPECT_EQ(f.read(5), block_of(RamBlockDevice::kDiscardedByte));
    ASSERT_OK(f.cache->flush());
    EXPECT_EQ(f.device.count(Kind::Write), 0u);
    EXPECT_EQ(f.stats().discards, 1u);
    EXPECT_EQ(f.stats().discarded_blocks, 3u);
    f.cache->unpin(pinned.handle);

    // A range far larger than the cache visits what is cached instead.
    f.read(900);
    f.write(901, block_of(1));
    ASSERT_OK(f.cache->discard(10, 1000));
    EXPECT_FALSE(f.cache->is_cached(900));
    EXPECT_FALSE(f.cache->is_cached(901));
    EXPECT_EQ(f.stats().dirty_pages, 0u);
    ASSERT_ERROR(f.cache->discard(1000, 25), ErrorCode::OutOfRange);
}
