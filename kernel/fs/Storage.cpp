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

WallClock s_clock;
fs::FileSystem* s_file_system = nullptr;
// The storage lock. Interrupts stay enabled while it is held: nothing in an
// interrupt handler touches storage, and NVMe completions are polled.
Spinlock s_lock;

constexpr size_t chunk_bytes = 1024 * 1024; // the most one lock hold reads

} // namespace

Locked::Locked() { s_lock.lock(); }
Locked::~Locked() { s_lock.unlock(); }

ErrorOr<void> initialize()
{
    auto namespaces = nvme::namespaces();
    if (namespaces.empty())
        return Error::not_found("no NVMe namespace for /fs");
    block::BlockDevice& disk = *namespaces[0].device;
    Locked locked;
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

void release_mapping(FileMapping* mapping, uint64_t* pages, void** pins, size_t count);

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
    // Copies into frames the mapping owns.
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

void release_mapping(FileMapping* mapping, uint64_t* pages, void** pins, size_t count)
{
    (void)pins;
    for (size_t i = 0; i < count; ++i)
        physical_memory::free(pages[i], 1);
    heap::free(pages);
    mapping->~FileMapping();
    heap::free(mapping);
}

} // namespace

} // namespace aisos::storage
