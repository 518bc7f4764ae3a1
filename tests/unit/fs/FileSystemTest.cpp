// Functional tests of lib/fs over a RAM block device.

#include "lib/fs/Crc32c.h"
#include "tests/unit/fs/FsTestUtil.h"

#include <algorithm>
#include <cstring>

using namespace aisos;
using namespace aisos::fs;
using namespace aisos::fs::test;

namespace {

struct Mounted {
    explicit Mounted(uint64_t bytes, uint32_t device_block = 512)
        : device(device_block, bytes / device_block)
    {
        auto formatted = FileSystem::format(device, allocator, { 0, 1000 });
        EXPECT_FALSE(formatted.is_error()) << formatted.error().reason();
        remount();
    }
    ~Mounted()
    {
        FileSystem::unmount(fs);
        EXPECT_EQ(allocator.live_allocations(), 0);
    }
    void remount()
    {
        FileSystem::unmount(fs);
        fs = nullptr;
        auto mounted = FileSystem::mount(device, allocator, &clock);
        ASSERT_FALSE(mounted.is_error()) << mounted.error().reason();
        fs = mounted.value();
    }
    void expect_clean()
    {
        CheckReport report;
        auto result = fs->check(report);
        EXPECT_FALSE(result.is_error()) << result.error().reason() << " at block " << report.bad_block;
    }

    MallocAllocator allocator;
    TestClock clock;
    RamBlockDevice device;
    FileSystem* fs { nullptr };
};

}

TEST(Crc32c, KnownVectors)
{
    const char* text = "123456789";
    EXPECT_EQ(crc32c({ reinterpret_cast<const uint8_t*>(text), 9 }), 0xE3069283u);
    uint8_t zeros[32] = {};
    EXPECT_EQ(crc32c({ zeros, 32 }), 0x8A9136AAu); // RFC 3720 B.4
    // Incremental equals one-shot.
    uint32_t part = crc32c({ reinterpret_cast<const uint8_t*>(text), 4 });
    EXPECT_EQ(crc32c({ reinterpret_cast<const uint8_t*>(text) + 4, 5 }, part), 0xE3069283u);
}

TEST(FileSystem, FormatAndMountEmpty)
{
    Mounted m(8 << 20);
    auto stat = MUST(m.fs->stat("/"));
    EXPECT_EQ(stat.type, NodeType::Directory);
    EXPECT_EQ(stat.mtime, 1000);
    EXPECT_TRUE(list_names(*m.fs, "").empty());
    auto space = m.fs->space();
    EXPECT_GT(space.total_bytes, 7u << 20);
    EXPECT_LE(space.free_bytes, space.total_bytes);
    EXPECT_GT(space.free_bytes, 7u << 20);
    EXPECT_EQ(m.fs->generation(), 1u);
    m.expect_clean();
}

TEST(FileSystem, UnformattedDeviceIsNotFound)
{
    MallocAllocator allocator;
    RamBlockDevice device(512, 4096);
    ASSERT_ERROR(FileSystem::mount(device, allocator, nullptr), ErrorCode::NotFound);
    CheckReport report;
    ASSERT_ERROR(fsck(device, allocator, report), ErrorCode::NotFound);
    RamBlockDevice tiny(512, 8);
    ASSERT_ERROR(FileSystem::format(tiny, allocator, {}), ErrorCode::NoSpace);
    RamBlockDevice odd(8192, 100);
    ASSERT_ERROR(FileSystem::format(odd, allocator, {}), ErrorCode::Unsupported);
    EXPECT_EQ(allocator.live_allocations(), 0);
}

