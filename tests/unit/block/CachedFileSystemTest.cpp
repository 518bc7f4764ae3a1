// The file system over nvme_cache: the CrashMonkey-style crash tests of
// tests/unit/fs/CrashTest.cpp rerun with a small cache between the file
// system and the recording device (so write-back, coalescing and eviction
// of dirty pages all happen inside the recorded flush intervals), plus the
// mapping case: pinned pages of a file keep its contents while the file is
// removed and its blocks are reused.

#include "tests/unit/block/CacheTestUtil.h"

#include <cstring>
#include <functional>
#include <random>

using namespace aisos;
using namespace aisos::fs;
using namespace aisos::fs::test;
using aisos::block::AllocatorPageProvider;
using aisos::block::BlockCache;
using aisos::block::BlockCacheOptions;
using aisos::block::PinnedPage;

namespace {

BlockCacheOptions tiny_cache()
{
    BlockCacheOptions options;
    options.budget_bytes = 24 * 4096; // small enough to evict dirty metadata mid-operation
    options.read_ahead_blocks = 4;
    options.bypass_blocks = 64;
    return options;
}

// Runs body over a file system mounted through a cache on device.
void with_cached_fs(block::BlockDevice& device, const std::function<void(FileSystem&, BlockCache&)>& body, BlockCacheOptions options = tiny_cache())
{
    MallocAllocator allocator;
    AllocatorPageProvider pages(allocator);
    TestClock clock;
    auto* cache = MUST(BlockCache::try_create(device, pages, allocator, options));
    auto* fs = MUST(FileSystem::mount(*cache, allocator, &clock));
    body(*fs, *cache);
    FileSystem::unmount(fs);
    BlockCache::destroy(cache);
    EXPECT_EQ(pages.live_pages(), 0);
    EXPECT_EQ(allocator.live_allocations(), 0);
}

struct Unit {
    uint64_t block;
    const uint8_t* data;
};

using Classify = std::function<int(ErrorOr<FileSystem*>&)>;

// Records the device writes and flushes of operation (run through a cache),
// then checks every in-order prefix and random reorderings of each flush
// interval, mounting the raw device WITHOUT the cache (what survives a power
// cut is only what reached the disk). Returns per-outcome counts.
std::vector<int> crash_test(std::vector<uint8_t> base, uint32_t block_size, const std::function<void(block::BlockDevice&)>& operation,
    int outcomes, const Classify& classify, size_t max_prefix_states = 400)
{
    std::vector<int> counts(size_t(outcomes), 0);
    RamBlockDevice device(block_size, base);
    device.start_recording();
    operation(device);
    auto log = device.stop_recording();

    std::vector<std::vector<Unit>> epochs(1);
    for (auto& op : log) {
        if (op.kind == RamBlockDevice::Operation::Kind::Flush) {
            epochs.emplace_back();
            continue;
        }
        for (size_t offset = 0; offset < op.data.size(); offset += block_size)
            epochs.back().push_back({ op.block + offset / block_size, op.data.data() + offset });
    }
    EXPECT_TRUE(epochs.back().empty()) << "operation ended with unflushed writes";

    int states = 0;
    auto check_state = [&](std::vector<uint8_t> image, int minimum, bool acknowledged, const char* kind) -> int {
        RamBlockDevice state(block_size, std::move(image));
        MallocAllocator allocator;
        TestClock clock;
        auto mounted = FileSystem::mount(state, allocator, &clock);
        int outcome = classify(mounted);
        ++states;
        EXPECT_GE(outcome, 0) << kind << " state " << states << ": illegal content"
                              << (mounted.is_error() ? std::string(" (mount: ") + mounted.error().reason() + ")" : std::string());
        if (outcome >= 0)
            ++counts[size_t(outcome)];
        EXPECT_GE(outcome, minimum) << kind << " state " << states << ": went back to an earlier outcome";
        if (acknowledged) {
            EXPECT_EQ(outcome, outcomes - 1) << "the acknowledged state lost the operation";
        }
        if (!mounted.is_error()) {
            CheckReport report;
            auto checked = mounted.value()->check(report);
            EXPECT_FALSE(checked.is_error()) << kind << " state " << states << ": " << checked.error().reason();
            FileSystem::unmount(mounted.value());
        }
        return outcome;
    };
    auto apply = [&](std::vector<uint8_t>& image, const Unit& unit) {
        std::memcpy(image.data() + unit.block * block_size, unit.data, block_size);
    };

    size_t total = 0;
    for (auto& epoch : epochs)
        total += epoch.size();
    size_t stride = total > max_prefix_states ? total / max_prefix_states : 1;
    std::vector<uint8_t> image = base;
    int minimum = 0;
    size_t index = 0;
    for (size_t e = 0; e < epochs.size(); ++e) {
        for (size_t k = 0; k <= epochs[e].size(); ++k) {
            bool epoch_end = k == epochs[e].size();
            if (epoch_end || index % stride == 0 || k + 8 > epochs[e].size()) {
                int outcome = check_state(image, minimum, e == epochs.size() - 1 && epoch_end, "prefix");
                if (outcome > minimum)
                    minimum = outcome;
            }
            if (!epoch_end) {
                apply(image, epochs[e][k]);
                ++index;
            }
        }
    }
    std::mt19937 random(4242);
    std::vector<uint8_t> flushed = base;
    for (auto& epoch : epochs) {
        if (epoch.size() > 1) {
            for (int seed = 0; seed < 4; ++seed) {
                std::vector<Unit> chosen;
                for (auto& unit : epoch) {
                    if (random() % 2)
                        chosen.push_back(unit);
                }
                std::shuffle(chosen.begin(), chosen.end(), random);
                std::vector<uint8_t> state = flushed;
                for (auto& unit : chosen)
                    apply(state, unit);
                check_state(std::move(state), 0, false, "reordered");
            }
        }
        for (auto& unit : epoch)
            apply(flushed, unit);
    }
    std::fprintf(stderr, "crash states checked over the cache: %d (%zu writes, %zu flushes)\n", states, total, epochs.size() - 1);
    return counts;
}

std::vector<uint8_t> make_image(uint32_t block_size, uint64_t bytes, const std::function<void(FileSystem&)>& populate)
{
    RamBlockDevice device(block_size, bytes / block_size);
    MallocAllocator allocator;
    TestClock clock;
    MUST(FileSystem::format(device, allocator, {}));
    auto* fs = MUST(FileSystem::mount(device, allocator, &clock));
    populate(*fs);
    FileSystem::unmount(fs);
    return device.bytes();
}

bool has_content(FileSystem& fs, std::string_view path, const std::vector<uint8_t>& expected)
{
    auto content = read_file(fs, path);
    return !content.is_error() && content.value() == expected;
}

bool absent(FileSystem& fs, std::string_view path)
{
    auto stat = fs.stat(path);
    return stat.is_error() && stat.error().code() == ErrorCode::NotFound;
}

} // namespace

