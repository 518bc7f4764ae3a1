// Crash consistency, the CrashMonkey way: record every block write and flush
// an operation issues, then rebuild the disk as a power cut could have left
// it and check it. Crash states are
//  - every in-order prefix of the writes (cut at every device block), and
//  - for every flush interval, random subsets of its writes applied in
//    random order on top of everything flushed before: unflushed writes may
//    be dropped, reordered, or torn at device-block granularity.
// Each state must mount (which runs the full check), pass fsck, show one of
// the operation's legal outcomes, and stay writable. States along the
// in-order prefix must never go back to an earlier outcome, and the state
// after the final flush (the acknowledged one) must show the final outcome.

#include "tests/unit/fs/FsTestUtil.h"

#include <cstdio>
#include <cstring>
#include <functional>
#include <random>

using namespace aisos;
using namespace aisos::fs;
using namespace aisos::fs::test;

namespace {

struct Unit {
    uint64_t block;
    const uint8_t* data;
};

// Returns the outcome index of a mounted (or unmountable) state; -1 = illegal.
using Classify = std::function<int(ErrorOr<FileSystem*>&)>;

struct CrashRun {
    int states { 0 };
    std::vector<int> outcome_counts;
};

CrashRun crash_test(std::vector<uint8_t> base, uint32_t block_size, const std::function<void(RamBlockDevice&)>& operation, int outcomes,
    const Classify& classify, int seeds = 6, size_t max_prefix_states = 600)
{
    CrashRun run;
    run.outcome_counts.assign(size_t(outcomes), 0);
    RamBlockDevice device(block_size, base);
    device.start_recording();
    operation(device);
    auto log = device.stop_recording();

    // A discard is replayed like a write of garbage (what a deallocated
    // block may read as); it need not be flushed, since losing it is
    // harmless, so the last epoch may hold discards but no writes.
    std::vector<uint8_t> discarded(block_size, RamBlockDevice::kDiscardedByte);
    std::vector<std::vector<Unit>> epochs(1);
    bool unflushed_writes = false;
    for (auto& op : log) {
        if (op.kind == RamBlockDevice::Operation::Kind::Flush) {
            epochs.emplace_back();
            unflushed_writes = false;
            continue;
        }
        if (op.kind == RamBlockDevice::Operation::Kind::Discard) {
            for (uint64_t i = 0; i < op.count; ++i)
                epochs.back().push_back({ op.block + i, discarded.data() });
            continue;
        }
        unflushed_writes = true;
        for (size_t offset = 0; offset < op.data.size(); offset += block_size)
            epochs.back().push_back({ op.block + offset / block_size, op.data.data() + offset });
    }
    EXPECT_FALSE(unflushed_writes) << "operation ended with unflushed writes";

    auto check_state = [&](std::vector<uint8_t> image, int minimum, bool acknowledged, const char* kind) -> int {
        RamBlockDevice state(block_size, std::move(image));
        MallocAllocator allocator;
        TestClock clock;
        auto mounted = FileSystem::mount(state, allocator, &clock);
        int outcome = classify(mounted);
        ++run.states;
        EXPECT_GE(outcome, 0) << kind << " state " << run.states << ": illegal content"
                              << (mounted.is_error() ? std::string(" (mount: ") + mounted.error().reason() + ")" : std::string());
        if (outcome >= 0)
            ++run.outcome_counts[size_t(outcome)];
        EXPECT_GE(outcome, minimum) << kind << " state " << run.states << ": went back to an earlier outcome";
        if (acknowledged) {
            EXPECT_EQ(outcome, outcomes - 1) << "the acknowledged state lost the operation";
        }
        if (!mounted.is_error()) {
            auto* fs = mounted.value();
            CheckReport report;
            auto checked = fs->check(report);
            EXPECT_FALSE(checked.is_error()) << kind << " state " << run.states << ": " << checked.error().reason();
            // The recovered file system keeps working.
            auto after = write_file(*fs, "after-crash/file", pattern(5000, 99));
            EXPECT_FALSE(after.is_error()) << after.error().reason();
            checked = fs->check(report);
            EXPECT_FALSE(checked.is_error()) << kind << " state " << run.states << " after a write: " << checked.error().reason();
            FileSystem::unmount(fs);
        }
        EXPECT_EQ(allocator.live_allocations(), 0);
        return outcome;
    };

    auto apply = [&](std::vector<uint8_t>& image, const Unit& unit) {
        std::memcpy(image.data() + unit.block * block_size, unit.data, block_size);
    };

    size_t total_units = 0;
    for (auto& epoch : epochs)
        total_units += epoch.size();
    size_t stride = total_units > max_prefix_states ? total_units / max_prefix_states : 1;

    // In-order prefixes.
    std::vector<uint8_t> image = base;
    int minimum = 0;
    size_t index = 0;
    for (size_t e = 0; e < epochs.size(); ++e) {
        for (size_t k = 0; k <= epochs[e].size(); ++k) {
            bool epoch_end = k == epochs[e].size();
            if (epoch_end || index % stride == 0 || k + 8 > epochs[e].size()) {
                bool acknowledged = e == epochs.size() - 1 && epoch_end;
                int outcome = check_state(image, minimum, acknowledged, "prefix");
                if (outcome > minimum)
                    minimum = outcome;
            }
            if (!epoch_end) {
                apply(image, epochs[e][k]);
                ++index;
            }
        }
    }

    // Unflushed writes dropped, reordered and torn.
    std::mt19937 random(12345);
    std::vector<uint8_t> flushed = base;
    for (size_t e = 0; e < epochs.size(); ++e) {
        if (epochs[e].size() > 1) {
            for (int seed = 0; seed < seeds; ++seed) {
                std::vector<Unit> chosen;
                for (auto& unit : epochs[e]) {
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
        for (auto& unit : epochs[e])
            apply(flushed, unit);
    }
    // snprintf rather than string concatenation: GCC 12 -O3 reports a false
    // -Wrestrict on `" " + std::to_string(...)`.
    char counts[256] = {};
    size_t used = 0;
    for (int count : run.outcome_counts) {
        int wrote = std::snprintf(counts + used, sizeof counts - used, " %d", count);
        if (wrote > 0 && size_t(wrote) < sizeof counts - used)
            used += size_t(wrote);
    }
    std::fprintf(stderr, "crash states checked: %d (%zu writes of %u bytes, %zu flushes); per outcome:%s\n", run.states, total_units, block_size,
        epochs.size() - 1, counts);
    return run;
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

void with_fs(RamBlockDevice& device, const std::function<void(FileSystem&)>& body)
{
    MallocAllocator allocator;
    TestClock clock;
    auto* fs = MUST(FileSystem::mount(device, allocator, &clock));
    body(*fs);
    FileSystem::unmount(fs);
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

}

TEST(Crash, ReplaceSmallFile)
{
    auto old_content = pattern(10000, 1);
    auto new_content = pattern(23000, 2);
    auto other = pattern(3000, 3);
    auto base = make_image(512, 4 << 20, [&](FileSystem& fs) {
        MUST(write_file(fs, "system/users/admin.json", old_content));
        MUST(write_file(fs, "system/other", other));
    });
    auto run = crash_test(base, 512, [&](RamBlockDevice& device) { with_fs(device, [&](FileSystem& fs) { MUST(write_file(fs, "system/users/admin.json", new_content, 7000)); }); },
        2, [&](ErrorOr<FileSystem*>& mounted) {
            if (mounted.is_error() || !has_content(*mounted.value(), "system/other", other))
                return -1;
            if (has_content(*mounted.value(), "system/users/admin.json", old_content))
                return 0;
            if (has_content(*mounted.value(), "system/users/admin.json", new_content))
                return 1;
            return -1;
        });
    EXPECT_GT(run.outcome_counts[0], 10);
    EXPECT_GT(run.outcome_counts[1], 0);
}

TEST(Crash, LargeMultiExtentWrite)
{
    // Fragment the free space so the new file needs several extents.
    std::vector<std::string> kept;
    auto base = make_image(4096, 8 << 20, [&](FileSystem& fs) {
        for (int i = 0; i < 24; ++i)
            MUST(write_file(fs, "frag/" + std::to_string(i), pattern(128 << 10, uint32_t(i))));
        for (int i = 0; i < 24; i += 2)
            MUST(fs.remove("frag/" + std::to_string(i)));
    });
    auto big = pattern(4 << 20, 77);
    auto run = crash_test(base, 4096, [&](RamBlockDevice& device) {
        with_fs(device, [&](FileSystem& fs) {
            MUST(write_file(fs, "models/m.gguf", big, 1 << 20));
            auto extents = MUST(fs.file_extents("models/m.gguf"));
            EXPECT_GT(extents.size(), 3u);
        }); },
        2, [&](ErrorOr<FileSystem*>& mounted) {
            if (mounted.is_error())
                return -1;
            auto& fs = *mounted.value();
            for (int i = 1; i < 24; i += 2) {
                if (!has_content(fs, "frag/" + std::to_string(i), pattern(128 << 10, uint32_t(i))))
                    return -1;
            }
            if (absent(fs, "models/m.gguf"))
                return 0;
            return has_content(fs, "models/m.gguf", big) ? 1 : -1;
        },
        3, 150);
    EXPECT_GT(run.outcome_counts[0], 10);
    EXPECT_GT(run.outcome_counts[1], 0);
}

TEST(Crash, DirectoryChanges)
{
    auto file = pattern(6000, 5);
    auto base = make_image(512, 4 << 20, [&](FileSystem& fs) {
        MUST(fs.make_directory("old/empty"));
        MUST(write_file(fs, "old/file", file));
    });
    // Three commits: mkdir -p, a file inside, removal of an empty directory.
    auto run = crash_test(base, 512, [&](RamBlockDevice& device) {
        with_fs(device, [&](FileSystem& fs) {
            MUST(fs.make_directory("new/a/b"));
            MUST(write_file(fs, "new/a/b/c", { 1, 2, 3 }));
            MUST(fs.remove("old/empty"));
        }); },
        4, [&](ErrorOr<FileSystem*>& mounted) {
            if (mounted.is_error())
                return -1;
            auto& fs = *mounted.value();
            if (!has_content(fs, "old/file", file))
                return -1;
            bool dir = !fs.stat("new/a/b").is_error();
            bool c = has_content(fs, "new/a/b/c", { 1, 2, 3 });
            bool empty_gone = absent(fs, "old/empty");
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
    for (int outcome = 0; outcome < 4; ++outcome)
        EXPECT_GT(run.outcome_counts[size_t(outcome)], 0) << outcome;
}

TEST(Crash, RemoveFile)
{
    auto content = pattern(50000, 6);
    auto base = make_image(512, 4 << 20, [&](FileSystem& fs) {
        MUST(write_file(fs, "a/b/victim", content));
        MUST(write_file(fs, "a/b/stays", { 9 }));
    });
    auto run = crash_test(base, 512, [&](RamBlockDevice& device) { with_fs(device, [&](FileSystem& fs) { MUST(fs.remove("a/b/victim")); }); }, 2,
        [&](ErrorOr<FileSystem*>& mounted) {
            if (mounted.is_error() || !has_content(*mounted.value(), "a/b/stays", { 9 }))
                return -1;
            if (has_content(*mounted.value(), "a/b/victim", content))
                return 0;
            return absent(*mounted.value(), "a/b/victim") ? 1 : -1;
        });
    EXPECT_GT(run.outcome_counts[0], 0);
    EXPECT_GT(run.outcome_counts[1], 0);
}

TEST(Crash, FormatEmptyDisk)
{
    std::vector<uint8_t> base(4 << 20, 0);
    auto run = crash_test(base, 512, [&](RamBlockDevice& device) {
        MallocAllocator allocator;
        MUST(FileSystem::format(device, allocator, {})); },
        2, [&](ErrorOr<FileSystem*>& mounted) {
            if (mounted.is_error())
                return mounted.error().code() == ErrorCode::NotFound ? 0 : -1;
            return list_names(*mounted.value(), "/").empty() ? 1 : -1;
        });
    EXPECT_GT(run.outcome_counts[0], 0);
    EXPECT_GT(run.outcome_counts[1], 0);
}

TEST(Crash, FormatOverOldFileSystem)
{
    auto content = pattern(20000, 8);
    auto base = make_image(512, 4 << 20, [&](FileSystem& fs) { MUST(write_file(fs, "precious", content)); });
    auto run = crash_test(base, 512, [&](RamBlockDevice& device) {
        MallocAllocator allocator;
        MUST(FileSystem::format(device, allocator, {})); },
        3, [&](ErrorOr<FileSystem*>& mounted) {
            // Mid-format the disk holds no file system: a zeroed or a torn
            // superblock (Corrupt: mkfs has to be run again).
            if (mounted.is_error())
                return mounted.error().code() == ErrorCode::NotFound || mounted.error().code() == ErrorCode::Corrupt ? 1 : -1;
            if (has_content(*mounted.value(), "precious", content))
                return 0;
            return list_names(*mounted.value(), "/").empty() ? 2 : -1;
        });
    EXPECT_GT(run.outcome_counts[0], 0);
    EXPECT_GT(run.outcome_counts[1], 0);
    EXPECT_GT(run.outcome_counts[2], 0);
}

TEST(Crash, RepeatedReplacesAcrossBothSuperblockSlots)
{
    // Several generations in a row, so both superblock slots and both bitmap
    // areas take turns; a crash in any of them keeps the last acknowledged.
    auto base = make_image(512, 4 << 20, [&](FileSystem& fs) { MUST(write_file(fs, "counter", { 0 })); });
    auto run = crash_test(base, 512, [&](RamBlockDevice& device) {
        with_fs(device, [&](FileSystem& fs) {
            for (uint8_t i = 1; i <= 4; ++i)
                MUST(write_file(fs, "counter", std::vector<uint8_t>(size_t(i) * 1000, i)));
        }); },
        5, [&](ErrorOr<FileSystem*>& mounted) {
            if (mounted.is_error())
                return -1;
            auto content = read_file(*mounted.value(), "counter");
            if (content.is_error())
                return -1;
            auto& bytes = content.value();
            if (bytes == std::vector<uint8_t> { 0 })
                return 0;
            uint8_t i = bytes.empty() ? 0 : bytes[0];
            return (i >= 1 && i <= 4 && bytes == std::vector<uint8_t>(size_t(i) * 1000, i)) ? int(i) : -1;
        });
    for (int outcome = 0; outcome < 5; ++outcome)
        EXPECT_GT(run.outcome_counts[size_t(outcome)], 0) << outcome;
}