TEST(FileSystem, WriteReadStatList)
{
    Mounted m(8 << 20);
    m.clock.m_now = 5000;
    std::vector<uint8_t> hello { 'h', 'e', 'l', 'l', 'o' };
    ASSERT_OK(write_file(*m.fs, "models/gemma-2b/config.json", hello));
    auto stat = MUST(m.fs->stat("models/gemma-2b/config.json"));
    EXPECT_EQ(stat.type, NodeType::File);
    EXPECT_EQ(stat.size, 5u);
    EXPECT_EQ(stat.mtime, 5000);
    EXPECT_EQ(MUST(m.fs->stat("/models/gemma-2b/")).type, NodeType::Directory);
    EXPECT_EQ(MUST(m.fs->stat("models")).mtime, 5000);
    EXPECT_EQ(MUST(read_file(*m.fs, "/models/gemma-2b/config.json")), hello);

    uint8_t buffer[16];
    EXPECT_EQ(MUST(m.fs->read("models/gemma-2b/config.json", 3, { buffer, 16 })), 2u);
    EXPECT_EQ(buffer[0], 'l');
    EXPECT_EQ(buffer[1], 'o');
    EXPECT_EQ(MUST(m.fs->read("models/gemma-2b/config.json", 5, { buffer, 16 })), 0u);
    EXPECT_EQ(MUST(m.fs->read("models/gemma-2b/config.json", 1ull << 40, { buffer, 16 })), 0u);
    ASSERT_ERROR(m.fs->read("models", 0, { buffer, 16 }), ErrorCode::InvalidArgument);
    ASSERT_ERROR(m.fs->read("models/nothing", 0, { buffer, 16 }), ErrorCode::NotFound);
    ASSERT_ERROR(m.fs->stat("models/gemma-2b/config.json/x"), ErrorCode::NotFound);

    std::vector<DirectoryEntry> entries;
    std::vector<std::string> names;
    ASSERT_OK(m.fs->list("models/gemma-2b", [&](const DirectoryEntry& entry) -> ErrorOr<void> {
        names.emplace_back(entry.name);
        EXPECT_EQ(entry.type, NodeType::File);
        EXPECT_EQ(entry.size, 5u);
        return {};
    }));
    EXPECT_EQ(names, std::vector<std::string> { "config.json" });
    ASSERT_ERROR(m.fs->list("models/gemma-2b/config.json", [](const DirectoryEntry&) -> ErrorOr<void> { return {}; }), ErrorCode::InvalidArgument);
    // A callback error stops the listing and comes back.
    ASSERT_ERROR(m.fs->list("models", [](const DirectoryEntry&) -> ErrorOr<void> { return Error { ErrorCode::Busy, "stop" }; }), ErrorCode::Busy);

    // Empty file.
    ASSERT_OK(write_file(*m.fs, "empty", {}));
    EXPECT_EQ(MUST(m.fs->stat("empty")).size, 0u);
    EXPECT_EQ(MUST(m.fs->read("empty", 0, { buffer, 16 })), 0u);
    m.expect_clean();
    m.remount();
    EXPECT_EQ(MUST(read_file(*m.fs, "models/gemma-2b/config.json")), hello);
    EXPECT_EQ(list_names(*m.fs, "/"), (std::vector<std::string> { "empty", "models" }));
}

TEST(FileSystem, ReplaceIsInvisibleUntilCommitAndFreesOldVersion)
{
    Mounted m(16 << 20);
    auto old_content = pattern(300000, 1);
    auto new_content = pattern(500000, 2);
    ASSERT_OK(write_file(*m.fs, "dir/file", old_content));
    auto free_with_old = m.fs->space().free_bytes;

    auto* writer = MUST(m.fs->begin_write("dir/file"));
    ASSERT_OK(writer->append({ new_content.data(), 200000 }));
    EXPECT_EQ(MUST(read_file(*m.fs, "dir/file")), old_content);
    ASSERT_OK(writer->append({ new_content.data() + 200000, new_content.size() - 200000 }));
    EXPECT_EQ(MUST(read_file(*m.fs, "dir/file")), old_content);
    EXPECT_EQ(writer->size(), new_content.size());
    ASSERT_OK(writer->commit());
    ASSERT_ERROR(writer->append({ new_content.data(), 1 }), ErrorCode::InvalidArgument);
    ASSERT_ERROR(writer->commit(), ErrorCode::InvalidArgument);
    Writer::destroy(writer);
    EXPECT_EQ(MUST(read_file(*m.fs, "dir/file")), new_content);
    // The old version's blocks came back; the new one costs its own size.
    auto old_blocks = (old_content.size() + 4095) / 4096;
    auto new_blocks = (new_content.size() + 4095) / 4096;
    EXPECT_EQ(m.fs->space().free_bytes, free_with_old + (old_blocks - new_blocks) * 4096);
    m.expect_clean();
}

TEST(FileSystem, AbortAndDestroyReturnSpace)
{
    Mounted m(16 << 20);
    auto free_before = m.fs->space().free_bytes;
    auto generation = m.fs->generation();
    auto content = pattern(3 << 20, 3);
    auto* writer = MUST(m.fs->begin_write("a"));
    ASSERT_OK(writer->append({ content.data(), content.size() }));
    EXPECT_LT(m.fs->space().free_bytes, free_before);
    writer->abort();
    EXPECT_EQ(m.fs->space().free_bytes, free_before);
    Writer::destroy(writer);

    writer = MUST(m.fs->begin_write("b"));
    ASSERT_OK(writer->append({ content.data(), content.size() }));
    Writer::destroy(writer); // without commit: aborted
    EXPECT_EQ(m.fs->space().free_bytes, free_before);
    EXPECT_EQ(m.fs->generation(), generation);
    ASSERT_ERROR(m.fs->stat("a"), ErrorCode::NotFound);
    ASSERT_ERROR(m.fs->stat("b"), ErrorCode::NotFound);
    m.expect_clean();
}