TEST(CachedCrash, ReplaceSmallFileOn512ByteSectors)
{
    auto old_content = pattern(10000, 1);
    auto new_content = pattern(23000, 2);
    auto other = pattern(3000, 3);
    auto base = make_image(512, 4 << 20, [&](FileSystem& fs) {
        MUST(write_file(fs, "system/users/admin.json", old_content));
        MUST(write_file(fs, "system/other", other));
    });
    auto counts = crash_test(base, 512, [&](block::BlockDevice& device) { with_cached_fs(device, [&](FileSystem& fs, BlockCache&) { MUST(write_file(fs, "system/users/admin.json", new_content, 7000)); }); },
        2, [&](ErrorOr<FileSystem*>& mounted) {
            if (mounted.is_error() || !has_content(*mounted.value(), "system/other", other))
                return -1;
            if (has_content(*mounted.value(), "system/users/admin.json", old_content))
                return 0;
            return has_content(*mounted.value(), "system/users/admin.json", new_content) ? 1 : -1;
        });
    EXPECT_GT(counts[0], 5);
    EXPECT_GT(counts[1], 0);
}

TEST(CachedCrash, LargeWriteThroughTheBypass)
{
    auto big = pattern(3 << 20, 77);
    auto keep = pattern(40000, 4);
    auto base = make_image(4096, 8 << 20, [&](FileSystem& fs) { MUST(write_file(fs, "keep", keep)); });
    auto counts = crash_test(base, 4096, [&](block::BlockDevice& device) {
        with_cached_fs(device, [&](FileSystem& fs, BlockCache& cache) {
            MUST(write_file(fs, "models/m.gguf", big, 1 << 20));
            EXPECT_GT(cache.statistics().bypass_writes, 0u);
        }); },
        2, [&](ErrorOr<FileSystem*>& mounted) {
            if (mounted.is_error() || !has_content(*mounted.value(), "keep", keep))
                return -1;
            if (absent(*mounted.value(), "models/m.gguf"))
                return 0;
            return has_content(*mounted.value(), "models/m.gguf", big) ? 1 : -1;
        },
        150);
    EXPECT_GT(counts[0], 5);
    EXPECT_GT(counts[1], 0);
}

