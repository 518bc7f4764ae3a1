#include "kernel/fs/Storage.h"

#include "kernel/console/Log.h"
#include "kernel/cpu/Rtc.h"
#include "kernel/drivers/nvme/Nvme.h"
#include "kernel/lib/Spinlock.h"
#include "kernel/mm/Heap.h"
#include "kernel/mm/KernelAllocator.h"
#include "kernel/mm/PhysicalMemory.h"

#include <string.h>

namespace aisos::storage {

namespace {

class WallClock final : public fs::Clock {
public:
    int64_t now() override { return static_cast<int64_t>(rtc::unix_seconds()); }
};

// Cache pages are physical frames, so map_file can hand their addresses to
// a process's page tables.
class FramePageProvider final : public block::PageProvider {
public:
    ErrorOr<block::CachePageMemory> allocate_page() override
    {
        uint64_t physical = TRY(physical_memory::allocate(1));
        return block::CachePageMemory { static_cast<uint8_t*>(physical_memory::to_virtual(physical)), physical };
    }
    void free_page(block::CachePageMemory page) override { physical_memory::free(page.physical, 1); }
};

WallClock s_clock;
FramePageProvider s_frames;
block::BlockCache* s_cache = nullptr;
fs::FileSystem* s_file_system = nullptr;
// The storage lock. Interrupts stay enabled while it is held: nothing in an
// interrupt handler touches storage, and NVMe completions are polled.
Spinlock s_lock;

constexpr size_t chunk_bytes = 1024 * 1024; // the most one lock hold reads
constexpr size_t pin_chunk_pages = chunk_bytes / page_size;
constexpr uint64_t cache_budget = 64ull << 20;

// The cache over the disk, sized to the machine: 64 MiB, at most an eighth
// of free memory; pinned (mapped) pages may take up to half of free memory.
block::BlockDevice& cached(block::BlockDevice& disk)
{
    block::BlockCacheOptions options;
    uint64_t free = physical_memory::free_bytes();
    options.budget_bytes = free / 8 < cache_budget ? free / 8 : cache_budget;
    options.pinned_limit_pages = free / 2 / page_size;
    auto cache = block::BlockCache::try_create(disk, s_frames, KernelAllocator::the(), options);
    if (cache.is_error()) {
        log::warn("fs: no block cache ({}); using the disk directly", cache.error().reason());
        return disk;
    }
    s_cache = cache.value();
    log::info("fs: block cache {} MiB, read-ahead {} KiB, bypass from {} KiB", options.budget_bytes >> 20,
        options.read_ahead_blocks * 4, options.bypass_blocks * 4);
    return *s_cache;
}

} // namespace

Locked::Locked() { s_lock.lock(); }
Locked::~Locked() { s_lock.unlock(); }

ErrorOr<void> initialize()
{
    auto namespaces = nvme::namespaces();
    if (namespaces.empty())
        return Error::not_found("no NVMe namespace for /fs");
    Locked locked;
    block::BlockDevice& disk = cached(*namespaces[0].device);
    auto mounted = fs::FileSystem::mount(disk, KernelAllocator::the(), &s_clock);
    if (mounted.is_error() && mounted.error().code() == ErrorCode::NotFound) {
        // Only a disk without any aiSOS superblock is formatted; a damaged
        // one is never overwritten automatically.
        log::info("fs: no file system on nvme namespace {}, formatting", namespaces[0].nsid);
        TRY(fs::FileSystem::format(disk, KernelAllocator::the(), { 0, static_cast<int64_t>(rtc::unix_seconds()) }));
        mounted = fs::FileSystem::mount(disk, KernelAllocator::the(), &s_clock);
    }
    if (mounted.is_error())
        return mounted.error();
    s_file_system = mounted.release_value();
    auto space = s_file_system->space();
    log::info("fs: mounted nvme namespace {}: {} MiB free of {} MiB", namespaces[0].nsid, space.free_bytes >> 20,
        space.total_bytes >> 20);
    return {};
}

fs::FileSystem* file_system() { return s_file_system; }
block::BlockCache* cache() { return s_cache; }

void write_metrics(FormatSink& out)
{
    auto metric = [&](const char* type, const char* name, const char* help, uint64_t value) {
        format(out, "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
    };
    auto n = nvme::statistics();
    metric("counter", "aisos_nvme_interrupts_total", "NVMe completion interrupts (nvme_completion=msix).", n.interrupts);
    metric("counter", "aisos_nvme_discard_commands_total", "NVMe Dataset Management and Write Zeroes commands completed.", n.discard_commands);
    metric("counter", "aisos_nvme_resets_total", "NVMe controller resets after a command timeout.", n.resets);
    Locked locked;
    if (s_file_system) {
        auto space = s_file_system->space();
        metric("gauge", "aisos_fs_total_bytes", "Data area of /fs.", space.total_bytes);
        metric("gauge", "aisos_fs_free_bytes", "Bytes a new file in /fs can still take.", space.free_bytes);
    }
    if (!s_cache)
        return;
    auto c = s_cache->statistics();
    metric("counter", "aisos_cache_hits_total", "Blocks served from the block cache.", c.hits);
    metric("counter", "aisos_cache_misses_total", "Blocks the block cache read from the disk on request.", c.misses);
    metric("counter", "aisos_cache_read_ahead_total", "Blocks read ahead of sequential readers.", c.read_ahead);
    metric("counter", "aisos_cache_evictions_total", "Cache pages evicted to stay within the budget.", c.evictions);
    metric("counter", "aisos_cache_write_backs_total", "Dirty blocks written back to the disk.", c.write_backs);
    metric("counter", "aisos_cache_bypass_read_blocks_total", "Blocks of large reads that bypassed the cache.", c.bypass_reads);
    metric("counter", "aisos_cache_bypass_write_blocks_total", "Blocks of large writes that bypassed the cache.", c.bypass_writes);
    metric("counter", "aisos_cache_flushes_total", "Disk flushes.", c.flushes);
    metric("counter", "aisos_cache_discards_total", "Discards (freed blocks handed back) sent to the disk.", c.discards);
    metric("counter", "aisos_cache_discarded_bytes_total", "Bytes in those discards.", c.discarded_blocks * page_size);
    metric("counter", "aisos_disk_read_bytes_total", "Bytes read from the disk.", c.bytes_read);
    metric("counter", "aisos_disk_written_bytes_total", "Bytes written to the disk.", c.bytes_written);
    metric("gauge", "aisos_cache_resident_bytes", "Unpinned cache pages held.", c.resident_pages * page_size);
    metric("gauge", "aisos_cache_dirty_bytes", "Cache pages not yet written to the disk.", c.dirty_pages * page_size);
    metric("gauge", "aisos_cache_pinned_bytes", "Cache pages pinned by file mappings.", c.pinned_pages * page_size);
    metric("gauge", "aisos_cache_budget_bytes", "Memory budget of the block cache.", c.budget_pages * page_size);
}

ErrorOr<FileContents> read_small_file(std::string_view path, size_t limit)
{
    fs::Stat stat = TRY(storage::stat(path));
    if (stat.type != fs::NodeType::File)
        return Error::invalid("not a file");
    if (stat.size > limit)
        return Error { ErrorCode::OutOfRange, "file larger than expected" };
    auto* data = static_cast<uint8_t*>(TRY(heap::allocate(stat.size ? stat.size : 1)));
    auto read = read_file(path, 0, { data, static_cast<size_t>(stat.size) });
    if (read.is_error() || read.value() != stat.size) {
        heap::free(data);
        return read.is_error() ? read.error() : Error::corrupt("file changed while it was read");
    }
    return FileContents { data, static_cast<size_t>(stat.size) };
}

ErrorOr<void> write_small_file(std::string_view path, std::span<const uint8_t> contents)
{
    return write_file(path, contents);
}

ErrorOr<size_t> read_file(std::string_view path, uint64_t offset, std::span<uint8_t> out)
{
    fs::OpenFile* file = nullptr;
    {
        Locked locked;
        if (!s_file_system)
            return Error::not_found("no file system");
        file = TRY(s_file_system->open(path));
    }
    // Chunk by chunk, the lock released between chunks; the OpenFile keeps
    // this version's blocks even if the file is replaced meanwhile.
    size_t done = 0;
    ErrorOr<void> result {};
    while (done < out.size()) {
        size_t want = out.size() - done < chunk_bytes ? out.size() - done : chunk_bytes;
        Locked locked;
        auto read = file->read(offset + done, out.subspan(done, want));
        if (read.is_error()) {
            result = read.error();
            break;
        }
        done += read.value();
        if (read.value() < want)
            break;
    }
    {
        Locked locked;
        s_file_system->close(file);
    }
    if (result.is_error())
        return result.error();
    return done;
}

ErrorOr<void> write_file(std::string_view path, std::span<const uint8_t> data)
{
    fs::Writer* writer = nullptr;
    {
        Locked locked;
        if (!s_file_system)
            return Error::not_found("no file system");
        writer = TRY(s_file_system->begin_write(path));
    }
    ErrorOr<void> result {};
    for (size_t done = 0; done < data.size() && !result.is_error();) {
        size_t piece = data.size() - done < chunk_bytes ? data.size() - done : chunk_bytes;
        Locked locked;
        result = writer->append(data.subspan(done, piece));
        done += piece;
    }
    Locked locked;
    if (!result.is_error())
        result = writer->commit();
    else
        writer->abort();
    fs::Writer::destroy(writer);
    return result;
}

ErrorOr<fs::Stat> stat(std::string_view path)
{
    Locked locked;
    if (!s_file_system)
        return Error::not_found("no file system");
    return s_file_system->stat(path);
}

ErrorOr<void> list_impl(std::string_view path, ListFunction function, void* context)
{
    Locked locked;
    if (!s_file_system)
        return Error::not_found("no file system");
    return s_file_system->list(path, [&](const fs::DirectoryEntry& entry) { return function(context, entry); });
}

namespace {

void release_mapping(FileMapping* mapping, uint64_t* pages, block::CachePage** pins, size_t count);

} // namespace

ErrorOr<FileMapping*> map_file(std::string_view path)
{
    fs::OpenFile* file = nullptr;
    {
        Locked locked;
        if (!s_file_system)
            return Error::not_found("no file system");
        file = TRY(s_file_system->open(path));
    }
    auto close = [&] {
        Locked locked;
        s_file_system->close(file);
    };
    uint64_t size = file->size();
    size_t page_count = static_cast<size_t>((size + page_size - 1) / page_size);
    auto try_allocate = [](size_t bytes) -> void* {
        auto allocated = heap::allocate(bytes);
        return allocated.is_error() ? nullptr : allocated.value();
    };
    void* memory = try_allocate(sizeof(FileMapping));
    auto* pages = static_cast<uint64_t*>(try_allocate((page_count ? page_count : 1) * sizeof(uint64_t)));
    if (!memory || !pages) {
        heap::free(memory);
        heap::free(pages);
        close();
        return Error::no_memory();
    }
    auto* mapping = new (memory) FileMapping();
    mapping->m_size = size;
    mapping->m_pages = pages;
    if (s_cache) {
        auto* pins = static_cast<block::CachePage**>(try_allocate((page_count ? page_count : 1) * sizeof(block::CachePage*)));
        if (!pins) {
            release_mapping(mapping, pages, nullptr, 0);
            close();
            return Error::no_memory();
        }
        mapping->m_pins = pins;
        // Pins the cache page of every block, a chunk per lock hold. The
        // file system's blocks are the cache's 4096-byte blocks, and a file
        // ends zero-padded to its last block, so the pages map as they are.
        size_t pinned = 0;
        ErrorOr<void> result {};
        for (auto& extent : file->extents()) {
            for (uint64_t i = 0; i < extent.device_block_count && pinned < page_count && !result.is_error();) {
                Locked locked;
                for (size_t n = 0; n < pin_chunk_pages && i < extent.device_block_count && pinned < page_count; ++n, ++i) {
                    auto page = s_cache->pin(extent.device_block + i);
                    if (page.is_error()) {
                        result = page.error();
                        break;
                    }
                    pages[pinned] = page.value().physical;
                    pins[pinned] = page.value().handle;
                    ++pinned;
                }
            }
        }
        // The pins keep the contents even if the blocks are freed and
        // reused, so the file need not stay open.
        close();
        if (!result.is_error() && pinned != page_count)
            result = Error::corrupt("file extents shorter than its size");
        if (result.is_error()) {
            release_mapping(mapping, pages, pins, pinned);
            return result.error();
        }
        mapping->m_page_count = page_count;
        return mapping;
    }
    // Without the cache: copies into frames the mapping owns.
    size_t filled = 0;
    ErrorOr<void> result {};
    for (; filled < page_count; ++filled) {
        auto frame = physical_memory::allocate(1);
        if (frame.is_error()) {
            result = frame.error();
            break;
        }
        pages[filled] = frame.value();
        auto* bytes = static_cast<uint8_t*>(physical_memory::to_virtual(frame.value()));
        memset(bytes, 0, page_size);
        Locked locked;
        auto read = file->read(filled * page_size, { bytes, page_size });
        if (read.is_error()) {
            result = read.error();
            ++filled;
            break;
        }
    }
    close();
    if (result.is_error()) {
        release_mapping(mapping, pages, nullptr, filled);
        return result.error();
    }
    mapping->m_page_count = page_count;
    return mapping;
}

void unmap_file(FileMapping* mapping)
{
    if (!mapping)
        return;
    release_mapping(mapping, mapping->m_pages, mapping->m_pins, mapping->m_page_count);
}

namespace {

void release_mapping(FileMapping* mapping, uint64_t* pages, block::CachePage** pins, size_t count)
{
    if (pins) {
        for (size_t i = 0; i < count;) {
            Locked locked;
            for (size_t n = 0; n < pin_chunk_pages && i < count; ++n, ++i)
                s_cache->unpin(pins[i]);
        }
        heap::free(pins);
    } else {
        for (size_t i = 0; i < count; ++i)
            physical_memory::free(pages[i], 1);
    }
    heap::free(pages);
    mapping->~FileMapping();
    heap::free(mapping);
}

} // namespace

} // namespace aisos::storage