TEST(FileSystem, LargeFileInOddPiecesIsContiguous)
{
    Mounted m(64 << 20, 4096);
    auto content = pattern(40 << 20, 4);
    ASSERT_OK(write_file(*m.fs, "models/big.gguf", content, 12345));
    auto extents = MUST(m.fs->file_extents("models/big.gguf"));
    EXPECT_LE(extents.size(), 2u); // reservations are 32 MiB runs, grown in place
    uint64_t covered = 0;
    for (auto& extent : extents) {
        EXPECT_EQ(extent.file_offset, covered);
        covered += extent.device_block_count * 4096;
    }
    EXPECT_EQ(covered, content.size());

    // Odd-sized, unaligned reads.
    std::vector<uint8_t> got(content.size());
    size_t at = 0;
    size_t piece = 1;
    while (at < content.size()) {
        size_t take = std::min(piece, content.size() - at);
        ASSERT_EQ(MUST(m.fs->read("models/big.gguf", at, { got.data() + at, take })), take);
        at += take;
        piece = piece * 3 + 7;
    }
    EXPECT_TRUE(got == content);
    // The extents are where the bytes are.
    std::vector<uint8_t> raw(4096);
    auto& first = extents[0];
    ASSERT_OK(m.device.read(first.device_block, { raw.data(), raw.size() }));
    EXPECT_EQ(std::memcmp(raw.data(), content.data(), 4096), 0);
    m.expect_clean();
    m.remount();
    EXPECT_TRUE(MUST(read_file(*m.fs, "models/big.gguf")) == content);
}

TEST(FileSystem, MakeDirectoryAndConflicts)
{
    Mounted m(8 << 20);
    ASSERT_OK(m.fs->make_directory("x/y/z"));
    auto generation = m.fs->generation();
    ASSERT_OK(m.fs->make_directory("x/y/z"));
    ASSERT_OK(m.fs->make_directory("x/y"));
    ASSERT_OK(m.fs->make_directory("/"));
    EXPECT_EQ(m.fs->generation(), generation); // no change, no commit
    EXPECT_EQ(MUST(m.fs->stat("x/y/z")).type, NodeType::Directory);
    ASSERT_OK(write_file(*m.fs, "x/f", pattern(10, 5)));
    ASSERT_ERROR(m.fs->make_directory("x/f"), ErrorCode::Exists);
    ASSERT_ERROR(m.fs->make_directory("x/f/g"), ErrorCode::Exists);
    ASSERT_ERROR(m.fs->begin_write("x/y"), ErrorCode::Exists);
    ASSERT_ERROR(write_file(*m.fs, "x/f/g", pattern(10, 5)), ErrorCode::Exists);
    ASSERT_ERROR(m.fs->begin_write("/"), ErrorCode::InvalidArgument);
    // A directory appearing while a writer is open makes its commit fail cleanly.
    auto* writer = MUST(m.fs->begin_write("late"));
    ASSERT_OK(writer->append({ reinterpret_cast<const uint8_t*>("data"), 4 }));
    ASSERT_OK(m.fs->make_directory("late"));
    auto free_before = m.fs->space().free_bytes;
    ASSERT_ERROR(writer->commit(), ErrorCode::Exists);
    Writer::destroy(writer);
    EXPECT_EQ(m.fs->space().free_bytes, free_before); // the staged block came back too
    EXPECT_EQ(list_names(*m.fs, "x"), (std::vector<std::string> { "f", "y" }));
    m.expect_clean();
}

TEST(FileSystem, Remove)
{
    Mounted m(8 << 20);
    auto free_empty = m.fs->space().free_bytes;
    ASSERT_OK(write_file(*m.fs, "a/b/file", pattern(100000, 6)));
    ASSERT_ERROR(m.fs->remove("a/b"), ErrorCode::Busy);
    ASSERT_ERROR(m.fs->remove("a"), ErrorCode::Busy);
    ASSERT_ERROR(m.fs->remove("/"), ErrorCode::InvalidArgument);
    ASSERT_ERROR(m.fs->remove("a/missing"), ErrorCode::NotFound);
    ASSERT_ERROR(m.fs->remove("a/b/file/x"), ErrorCode::NotFound);
    ASSERT_ERROR(m.fs->remove("nothing/here"), ErrorCode::NotFound);
    ASSERT_OK(m.fs->remove("a/b/file"));
    ASSERT_ERROR(m.fs->stat("a/b/file"), ErrorCode::NotFound);
    EXPECT_TRUE(list_names(*m.fs, "a/b").empty());
    ASSERT_OK(m.fs->remove("a/b"));
    ASSERT_OK(m.fs->remove("a/"));
    EXPECT_TRUE(list_names(*m.fs, "/").empty());
    EXPECT_EQ(m.fs->space().free_bytes, free_empty);
    m.expect_clean();
}

