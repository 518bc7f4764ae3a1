#pragma once

// /fs in the kernel: lib/fs's file system on the first NVMe namespace.
// A blank disk is formatted at first boot; a damaged one is left alone
// (the admin repairs it with aisos-fsck on the host or formats it on
// purpose), and the system runs without /fs.
//
// Concurrency: the file system is not thread-safe, so every use of it goes
// through ONE storage-wide spinlock (interrupts stay enabled while it is
// held; it is never held across a wait for the network). Every function
// below takes it inside; do not call them with the lock held. Code that uses
// file_system() directly (the /fs HTTP endpoints) holds a storage::Locked
// guard per operation: one append, one commit, one chunk of a read.
// Long operations take the lock per chunk of at most 1 MiB so the network
// core never waits long.
//
// API for syscalls (paths are file-system paths without the "/fs" prefix,
// e.g. "models/gemma.gguf"; they are used as given, no permission checks):
// - read_file(path, offset, out): up to out.size() bytes at offset; the
//   count read (0 at or past the end). The file is opened once, so a
//   concurrent replace never mixes two versions in one call.
// - write_file(path, data): atomic create-or-replace, parents created,
//   durable when it returns. ErrorCode::NoSpace when the disk is full
//   (nothing changed), ErrorCode::Exists when a directory is in the way.
// - stat(path), list(path, callback): as FileSystem::stat / list. The list
//   callback runs with the lock held: it must not call storage functions.
// - map_file(path): a FileMapping with the file's size and, per 4 KiB page
//   of the file, the physical address of a 4 KiB frame holding it (the last
//   page zero-padded past the end of the file). The frames stay valid and
//   unchanged until unmap_file(), even if the file is replaced or removed
//   meanwhile; map them read-only. Over the block cache the frames ARE the
//   cache's pinned pages (no copy). Pinned pages are not counted against the
//   cache's memory budget: they are the mapping process's memory and the
//   caller charges them to it.
// - unmap_file(mapping): unpins the frames; the mapping is freed. The caller
//   must have removed every page-table entry that points at them first.
//
// Errors: NotFound (no such file, or no disk), InvalidArgument (bad path,
// "is a directory", "not a directory"), Exists, Busy, NoSpace, OutOfMemory,
// Corrupt / IoError (disk trouble).

#include "lib/base/ErrorOr.h"
#include "lib/base/Format.h"
#include "lib/block/BlockCache.h"
#include "lib/fs/FileSystem.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::storage {

// Mounts /fs over the block cache (nvme_cache) over the first NVMe
// namespace: 64 MiB of cache pages (less on a small machine), frames from
// physical_memory. A disk whose blocks exceed 4096 bytes is used without it.
ErrorOr<void> initialize();
fs::FileSystem* file_system(); // nullptr when there is no usable disk
block::BlockCache* cache();    // nullptr when running without the cache

// Prometheus lines for /metrics: cache counters and file-system space.
void write_metrics(FormatSink&);

// Holds the storage lock for its lifetime (see above).
class Locked {
public:
    Locked();
    ~Locked();
    Locked(const Locked&) = delete;
    Locked& operator=(const Locked&) = delete;
};

// Whole small files (state under /fs/system), read into the kernel heap.
// NotFound when absent. The caller frees the buffer with heap::free.
struct FileContents {
    uint8_t* data;
    size_t size;
};
ErrorOr<FileContents> read_small_file(std::string_view path, size_t limit);
// Atomically replaces a small file, durably, before returning.
ErrorOr<void> write_small_file(std::string_view path, std::span<const uint8_t>);

ErrorOr<size_t> read_file(std::string_view path, uint64_t offset, std::span<uint8_t> out);
ErrorOr<void> write_file(std::string_view path, std::span<const uint8_t> data);
ErrorOr<fs::Stat> stat(std::string_view path);

using ListFunction = ErrorOr<void> (*)(void* context, const fs::DirectoryEntry&);
ErrorOr<void> list_impl(std::string_view path, ListFunction, void* context);
// callback(const fs::DirectoryEntry&) -> ErrorOr<void>, in name order.
template<typename Callback>
ErrorOr<void> list(std::string_view path, Callback&& callback)
{
    return list_impl(
        path, [](void* context, const fs::DirectoryEntry& entry) -> ErrorOr<void> { return (*static_cast<Callback*>(context))(entry); },
        &callback);
}

inline constexpr size_t page_size = 4096;

class FileMapping {
public:
    uint64_t size() const { return m_size; } // bytes
    size_t page_count() const { return m_page_count; }
    // Physical address of the 4 KiB frame holding file bytes [index * 4096, +4096).
    uint64_t page_physical(size_t index) const { return m_pages[index]; }
    std::span<const uint64_t> pages() const { return { m_pages, m_page_count }; }

private:
    friend ErrorOr<FileMapping*> map_file(std::string_view);
    friend void unmap_file(FileMapping*);
    FileMapping() = default;

    uint64_t m_size { 0 };
    size_t m_page_count { 0 };
    uint64_t* m_pages { nullptr };
    block::CachePage** m_pins { nullptr }; // per page, the cache's pin; nullptr: frames the mapping owns (copies)
};

ErrorOr<FileMapping*> map_file(std::string_view path);
void unmap_file(FileMapping*);

} // namespace aisos::storage
