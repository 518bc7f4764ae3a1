#pragma once

// On-disk format of the aiSOS file system ("aisosfs", version 1).
//
// Crash consistency: copy-on-write metadata with a rotating root. Nothing
// reachable from the current root is ever overwritten. A change writes new
// copies of the blocks it touches (file extent blocks, every directory on the
// path up to the root, the changed bitmap blocks), flushes, then writes a new
// superblock with generation + 1 into the slot the generation before last
// used, and flushes again. Mount takes the valid superblock with the highest
// generation, so a torn or lost superblock write leaves the previous, still
// intact generation. Blocks the new generation no longer references become
// reusable only after its superblock is durable.
//
// Free space: a bitmap (one bit per block, set = owned by the committed
// tree or fixed metadata). Two bitmap areas alternate with the superblock
// slots: generation G keeps its bitmap in area G % 2, so writing generation
// G + 1 never touches the bitmap of generation G. Only the bitmap blocks that
// differ from what an area holds are rewritten, so a commit costs
// O(path depth + directory size + changed extents), never O(file size).
//
// Every metadata block starts with a BlockHeader carrying a type magic, its
// own block number and a CRC-32C of the whole block (taken with the crc
// field zero). File data carries no checksum: it is written before the
// metadata that makes it reachable and is never overwritten in place.
//
// Layout, in 4 KiB file-system blocks (each one or more device blocks):
//   0, 1                superblock slots (generation G lives in slot G % 2)
//   2 ..                bitmap area 0 (bitmap_blocks blocks)
//   2 + bitmap_blocks   bitmap area 1
//   data_start ..       directory blocks, extent blocks and file data
//
// A directory is a chain of directory blocks holding entries sorted by name
// (bytewise), no duplicates. An entry names a file or directory, its size,
// mtime and a pointer: for a directory its first directory block, for a file
// its first extent block (0 for an empty directory or an empty file). An
// extent block lists runs of data blocks in file order; the runs cover
// exactly ceil(size / 4096) blocks. All integers are little-endian.

#include <stddef.h>
#include <stdint.h>

namespace aisos::fs {

inline constexpr uint32_t kBlockSize = 4096;
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint32_t kMaxNameLength = 255;
inline constexpr uint32_t kMaxDepth = 64; // directories on a path, root excluded

inline constexpr uint32_t kSuperblockMagic = 0x31534641; // "AFS1"
inline constexpr uint32_t kBitmapMagic = 0x50414d42;     // "BMAP"
inline constexpr uint32_t kDirectoryMagic = 0x52494446;  // "FDIR"
inline constexpr uint32_t kExtentMagic = 0x54584546;     // "FEXT"

struct BlockHeader {
    uint32_t magic;
    uint32_t crc;  // CRC-32C of the whole block with this field zero
    uint64_t self; // the block's own number: catches misdirected writes
    uint64_t next; // next block of a directory/extent chain, 0 at the end
    uint32_t count; // entries (directory, extent) / area index (bitmap)
    uint32_t used;  // payload bytes in use (directory)
};
static_assert(sizeof(BlockHeader) == 32);

inline constexpr uint32_t kPayloadSize = kBlockSize - sizeof(BlockHeader);

struct Superblock {
    BlockHeader header; // magic kSuperblockMagic, self 0 or 1
    uint32_t version;
    uint32_t block_size;
    uint64_t generation;
    uint64_t block_count; // file-system blocks
    uint64_t bitmap_start[2];
    uint64_t bitmap_blocks; // per area
    uint64_t data_start;
    uint64_t root; // first block of the root directory, 0 when empty
    uint64_t used_blocks; // set bits in the bitmap
    int64_t root_mtime;
    int64_t format_time;
};
static_assert(sizeof(Superblock) <= kBlockSize);

inline constexpr uint64_t kBitsPerBitmapBlock = uint64_t(kPayloadSize) * 8;

enum class NodeType : uint8_t {
    File = 1,
    Directory = 2,
};

struct DirectoryEntryHeader {
    uint8_t type; // NodeType
    uint8_t name_length;
    uint16_t reserved0;
    uint32_t reserved1;
    uint64_t pointer;
    uint64_t size;
    int64_t mtime;
    // name bytes follow; the record is padded to a multiple of 8 bytes
};
static_assert(sizeof(DirectoryEntryHeader) == 32);

constexpr uint32_t directory_record_size(uint32_t name_length)
{
    return (uint32_t(sizeof(DirectoryEntryHeader)) + name_length + 7) & ~7u;
}

struct ExtentRecord {
    uint64_t start;  // file-system block
    uint64_t length; // blocks, > 0
};
static_assert(sizeof(ExtentRecord) == 16);

inline constexpr uint32_t kExtentsPerBlock = kPayloadSize / sizeof(ExtentRecord);

} // namespace aisos::fs