TEST(FileSystem, PathValidation)
{
    Mounted m(8 << 20);
    std::vector<uint8_t> data { 1 };
    for (std::string_view bad : { "a//b", "./a", "a/.", "a/../b", "..", "//", "a//" }) {
        ASSERT_ERROR(m.fs->begin_write(bad), ErrorCode::InvalidArgument);
        ASSERT_ERROR(m.fs->make_directory(bad), ErrorCode::InvalidArgument);
        ASSERT_ERROR(m.fs->stat(bad), ErrorCode::InvalidArgument);
    }
    ASSERT_ERROR(m.fs->begin_write(std::string_view("a\0b", 3)), ErrorCode::InvalidArgument);
    std::string long_name(256, 'n');
    ASSERT_ERROR(m.fs->begin_write(long_name), ErrorCode::InvalidArgument);
    long_name.pop_back();
    ASSERT_OK(write_file(*m.fs, "d/" + long_name, data));
    EXPECT_EQ(list_names(*m.fs, "d"), std::vector<std::string> { long_name });
    std::string deep;
    for (int i = 0; i < 64; ++i)
        deep += "d/";
    ASSERT_OK(write_file(*m.fs, deep + "leaf", data));
    ASSERT_ERROR(m.fs->begin_write(deep + "d/leaf"), ErrorCode::InvalidArgument);
    m.expect_clean();
}

TEST(FileSystem, ManyFilesInOneDirectory)
{
    Mounted m(32 << 20);
    std::vector<std::string> expected;
    for (int i = 0; i < 600; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "log-%05d-%s.txt", (i * 7919) % 600, std::string(i % 40, 'x').c_str());
        expected.emplace_back(name);
        ASSERT_OK(write_file(*m.fs, std::string("logs/") + name, pattern(i % 50, i)));
    }
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(list_names(*m.fs, "logs"), expected);
    CheckReport report;
    ASSERT_OK(m.fs->check(report));
    EXPECT_EQ(report.files, 600u);
    EXPECT_GT(report.metadata_blocks, 588u + 5); // 588 non-empty files; the directory spans several blocks
    for (size_t i = 0; i < expected.size(); i += 2)
        ASSERT_OK(m.fs->remove("logs/" + expected[i]));
    m.remount();
    auto names = list_names(*m.fs, "logs");
    ASSERT_EQ(names.size(), 300u);
    EXPECT_EQ(names[0], expected[1]);
    m.expect_clean();
}

TEST(FileSystem, DiskFullDiscardsPartialFileAndKeepsOld)
{
    Mounted m(4 << 20);
    auto original = pattern(1 << 20, 7);
    ASSERT_OK(write_file(*m.fs, "keep", original));
    ASSERT_OK(write_file(*m.fs, "replace-me", pattern(4096, 8)));
    auto free_before = m.fs->space().free_bytes;
    auto generation = m.fs->generation();

    auto* writer = MUST(m.fs->begin_write("huge"));
    auto chunk = pattern(256 << 10, 9);
    ErrorOr<void> result;
    for (int i = 0; i < 64 && !result.is_error(); ++i)
        result = writer->append({ chunk.data(), chunk.size() });
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), ErrorCode::NoSpace);
    ASSERT_ERROR(writer->commit(), ErrorCode::InvalidArgument);
    Writer::destroy(writer);
    EXPECT_EQ(m.fs->space().free_bytes, free_before);
    EXPECT_EQ(m.fs->generation(), generation);
    ASSERT_ERROR(m.fs->stat("huge"), ErrorCode::NotFound);

    // Replacing with something too big: NoSpace, the old version stays.
    auto too_big = pattern(8 << 20, 10);
    ASSERT_ERROR(write_file(*m.fs, "replace-me", too_big, 1 << 20), ErrorCode::NoSpace);
    EXPECT_EQ(MUST(read_file(*m.fs, "replace-me")), pattern(4096, 8));
    EXPECT_EQ(MUST(read_file(*m.fs, "keep")), original);
    m.expect_clean();

    // Fill to the last data block: removing still works (metadata reserve).
    std::vector<uint8_t> filler(m.fs->space().free_bytes);
    ASSERT_OK(write_file(*m.fs, "filler", filler, 1 << 20));
    EXPECT_EQ(m.fs->space().free_bytes, 0u);
    ASSERT_ERROR(write_file(*m.fs, "one-more", { 1 }), ErrorCode::NoSpace);
    ASSERT_OK(m.fs->remove("keep"));
    ASSERT_OK(write_file(*m.fs, "one-more", { 1 }));
    m.expect_clean();
    m.remount();
    EXPECT_EQ(MUST(m.fs->stat("filler")).size, filler.size());
}

