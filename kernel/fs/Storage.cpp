#include "kernel/fs/Storage.h"

#include "kernel/console/Log.h"
#include "kernel/cpu/Rtc.h"
#include "kernel/drivers/nvme/Nvme.h"
#include "kernel/mm/Heap.h"
#include "kernel/mm/KernelAllocator.h"

namespace aisos::storage {

namespace {

class WallClock final : public fs::Clock {
public:
    int64_t now() override { return static_cast<int64_t>(rtc::unix_seconds()); }
};

WallClock s_clock;
fs::FileSystem* s_file_system = nullptr;

} // namespace

ErrorOr<void> initialize()
{
    auto namespaces = nvme::namespaces();
    if (namespaces.empty())
        return Error::not_found("no NVMe namespace for /fs");
    block::BlockDevice& disk = *namespaces[0].device;
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
    if (!s_file_system)
        return Error::not_found("no file system");
    fs::Stat stat = TRY(s_file_system->stat(path));
    if (stat.type != fs::NodeType::File)
        return Error::invalid("not a file");
    if (stat.size > limit)
        return Error { ErrorCode::OutOfRange, "file larger than expected" };
    auto* data = static_cast<uint8_t*>(TRY(heap::allocate(stat.size ? stat.size : 1)));
    auto read = s_file_system->read(path, 0, { data, static_cast<size_t>(stat.size) });
    if (read.is_error() || read.value() != stat.size) {
        heap::free(data);
        return read.is_error() ? read.error() : Error::corrupt("short read");
    }
    return FileContents { data, static_cast<size_t>(stat.size) };
}

ErrorOr<void> write_small_file(std::string_view path, std::span<const uint8_t> contents)
{
    if (!s_file_system)
        return Error::not_found("no file system");
    fs::Writer* writer = TRY(s_file_system->begin_write(path));
    auto result = writer->append(contents);
    if (!result.is_error())
        result = writer->commit();
    else
        writer->abort();
    fs::Writer::destroy(writer);
    return result;
}

} // namespace aisos::storage