TEST(CachedCrash, LargeWriteThroughTheCacheEvictsDirtyPagesBetweenFlushes)
{
    // With the bypass off, the file's 1 MiB data writes land in a 24-page
    // cache: dirty pages are written back under pressure, in their own
    // order, long before the commit's flushes.
    auto options = tiny_cache();
    options.bypass_blocks = 1024;
    auto big = pattern(2 << 20, 78);
    auto keep = pattern(40000, 4);
    auto base = make_image(4096, 8 << 20, [&](FileSystem& fs) { MUST(write_file(fs, "keep", keep)); });
    auto counts = crash_test(base, 4096, [&](block::BlockDevice& device) {
        with_cached_fs(device, [&](FileSystem& fs, BlockCache& cache) {
            MUST(write_file(fs, "models/m.gguf", big, 1 << 20));
            auto stats = cache.statistics();
            EXPECT_EQ(stats.bypass_writes, 0u);
            EXPECT_GT(stats.evictions, 400u);
            EXPECT_GT(stats.write_backs, 500u);
            EXPECT_LE(stats.resident_pages, 24u);
        }, options); },
        2, [&](ErrorOr<FileSystem*>& mounted) {
            if (mounted.is_error() || !has_content(*mounted.value(), "keep", keep))
                return -1;
            if (absent(*mounted.value(), "models/m.gguf"))
                return 0;
            return has_content(*mounted.value(), "models/m.gguf", big) ? 1 : -1;
        },
        150);
    EXPECT_GT(counts[0], 5);
    EXPECT_GT(counts[1], 0);
}

TEST(CachedCrash, DirectoryChangesAndRepeatedReplaces)
{
    auto file = pattern(6000, 5);
    auto base = make_image(512, 4 << 20, [&](FileSystem& fs) {
        MUST(fs.make_directory("old/empty"));
        MUST(write_file(fs, "old/file", file));
    });
    auto counts = crash_test(base, 512, [&](block::BlockDevice& device) {
        with_cached_fs(device, [&](FileSystem& fs, BlockCache&) {
            MUST(fs.make_directory("new/a/b"));
            MUST(write_file(fs, "new/a/b/c", { 1, 2, 3 }));
            MUST(fs.remove("old/empty"));
            for (uint8_t i = 1; i <= 3; ++i)
                MUST(write_file(fs, "counter", std::vector<uint8_t>(size_t(i) * 1000, i)));
        }); },
        7, [&](ErrorOr<FileSystem*>& mounted) {
            if (mounted.is_error())
                return -1;
            auto& fs = *mounted.value();
            if (!has_content(fs, "old/file", file))
                return -1;
            bool dir = !fs.stat("new/a/b").is_error();
            bool c = has_content(fs, "new/a/b/c", { 1, 2, 3 });
            bool empty_gone = absent(fs, "old/empty");
            auto counter = read_file(fs, "counter");
            int counter_value = 0;
            if (!counter.is_error()) {
                auto& bytes = counter.value();
                uint8_t i = bytes.empty() ? 0 : bytes[0];
                if (i < 1 || i > 3 || bytes != std::vector<uint8_t>(size_t(i) * 1000, i))
                    return -1;
                counter_value = i;
            }
            if (counter_value > 0)
                return dir && c && empty_gone ? 3 + counter_value : -1;
            if (!dir && !c && !empty_gone && absent(fs, "new"))
                return 0;
            if (dir && !c && !empty_gone && list_names(fs, "new/a/b").empty())
                return 1;
            if (dir && c && !empty_gone)
                return 2;
            if (dir && c && empty_gone)
                return 3;
            return -1;
        });
    for (int outcome = 0; outcome < 7; ++outcome)
        EXPECT_GT(counts[size_t(outcome)], 0) << outcome;
}