TEST(FileSystem, ConcurrentWriters)
{
    Mounted m(16 << 20);
    auto a = pattern(2 << 20, 11);
    auto b = pattern(3 << 20, 12);
    auto* wa = MUST(m.fs->begin_write("a"));
    auto* wb = MUST(m.fs->begin_write("b"));
    auto* wc = MUST(m.fs->begin_write("c"));
    for (size_t at = 0; at < b.size(); at += 65536) {
        if (at < a.size())
            ASSERT_OK(wa->append({ a.data() + at, 65536 }));
        ASSERT_OK(wb->append({ b.data() + at, 65536 }));
        ASSERT_OK(wc->append({ b.data() + at, 65536 }));
    }
    ASSERT_OK(wb->commit());
    // A commit while other writers are open must not record their blocks.
    m.expect_clean();
    ASSERT_OK(wa->commit());
    Writer::destroy(wa);
    Writer::destroy(wb);
    Writer::destroy(wc);
    EXPECT_TRUE(MUST(read_file(*m.fs, "a")) == a);
    EXPECT_TRUE(MUST(read_file(*m.fs, "b")) == b);
    ASSERT_ERROR(m.fs->stat("c"), ErrorCode::NotFound);
    m.expect_clean();
}

TEST(FileSystem, DeviceBlockSizesShareOneImage)
{
    MallocAllocator allocator;
    TestClock clock;
    RamBlockDevice big_blocks(4096, 2048);
    ASSERT_OK(FileSystem::format(big_blocks, allocator, {}));
    auto* fs = MUST(FileSystem::mount(big_blocks, allocator, &clock));
    auto content = pattern(123457, 13);
    ASSERT_OK(write_file(*fs, "f", content));
    FileSystem::unmount(fs);
    RamBlockDevice small_blocks(512, big_blocks.bytes());
    fs = MUST(FileSystem::mount(small_blocks, allocator, &clock));
    EXPECT_EQ(fs->device_blocks_per_block(), 8u);
    EXPECT_EQ(MUST(read_file(*fs, "f")), content);
    {
        auto extents = MUST(fs->file_extents("f"));
        ASSERT_EQ(extents.size(), 1u);
        EXPECT_EQ(extents[0].device_block_count, 31u * 8);
    }
    FileSystem::unmount(fs);
    EXPECT_EQ(allocator.live_allocations(), 0);
}

TEST(FileSystem, FormatWithExplicitSize)
{
    MallocAllocator allocator;
    RamBlockDevice device(512, 65536);
    ASSERT_ERROR(FileSystem::format(device, allocator, { 100000, 0 }), ErrorCode::OutOfRange);
    ASSERT_OK(FileSystem::format(device, allocator, { 1024, 0 }));
    auto* fs = MUST(FileSystem::mount(device, allocator, nullptr));
    EXPECT_EQ(fs->block_count(), 1024u);
    FileSystem::unmount(fs);
}

TEST(FileSystem, AllocationFailuresAreCleanErrors)
{
    // Every allocation point of mount, write, mkdir, remove and list fails
    // once in turn: the operation reports OutOfMemory, nothing leaks, and
    // the file system stays consistent.
    RamBlockDevice device(512, 16384);
    MallocAllocator setup;
    ASSERT_OK(FileSystem::format(device, setup, {}));
    {
        auto* fs = MUST(FileSystem::mount(device, setup, nullptr));
        ASSERT_OK(write_file(*fs, "old/file", pattern(5000, 1)));
        FileSystem::unmount(fs);
    }
    auto image = device.bytes();
    int failures = 0;
    for (long budget = 0; budget < 400; ++budget) {
        device.bytes() = image;
        MallocAllocator allocator;
        allocator.fail_after(budget);
        auto run = [&]() -> ErrorOr<void> {
            auto* fs = TRY(FileSystem::mount(device, allocator, nullptr));
            auto result = [&]() -> ErrorOr<void> {
                TRY(write_file(*fs, "new/dir/file", pattern(200000, 2), 70000));
                TRY(write_file(*fs, "old/file", pattern(9000, 3)));
                TRY(fs->make_directory("m/n"));
                TRY(fs->remove("m/n"));
                TRY(fs->list("old", [](const DirectoryEntry&) -> ErrorOr<void> { return {}; }));
                return {};
            }();
            FileSystem::unmount(fs);
            return result;
        };
        auto result = run();
        EXPECT_EQ(allocator.live_allocations(), 0) << "budget " << budget;
        if (result.is_error()) {
            EXPECT_EQ(result.error().code(), ErrorCode::OutOfMemory) << result.error().reason();
            ++failures;
        }
        MallocAllocator checker;
        CheckReport report;
        auto checked = fsck(device, checker, report);
        ASSERT_FALSE(checked.is_error()) << "budget " << budget << ": " << checked.error().reason();
        if (!result.is_error())
            break;
    }
    EXPECT_GT(failures, 20);
}

