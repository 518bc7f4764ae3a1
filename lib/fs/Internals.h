#pragma once

// Private pieces shared by the FileSystem implementation files.

#include "lib/fs/FileSystem.h"

namespace aisos::fs {

// A directory entry as held in memory while a directory is rewritten.
struct DirectoryRecord {
    NodeType type;
    uint8_t name_length;
    uint64_t pointer;
    uint64_t size;
    int64_t mtime;
    char name[kMaxNameLength];

    std::string_view name_view() const { return { name, name_length }; }
};

struct FileSystem::Path {
    std::string_view segments[kMaxDepth + 1];
    size_t count { 0 };

    static ErrorOr<Path> parse(std::string_view);
};

// Blocks one change allocates and frees. Freed blocks stay busy until the
// new generation is durable; allocated ones are returned if it fails.
struct FileSystem::Transaction {
    explicit Transaction(Allocator& allocator)
        : allocated(allocator)
        , freed(allocator)
    {
    }
    Array<uint64_t> allocated;
    Array<ExtentRecord> freed;
    std::span<const ExtentRecord> adopted; // a Writer's data, committed with the change
};

enum class MutationKind {
    SetFile,
    MakeDirectory,
    Remove,
};

struct FileSystem::Mutation {
    MutationKind kind;
    uint64_t pointer;
    uint64_t size;
    int64_t mtime;
};

// Block-aligned scratch memory from the Allocator.
class FileSystem::BlockBuffer {
public:
    static ErrorOr<BlockBuffer> create(Allocator& allocator, size_t blocks = 1)
    {
        void* memory = TRY(allocator.allocate(blocks * kBlockSize, kBlockSize));
        return BlockBuffer(allocator, static_cast<uint8_t*>(memory));
    }
    BlockBuffer(BlockBuffer&& other)
        : m_allocator(other.m_allocator)
        , m_data(other.m_data)
    {
        other.m_data = nullptr;
    }
    BlockBuffer(const BlockBuffer&) = delete;
    ~BlockBuffer() { m_allocator.free(m_data); }
    uint8_t* data() { return m_data; }

private:
    BlockBuffer(Allocator& allocator, uint8_t* data)
        : m_allocator(allocator)
        , m_data(data)
    {
    }
    Allocator& m_allocator;
    uint8_t* m_data;
};

// Little helpers over raw block bytes (memcpy keeps them free of alignment
// and aliasing assumptions).
template<typename T>
inline T load_struct(const uint8_t* bytes)
{
    T value;
    __builtin_memcpy(&value, bytes, sizeof(T));
    return value;
}

template<typename T>
inline void store_struct(uint8_t* bytes, const T& value)
{
    __builtin_memcpy(bytes, &value, sizeof(T));
}

uint32_t block_checksum(const uint8_t* block);
void seal_block(uint8_t* block);
bool valid_name(std::string_view);
int compare_names(std::string_view, std::string_view);

inline uint64_t blocks_for_bytes(uint64_t bytes) { return bytes / kBlockSize + (bytes % kBlockSize != 0); }

} // namespace aisos::fs
