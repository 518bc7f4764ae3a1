#pragma once

// The persistent file system behind /fs: copy-on-write metadata with a
// rotating root (see lib/fs/Layout.h for the on-disk format and the
// crash-consistency argument), extents for file data, a bitmap for free
// space, CRC-32C on every metadata block.
//
// Guarantees: every change (a committed Writer, make_directory, remove)
// becomes durable atomically when the call returns success; a crash before
// that leaves the previous state. A failed or aborted change leaves the
// previous state and returns the space it took.
//
// Not thread-safe: the caller serializes all calls on one FileSystem (and on
// its Writers) with one lock. Several Writers may be open at once.
//
// Paths: segments separated by '/', an optional leading and an optional
// trailing '/'. "" and "/" name the root directory. Empty, "." and ".."
// segments, NUL bytes and names over 255 bytes are refused.

#include "lib/base/Allocator.h"
#include "lib/base/ErrorOr.h"
#include "lib/block/BlockDevice.h"
#include "lib/fs/Array.h"
#include "lib/fs/Layout.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::fs {

// Source of modification times (seconds since the Unix epoch).
class Clock {
public:
    virtual int64_t now() = 0;

protected:
    ~Clock() = default;
};

struct FormatOptions {
    uint64_t block_count { 0 }; // file-system blocks to use; 0 = the whole device
    int64_t time { 0 };         // mtime of the empty root
};

enum class MountCheck {
    Full,          // verify every metadata block and the free map before mounting
    SuperblockOnly, // verify only superblock and bitmap (fsck then calls check())
};

struct Stat {
    NodeType type;
    uint64_t size; // bytes; 0 for directories
    int64_t mtime;
};

struct DirectoryEntry {
    std::string_view name; // valid during the callback only
    NodeType type;
    uint64_t size;
    int64_t mtime;
};

// A run of a file's bytes on the device, for mapping a file in place.
struct FileExtent {
    uint64_t file_offset;       // bytes, a multiple of kBlockSize
    uint64_t device_block;      // first device block (BlockDevice::block_size() units)
    uint64_t device_block_count;
};

struct SpaceInfo {
    uint64_t total_bytes; // data area
    uint64_t free_bytes;  // what a new file can still take
};

struct CheckReport {
    uint64_t generation { 0 };
    uint64_t directories { 0 }; // including the root
    uint64_t files { 0 };
    uint64_t file_bytes { 0 };
    uint64_t metadata_blocks { 0 }; // directory and extent blocks
    uint64_t used_blocks { 0 };
    uint64_t total_blocks { 0 };
    uint64_t bad_block { 0 }; // where the first problem was found, when known
};

class Writer;
class OpenFile;
struct DirectoryRecord;

class FileSystem {
public:
    static ErrorOr<void> format(block::BlockDevice&, Allocator&, const FormatOptions&);
    // A device with no file system gives ErrorCode::NotFound; any damage,
    // ErrorCode::Corrupt (or the device's own error).
    static ErrorOr<FileSystem*> mount(block::BlockDevice&, Allocator&, Clock*, MountCheck = MountCheck::Full);
    static void unmount(FileSystem*);

    ErrorOr<Stat> stat(std::string_view path);

    // Calls callback(const DirectoryEntry&) -> ErrorOr<void> for every entry
    // of a directory in bytewise name order; an error from the callback stops
    // the listing and is returned.
    template<typename Callback>
    ErrorOr<void> list(std::string_view path, Callback&& callback)
    {
        return list_impl(
            path, [](void* context, const DirectoryEntry& entry) -> ErrorOr<void> { return (*static_cast<Callback*>(context))(entry); }, &callback);
    }

    // Reads up to buffer.size() bytes at offset; returns how many (0 at or
    // past the end).
    ErrorOr<size_t> read(std::string_view path, uint64_t offset, std::span<uint8_t> buffer);

    // Creates the directory and missing parents (mkdir -p). Succeeds without
    // change when it exists; ErrorCode::Exists when a file is in the way.
    ErrorOr<void> make_directory(std::string_view path);

    // Starts an atomic create-or-replace of a file. Parents are created at
    // commit. Release the Writer with Writer::destroy().
    ErrorOr<Writer*> begin_write(std::string_view path);