TEST(FileSystem, WriteErrorsLeaveOldOrNew)
{
    RamBlockDevice device(512, 16384);
    MallocAllocator allocator;
    ASSERT_OK(FileSystem::format(device, allocator, {}));
    auto old_content = pattern(70000, 4);
    auto new_content = pattern(90000, 5);
    {
        auto* fs = MUST(FileSystem::mount(device, allocator, nullptr));
        ASSERT_OK(write_file(*fs, "p/q", old_content));
        FileSystem::unmount(fs);
    }
    auto image = device.bytes();
    bool saw_success = false;
    for (long after = 0; after < 200 && !saw_success; ++after) {
        device.bytes() = image;
        auto* fs = MUST(FileSystem::mount(device, allocator, nullptr));
        uint64_t base_writes = device.writes();
        device.fail_writes_after(long(base_writes) + after);
        auto result = write_file(*fs, "p/q", new_content, 30000);
        device.fail_writes_after(-1);
        if (!result.is_error()) {
            saw_success = true;
        } else {
            EXPECT_EQ(result.error().code(), ErrorCode::IoError);
            // Still usable in memory: the old version reads back.
            EXPECT_EQ(MUST(read_file(*fs, "p/q")), old_content);
        }
        FileSystem::unmount(fs);
        fs = MUST(FileSystem::mount(device, allocator, nullptr));
        auto content = MUST(read_file(*fs, "p/q"));
        EXPECT_TRUE(content == (saw_success ? new_content : old_content)) << "after " << after;
        FileSystem::unmount(fs);
    }
    EXPECT_TRUE(saw_success);
    EXPECT_EQ(allocator.live_allocations(), 0);
}

TEST(FileSystem, FailedSuperblockFlushRefusesFurtherWrites)
{
    Mounted m(8 << 20);
    ASSERT_OK(write_file(*m.fs, "f", pattern(10, 1)));
    m.device.fail_flush(true);
    ASSERT_ERROR(write_file(*m.fs, "f", pattern(20, 2)), ErrorCode::IoError);
    m.device.fail_flush(false);
    // The first flush (before the superblock) failed, so nothing is unknown
    // yet: writing goes on.
    ASSERT_OK(write_file(*m.fs, "g", pattern(30, 3)));
    // Fail exactly the superblock write: from then on the file system asks
    // for a remount.
    auto* writer = MUST(m.fs->begin_write("h"));
    ASSERT_OK(writer->append({ pattern(40, 4).data(), 40 }));
    // commit writes: data block, extent block, root directory block, bitmap
    // block, then the superblock.
    m.device.fail_writes_after(long(m.device.writes()) + 4);
    ASSERT_ERROR(writer->commit(), ErrorCode::IoError);
    Writer::destroy(writer);
    m.device.fail_writes_after(-1);
    ASSERT_ERROR(m.fs->make_directory("x"), ErrorCode::IoError);
    ASSERT_ERROR(m.fs->begin_write("y"), ErrorCode::IoError);
    m.remount();
    EXPECT_EQ(MUST(read_file(*m.fs, "g")), pattern(30, 3));
    ASSERT_ERROR(m.fs->stat("h"), ErrorCode::NotFound);
    m.expect_clean();
}

TEST(FileSystem, OneGigabyteFile)
{
    // 1 GiB through the streaming writer on a 1.1 GiB RAM device, read back
    // in 8 MiB pieces, then checked; the file must sit in few large extents.
    Mounted m((1ull << 30) + (100ull << 20), 4096);
    std::vector<uint8_t> chunk(8 << 20);
    auto* writer = MUST(m.fs->begin_write("models/one-gig.bin"));
    for (uint32_t i = 0; i < 128; ++i) {
        std::memset(chunk.data(), int(i), chunk.size());
        std::memcpy(chunk.data(), &i, sizeof i);
        ASSERT_OK(writer->append({ chunk.data(), chunk.size() }));
    }
    ASSERT_OK(writer->commit());
    Writer::destroy(writer);
    m.remount();
    EXPECT_EQ(MUST(m.fs->stat("models/one-gig.bin")).size, 1ull << 30);
    auto extents = MUST(m.fs->file_extents("models/one-gig.bin"));
    EXPECT_LE(extents.size(), 4u);
    for (uint32_t i = 0; i < 128; ++i) {
        ASSERT_EQ(MUST(m.fs->read("models/one-gig.bin", uint64_t(i) * chunk.size(), { chunk.data(), chunk.size() })), chunk.size());
        uint32_t stamp;
        std::memcpy(&stamp, chunk.data(), sizeof stamp);
        ASSERT_EQ(stamp, i);
        ASSERT_EQ(chunk[chunk.size() - 1], uint8_t(i));
    }
    m.expect_clean();
}