TEST(CachedFileSystem, SurvivesRemountAndServesRepeatedReadsFromTheCache)
{
    RamBlockDevice device(512, (16 << 20) / 512);
    MallocAllocator allocator;
    MUST(FileSystem::format(device, allocator, {}));
    auto content = pattern(300000, 9);
    with_cached_fs(device, [&](FileSystem& fs, BlockCache& cache) {
        MUST(write_file(fs, "dir/file", content, 50000));
        auto reads_before = device.reads();
        ASSERT_TRUE(has_content(fs, "dir/file", content));
        auto first_pass = device.reads() - reads_before;
        auto hits_before = cache.statistics().hits;
        std::vector<uint8_t> piece(16384);
        for (uint64_t offset = 0; offset + piece.size() <= 64 * 1024; offset += piece.size())
            ASSERT_EQ(MUST(fs.read("dir/file", offset, piece)), piece.size());
        EXPECT_GT(cache.statistics().hits, hits_before);
        EXPECT_GT(first_pass, 0u);
    });
    with_cached_fs(device, [&](FileSystem& fs, BlockCache&) { EXPECT_TRUE(has_content(fs, "dir/file", content)); });
    // And without the cache: the disk holds everything.
    TestClock clock;
    auto* fs = MUST(FileSystem::mount(device, allocator, &clock));
    EXPECT_TRUE(has_content(*fs, "dir/file", content));
    FileSystem::unmount(fs);
}

TEST(CachedFileSystem, PinnedFilePagesKeepTheirContentsWhenTheBlocksAreReused)
{
    RamBlockDevice device(4096, (2 << 20) / 4096); // small: freed blocks get reused soon
    MallocAllocator allocator;
    MUST(FileSystem::format(device, allocator, {}));
    auto model = pattern(200000, 11);
    with_cached_fs(device, [&](FileSystem& fs, BlockCache& cache) {
        MUST(write_file(fs, "model", model));
        // Map: pin every block of the file, as storage::map_file does.
        auto* file = MUST(fs.open("model"));
        std::vector<PinnedPage> pinned;
        std::vector<uint64_t> blocks;
        for (auto& extent : file->extents()) {
            for (uint64_t i = 0; i < extent.device_block_count; ++i) {
                pinned.push_back(MUST(cache.pin(extent.device_block + i)));
                blocks.push_back(extent.device_block + i);
            }
        }
        fs.close(file);
        ASSERT_EQ(pinned.size(), (model.size() + 4095) / 4096);
        // Remove it and fill the disk with other files until its blocks are reused.
        MUST(fs.remove("model"));
        bool reused = false;
        for (int i = 0; i < 40 && !reused; ++i) {
            auto name = "filler" + std::to_string(i);
            MUST(write_file(fs, name, pattern(40000, uint32_t(100 + i)), 4096));
            auto extents = MUST(fs.file_extents(name));
            for (auto& extent : extents) {
                for (uint64_t b : blocks)
                    reused |= b >= extent.device_block && b < extent.device_block + extent.device_block_count;
            }
        }
        ASSERT_TRUE(reused) << "the test did not get the freed blocks reused";
        for (size_t page = 0; page < pinned.size(); ++page) {
            size_t bytes = std::min<size_t>(4096, model.size() - page * 4096);
            ASSERT_EQ(0, std::memcmp(pinned[page].data, model.data() + page * 4096, bytes)) << "page " << page;
        }
        for (auto& page : pinned)
            cache.unpin(page.handle);
        EXPECT_EQ(cache.statistics().pinned_pages, 0u);
        for (int i = 0; i < 40; ++i) {
            auto name = "filler" + std::to_string(i);
            if (!fs.stat(name).is_error()) {
                EXPECT_TRUE(has_content(fs, name, pattern(40000, uint32_t(100 + i)))) << name;
            }
        }
    });
}