    // Removes a file or an empty directory. A non-empty directory gives
    // ErrorCode::Busy ("directory not empty").
    ErrorOr<void> remove(std::string_view path);

    // The physical runs holding a file, in file order. They stay valid only
    // until the file is next replaced or removed; to read or map a file for
    // longer, open() it.
    ErrorOr<Array<FileExtent>> file_extents(std::string_view path);

    // Opens a file for reading by offset, with its extents pinned: while the
    // OpenFile exists, its blocks are not reused even if the file is replaced
    // or removed (the old version stays readable through it, as for an
    // unlinked open file on POSIX). This is what the kernel holds while a
    // model is mapped in place. Release with close().
    ErrorOr<OpenFile*> open(std::string_view path);
    void close(OpenFile*);

    SpaceInfo space() const;
    uint64_t generation() const { return m_super.generation; }

    // Walks every reachable metadata block and compares what is reachable
    // with the free map: checksums, pointers inside the disk, no block owned
    // twice, directory structure. Fills report as it goes.
    ErrorOr<void> check(CheckReport& report);

    // For tests and tools: whether the committed free map owns a block.
    bool block_in_use(uint64_t block) const;
    uint32_t device_blocks_per_block() const { return m_ratio; }
    uint64_t block_count() const { return m_super.block_count; }

    FileSystem(const FileSystem&) = delete;
    FileSystem& operator=(const FileSystem&) = delete;

private:
    friend class Writer;
    friend class OpenFile;
    using Record = DirectoryRecord;
    struct Path;
    struct Transaction;
    struct Mutation;
    class BlockBuffer;
    using ClaimFunction = ErrorOr<void> (*)(void* context, uint64_t block, uint64_t count);

    FileSystem(block::BlockDevice&, Allocator&, Clock*);
    ~FileSystem();

    static ErrorOr<Superblock> read_superblock(block::BlockDevice&, uint32_t ratio, uint64_t slot);
    ErrorOr<void> load(const Superblock&);

    ErrorOr<void> list_impl(std::string_view path, ErrorOr<void> (*callback)(void*, const DirectoryEntry&), void* context);

    // Device access in file-system blocks.
    ErrorOr<void> read_blocks(uint64_t block, uint64_t count, uint8_t* buffer);
    ErrorOr<void> write_blocks(uint64_t block, uint64_t count, const uint8_t* buffer);
    ErrorOr<void> read_metadata(uint64_t block, uint32_t magic, uint8_t* buffer);

    // Directories.
    ErrorOr<void> load_directory(uint64_t pointer, Array<Record>& entries, Array<uint64_t>* chain, ClaimFunction, void* claim_context);
    ErrorOr<bool> find_entry(uint64_t directory, std::string_view name, Record& found);
    ErrorOr<Record> lookup(const Path&);
    ErrorOr<uint64_t> write_directory(const Array<Record>&, Transaction&);
    ErrorOr<uint64_t> rewrite(uint64_t directory, const Path&, size_t index, const Mutation&, Transaction&, bool& entries_changed);
    ErrorOr<void> apply(const Path&, const Mutation&, Transaction&);

    // Files.
    ErrorOr<void> load_extents(uint64_t pointer, uint64_t size, Array<ExtentRecord>& extents, Array<uint64_t>* chain, ClaimFunction, void* claim_context);
    ErrorOr<uint64_t> write_extents(std::span<const ExtentRecord>, Transaction&);
    ErrorOr<void> free_file(uint64_t pointer, uint64_t size, Transaction&);
    ErrorOr<void> commit_file(std::string_view path, std::span<const ExtentRecord>, uint64_t size);

    // Space.
    bool busy(uint64_t block) const;
    void set_busy(uint64_t start, uint64_t count);
    void clear_busy(uint64_t start, uint64_t count);
    uint64_t find_free(uint64_t from) const;
    ErrorOr<uint64_t> allocate_metadata_block(Transaction&);
    ErrorOr<ExtentRecord> allocate_data_run(uint64_t needed, uint64_t preferred, uint64_t near);
    void release(ExtentRecord);
    void release_and_discard(ExtentRecord);
    void release_after_commit(ExtentRecord);
    void discard_unused(ExtentRecord);
    void discard_previous_generation_frees();
    bool pinned(ExtentRecord) const;
    void release_or_defer(ExtentRecord);
    ErrorOr<size_t> read_extents(std::span<const ExtentRecord>, uint64_t size, uint64_t offset, std::span<uint8_t> buffer);