TEST(FileSystem, OpenFilePinsItsBlocksAcrossReplaceAndRemove)
{
    Mounted m(8 << 20);
    auto v1 = pattern(2 << 20, 21);
    auto v2 = pattern(1 << 20, 22);
    ASSERT_OK(write_file(*m.fs, "models/m.bin", v1));
    auto free_with_v1 = m.fs->space().free_bytes;
    auto* file = MUST(m.fs->open("models/m.bin"));
    EXPECT_EQ(file->size(), v1.size());
    ASSERT_FALSE(file->extents().empty());
    auto first_device_block = file->extents()[0].device_block;

    ASSERT_OK(write_file(*m.fs, "models/m.bin", v2));
    EXPECT_EQ(MUST(read_file(*m.fs, "models/m.bin")), v2);
    // v1's blocks are still held: only v2's cost shows.
    EXPECT_EQ(m.fs->space().free_bytes, free_with_v1 - v2.size());
    m.expect_clean(); // held blocks are free on disk, busy in memory

    // Fill the disk: the allocator must not hand out v1's blocks.
    std::vector<uint8_t> filler(m.fs->space().free_bytes, 0xEE);
    ASSERT_OK(write_file(*m.fs, "filler", filler, 1 << 20));
    std::vector<uint8_t> got(v1.size());
    ASSERT_EQ(MUST(file->read(0, { got.data(), got.size() })), v1.size());
    EXPECT_TRUE(got == v1);
    EXPECT_EQ(MUST(file->read(v1.size() - 10, { got.data(), 100 })), 10u);
    EXPECT_EQ(file->extents()[0].device_block, first_device_block);

    // A second handle on v2, then remove: both stay readable.
    auto* second = MUST(m.fs->open("models/m.bin"));
    ASSERT_OK(m.fs->remove("models/m.bin"));
    ASSERT_OK(m.fs->remove("filler"));
    std::vector<uint8_t> got2(v2.size());
    ASSERT_EQ(MUST(second->read(0, { got2.data(), got2.size() })), v2.size());
    EXPECT_TRUE(got2 == v2);
    m.expect_clean();

    auto free_before_close = m.fs->space().free_bytes;
    m.fs->close(file);
    EXPECT_EQ(m.fs->space().free_bytes, free_before_close + v1.size());
    m.fs->close(second);
    EXPECT_EQ(m.fs->space().free_bytes, free_before_close + v1.size() + v2.size());
    ASSERT_ERROR(m.fs->open("models/m.bin"), ErrorCode::NotFound);
    ASSERT_ERROR(m.fs->open("models"), ErrorCode::InvalidArgument);
    m.expect_clean();

    // Handles left open at unmount are released with it.
    ASSERT_OK(write_file(*m.fs, "x", v2));
    MUST(m.fs->open("x"));
    m.remount();
    EXPECT_EQ(MUST(read_file(*m.fs, "x")), v2);
}

TEST(FileSystem, CommitCostDoesNotGrowWithFileSize)
{
    // Replacing a small file at depth 3 next to a 32 MiB file: the commit
    // writes the data block, one extent block, three directory blocks, the
    // changed bitmap block(s) and the superblock, with two flushes.
    Mounted m(96 << 20);
    ASSERT_OK(write_file(*m.fs, "a/b/big", pattern(32 << 20, 31), 1 << 20));
    ASSERT_OK(write_file(*m.fs, "a/b/small", pattern(100, 32)));
    ASSERT_OK(write_file(*m.fs, "a/b/small", pattern(100, 33))); // both bitmap areas current
    auto writes = m.device.writes();
    auto flushes = m.device.flushes();
    auto bytes = m.device.bytes_written();
    ASSERT_OK(write_file(*m.fs, "a/b/small", pattern(200, 34)));
    EXPECT_EQ(m.device.flushes() - flushes, 2u);
    EXPECT_LE(m.device.writes() - writes, 8u);
    EXPECT_LE(m.device.bytes_written() - bytes, 8u * 4096);
    // And the big file's own commit wrote its data plus a handful of blocks.
    bytes = m.device.bytes_written();
    ASSERT_OK(write_file(*m.fs, "a/b/big", pattern(32 << 20, 35), 1 << 20));
    EXPECT_LE(m.device.bytes_written() - bytes, (32u << 20) + 8u * 4096);
}

namespace {

// Whether every device block of the extents reads back as discarded.
bool all_discarded(RamBlockDevice& device, const std::vector<FileExtent>& extents)
{
    for (auto const& extent : extents) {
        auto* start = device.bytes().data() + extent.device_block * device.block_size();
        size_t bytes = extent.device_block_count * device.block_size();
        if (std::any_of(start, start + bytes, [](uint8_t b) { return b != RamBlockDevice::kDiscardedByte; }))
            return false;
    }
    return true;
}

std::vector<FileExtent> extents_of(FileSystem& fs, std::string_view path)
{
    auto* file = MUST(fs.open(path));
    std::vector<FileExtent> extents(file->extents().begin(), file->extents().end());
    fs.close(file);
    return extents;
}

uint64_t blocks_in(const std::vector<FileExtent>& extents)
{
    uint64_t total = 0;
    for (auto const& extent : extents)
        total += extent.device_block_count;
    return total;
}

} // namespace

// The RAM device fills discarded blocks with garbage, so every other test
// here also fails should a discard ever hit a block still in use.
TEST(FileSystem, FormatDiscardsTheDataArea)
{
    Mounted m(16 << 20);
    EXPECT_EQ(m.device.discards(), 1u);
    // Everything but the superblocks and the two bitmap copies.
    EXPECT_GT(m.device.discarded_blocks(), m.device.block_count() * 9 / 10);
    EXPECT_LT(m.device.discarded_blocks(), m.device.block_count());
    m.expect_clean();
}

