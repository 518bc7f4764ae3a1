// Damaged images: a flipped byte in any metadata block the current
// generation uses must make mount fail with ErrorCode::Corrupt (and fsck
// report it); damage elsewhere must leave a mountable, consistent system.

#include "lib/fs/Internals.h"
#include "tests/unit/fs/FsTestUtil.h"

#include <cstring>
#include <set>

using namespace aisos;
using namespace aisos::fs;
using namespace aisos::fs::test;

namespace {

struct Image {
    std::vector<uint8_t> bytes;
    std::set<uint64_t> data_blocks;  // file data
    std::set<uint64_t> in_use;       // per the committed free map
    uint64_t active_bitmap_first { 0 };
    uint64_t active_bitmap_count { 0 };
    uint64_t block_count { 0 };
};

Image build()
{
    RamBlockDevice device(512, (4 << 20) / 512);
    MallocAllocator allocator;
    TestClock clock;
    MUST(FileSystem::format(device, allocator, {}));
    auto* fs = MUST(FileSystem::mount(device, allocator, &clock));
    MUST(write_file(*fs, "models/tiny/config.json", pattern(700, 1)));
    MUST(write_file(*fs, "models/tiny/weights", pattern(300000, 2)));
    MUST(fs->make_directory("system/users"));
    for (int i = 0; i < 40; ++i)
        MUST(write_file(*fs, "logs/entry-with-a-long-name-" + std::to_string(i), pattern(100, uint32_t(i))));
    MUST(write_file(*fs, "empty", {}));
    Image image;
    image.block_count = fs->block_count();
    for (const char* path : { "models/tiny/config.json", "models/tiny/weights" }) {
        auto extents = MUST(fs->file_extents(path));
        for (auto& extent : extents) {
            for (uint64_t b = 0; b < extent.device_block_count / 8; ++b)
                image.data_blocks.insert(extent.device_block / 8 + b);
        }
    }
    for (int i = 0; i < 40; ++i) {
        auto extents = MUST(fs->file_extents("logs/entry-with-a-long-name-" + std::to_string(i)));
        for (auto& extent : extents)
            image.data_blocks.insert(extent.device_block / 8);
    }
    for (uint64_t b = 0; b < image.block_count; ++b) {
        if (fs->block_in_use(b))
            image.in_use.insert(b);
    }
    // One bitmap block per area on this small disk: area g % 2 is live.
    image.active_bitmap_first = 2 + fs->generation() % 2;
    image.active_bitmap_count = 1;
    FileSystem::unmount(fs);
    image.bytes = device.bytes();
    return image;
}

}

TEST(Corruption, EveryMetadataBlockIsChecked)
{
    auto image = build();
    RamBlockDevice device(512, image.bytes);
    int metadata_blocks = 0;
    for (uint64_t block = 0; block < image.block_count; ++block) {
        bool superblock = block < 2;
        bool inactive_bitmap = block >= 2 && block < 4 && block != image.active_bitmap_first;
        bool live_metadata = !superblock && !inactive_bitmap && image.in_use.count(block) && !image.data_blocks.count(block);
        if (live_metadata)
            ++metadata_blocks;
        // Every block the live metadata uses, at several offsets; a sample
        // of the rest (data and free blocks: no checksum, nothing to find).
        if (!live_metadata && block >= 4 && block % 16 != 0)
            continue;
        for (uint32_t offset : { 0u, 4u, 9u, 31u, 40u, 777u, 4095u }) {
            if (!live_metadata && offset != 40u)
                continue;
            uint8_t& byte = device.bytes()[block * 4096 + offset];
            byte ^= 0x5A;
            MallocAllocator allocator;
            auto mounted = FileSystem::mount(device, allocator, nullptr);
            CheckReport report;
            auto checked = fsck(device, allocator, report);
            byte ^= 0x5A;
            if (live_metadata) {
                EXPECT_TRUE(mounted.is_error()) << "block " << block << " offset " << offset;
                if (!mounted.is_error()) {
                    FileSystem::unmount(mounted.value());
                    continue;
                }
                EXPECT_EQ(mounted.error().code(), ErrorCode::Corrupt) << mounted.error().reason();
                EXPECT_TRUE(checked.is_error()) << "fsck missed block " << block;
            } else {
                // Superblocks fall back to the previous generation (itself
                // intact); the inactive bitmap is rewritten before use; data
                // carries no checksum; free blocks do not matter.
                ASSERT_FALSE(mounted.is_error()) << "block " << block << ": " << mounted.error().reason();
                EXPECT_FALSE(checked.is_error()) << "block " << block << ": " << checked.error().reason();
                FileSystem::unmount(mounted.value());
            }
            EXPECT_EQ(allocator.live_allocations(), 0);
        }
    }
    EXPECT_GT(metadata_blocks, 8);
}

TEST(Corruption, BothSuperblocksBadIsAnError)
{
    auto image = build();
    auto bytes = image.bytes;
    bytes[100] ^= 1;
    bytes[4096 + 100] ^= 1;
    RamBlockDevice device(512, std::move(bytes));
    MallocAllocator allocator;
    ASSERT_ERROR(FileSystem::mount(device, allocator, nullptr), ErrorCode::Corrupt);
}

TEST(Corruption, ConsistentLookingButWrongStructuresAreCaught)
{
    // Rewrites blocks with valid checksums but inconsistent content, which
    // only the structural checks catch.
    auto image = build();
    RamBlockDevice device(512, image.bytes);
    MallocAllocator allocator;
    // 1. A free-map bit cleared for a used block (valid checksum).
    {
        auto bytes = image.bytes;
        uint8_t* bitmap = bytes.data() + image.active_bitmap_first * 4096;
        uint64_t victim = *image.data_blocks.begin();
        bitmap[32 + victim / 8] &= uint8_t(~(1u << (victim % 8)));
        // Also adjust the superblock's used count? No: the bitmap block
        // checksum alone is recomputed, so the count check or the
        // reachability check must fire.
        uint32_t crc = block_checksum(bitmap);
        std::memcpy(bitmap + 4, &crc, 4);
        RamBlockDevice damaged(512, std::move(bytes));
        ASSERT_ERROR(FileSystem::mount(damaged, allocator, nullptr), ErrorCode::Corrupt);
        CheckReport report;
        ASSERT_ERROR(fsck(damaged, allocator, report), ErrorCode::Corrupt);
    }
    // 2. A directory block copied over another (valid checksum, wrong self).
    {
        auto bytes = image.bytes;
        std::vector<uint64_t> directory_blocks;
        for (uint64_t b : image.in_use) {
            uint32_t magic;
            std::memcpy(&magic, bytes.data() + b * 4096, 4);
            if (magic == kDirectoryMagic && !image.data_blocks.count(b))
                directory_blocks.push_back(b);
        }
        ASSERT_GE(directory_blocks.size(), 2u);
        std::memcpy(bytes.data() + directory_blocks[1] * 4096, bytes.data() + directory_blocks[0] * 4096, 4096);
        RamBlockDevice damaged(512, std::move(bytes));
        ASSERT_ERROR(FileSystem::mount(damaged, allocator, nullptr), ErrorCode::Corrupt);
    }
    EXPECT_EQ(allocator.live_allocations(), 0);
}