    // Commit.
    void abandon(Transaction&);
    ErrorOr<void> finish(Transaction&, uint64_t new_root, int64_t root_mtime);
    ErrorOr<void> write_bitmap_block(uint64_t area, uint64_t index, uint8_t* buffer);
    ErrorOr<void> ensure_writable() const;
    int64_t now();

    // Check.
    ErrorOr<void> check_directory(uint64_t pointer, uint32_t depth, CheckReport&, void* claim_context);

    block::BlockDevice& m_device;
    Allocator& m_allocator;
    Clock* m_clock;
    uint32_t m_ratio { 1 }; // device blocks per file-system block
    Superblock m_super {};
    uint64_t m_bitmap_words { 0 };
    uint64_t* m_committed { nullptr }; // the free map of the committed generation
    uint64_t* m_busy { nullptr };      // committed + open writers + in-flight commit
    uint64_t m_busy_count { 0 };
    uint64_t* m_stale[2] { nullptr, nullptr }; // per area: bitmap blocks that differ from m_committed
    uint64_t m_data_hint { 0 };
    uint64_t m_metadata_hint { 0 };
    uint64_t m_reserve { 0 }; // blocks only metadata may take, so a full disk can still remove
    bool m_broken { false };  // a superblock write failed: state on disk unknown until remount
    OpenFile* m_open_files { nullptr };     // singly linked
    Array<ExtentRecord>* m_deferred { nullptr }; // freed blocks an OpenFile still pins
    // Freed blocks the previous generation may still refer to, discarded
    // once the next commit is durable (then no superblock slot does).
    Array<ExtentRecord> m_discard_after_next_commit;
};

// A file opened for reading, its extents pinned (see FileSystem::open).
class OpenFile {
public:
    uint64_t size() const { return m_size; }
    int64_t mtime() const { return m_mtime; }
    // Device-block runs in file order (stable while this OpenFile exists).
    std::span<const FileExtent> extents() const { return { m_public.data(), m_public.size() }; }
    // Reads up to buffer.size() bytes at offset; 0 at or past the end.
    ErrorOr<size_t> read(uint64_t offset, std::span<uint8_t> buffer);

private:
    friend class FileSystem;
    explicit OpenFile(FileSystem&);

    FileSystem& m_fs;
    Array<ExtentRecord> m_extents;
    Array<FileExtent> m_public;
    uint64_t m_size { 0 };
    int64_t m_mtime { 0 };
    OpenFile* m_next { nullptr };
};

// An atomic create-or-replace in progress. Data goes to freshly allocated
// extents as it arrives (in 1 MiB device writes); nothing is visible until
// commit() returns success. After commit() (success or failure) or abort()
// the Writer is finished; destroy() it.
class Writer {
public:
    ErrorOr<void> append(std::span<const uint8_t>);
    ErrorOr<void> commit();
    void abort();
    uint64_t size() const { return m_size; }
    static void destroy(Writer*);

    static constexpr size_t kStagingBytes = 1024 * 1024;
    static constexpr uint64_t kReservationBlocks = 8192; // 32 MiB runs

private:
    friend class FileSystem;
    enum class State { Open, Finished };

    Writer(FileSystem&, char* path, size_t path_length, uint8_t* staging);
    ~Writer();
    ErrorOr<void> write_staged(size_t bytes);
    void fail();

    FileSystem& m_fs;
    char* m_path;
    size_t m_path_length;
    uint8_t* m_staging;
    size_t m_staged { 0 };
    uint64_t m_size { 0 };
    Array<ExtentRecord> m_extents;
    ExtentRecord m_reservation { 0, 0 };
    State m_state { State::Open };
};

// Mounts without the full check, runs check() and unmounts: the host fsck.
ErrorOr<void> fsck(block::BlockDevice&, Allocator&, CheckReport&);

} // namespace aisos::fs