TEST(FileSystem, FreedBlocksAreDiscardedOnceNoSuperblockSlotRefersToThem)
{
    Mounted m(16 << 20);
    auto v1 = pattern(3 << 20, 31);
    ASSERT_OK(write_file(*m.fs, "models/a.bin", v1));
    auto v1_extents = extents_of(*m.fs, "models/a.bin");
    EXPECT_FALSE(all_discarded(m.device, v1_extents));

    // The replace frees v1, but the previous generation (the fallback should
    // the newest superblock be damaged) still holds it: not discarded yet.
    auto v2 = pattern(1 << 20, 32);
    ASSERT_OK(write_file(*m.fs, "models/a.bin", v2));
    EXPECT_FALSE(all_discarded(m.device, v1_extents));
    // The next commit overwrites that generation's slot: now v1 goes, except
    // blocks that commit itself took again.
    auto before = m.device.discarded_blocks();
    ASSERT_OK(m.fs->make_directory("other"));
    EXPECT_TRUE(all_discarded(m.device, v1_extents));
    EXPECT_GE(m.device.discarded_blocks() - before, blocks_in(v1_extents) - 8 * (4096 / m.device.block_size()));
    EXPECT_EQ(MUST(read_file(*m.fs, "models/a.bin")), v2);

    auto v2_extents = extents_of(*m.fs, "models/a.bin");
    ASSERT_OK(m.fs->remove("models/a.bin"));
    EXPECT_FALSE(all_discarded(m.device, v2_extents));
    // A new file may reuse some of v2's blocks before they are discarded:
    // those must keep its data.
    auto v3 = pattern(512 << 10, 33);
    ASSERT_OK(write_file(*m.fs, "models/b.bin", v3));
    EXPECT_EQ(MUST(read_file(*m.fs, "models/b.bin")), v3);
    m.expect_clean();
    m.remount();
    EXPECT_EQ(MUST(read_file(*m.fs, "models/b.bin")), v3);
    m.expect_clean();
}

TEST(FileSystem, DiscardsKeepThePreviousGenerationAsAFallback)
{
    Mounted m(16 << 20);
    auto v1 = pattern(1 << 20, 35);
    ASSERT_OK(write_file(*m.fs, "f", v1));
    ASSERT_OK(m.fs->remove("f"));
    // Damage the newest superblock: mount falls back to the generation
    // that still has "f", whose blocks must not have been discarded.
    auto generation = m.fs->generation();
    FileSystem::unmount(m.fs);
    m.fs = nullptr;
    uint64_t slot = generation % 2;
    uint32_t ratio = 4096 / m.device.block_size();
    m.device.bytes()[slot * ratio * m.device.block_size() + 100] ^= 0x5a;
    m.remount();
    EXPECT_EQ(m.fs->generation(), generation - 1);
    EXPECT_EQ(MUST(read_file(*m.fs, "f")), v1);
    m.expect_clean();
}

TEST(FileSystem, AnOpenFileDefersTheDiscardUntilClose)
{
    Mounted m(16 << 20);
    auto content = pattern(2 << 20, 33);
    ASSERT_OK(write_file(*m.fs, "held", content));
    auto extents = extents_of(*m.fs, "held");
    auto* file = MUST(m.fs->open("held"));
    ASSERT_OK(m.fs->remove("held"));
    ASSERT_OK(m.fs->make_directory("one"));
    ASSERT_OK(m.fs->make_directory("two"));
    EXPECT_FALSE(all_discarded(m.device, extents));
    std::vector<uint8_t> got(content.size());
    ASSERT_EQ(MUST(file->read(0, { got.data(), got.size() })), content.size());
    EXPECT_TRUE(got == content);
    m.fs->close(file);
    ASSERT_OK(m.fs->make_directory("three"));
    EXPECT_TRUE(all_discarded(m.device, extents));
    m.expect_clean();
}

TEST(FileSystem, AnAbortedUploadDiscardsWhatItWrote)
{
    Mounted m(16 << 20);
    auto content = pattern(4 << 20, 34);
    auto discarded_before = m.device.discarded_blocks();
    auto* writer = MUST(m.fs->begin_write("partial"));
    ASSERT_OK(writer->append({ content.data(), content.size() }));
    Writer::destroy(writer);
    // At least the 4 MiB written (the unwritten reservation is not discarded).
    EXPECT_GE(m.device.discarded_blocks() - discarded_before, (4u << 20) / m.device.block_size());
    EXPECT_LT(m.device.discarded_blocks() - discarded_before, (6u << 20) / m.device.block_size());
    ASSERT_ERROR(m.fs->stat("partial"), ErrorCode::NotFound);
    m.expect_clean();
}
