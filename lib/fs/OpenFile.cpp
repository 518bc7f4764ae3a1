// Open files: reading by offset without path lookups, and pinning. Blocks
// that a commit frees while an OpenFile still covers them go to a deferred
// list instead of back to the allocator; close() releases what no other
// OpenFile still covers. Nothing of this is on disk: after a crash or a
// remount there are no open files, and the blocks are simply free.

#include "lib/fs/Internals.h"

namespace aisos::fs {

OpenFile::OpenFile(FileSystem& fs)
    : m_fs(fs)
    , m_extents(fs.m_allocator)
    , m_public(fs.m_allocator)
{
}

ErrorOr<size_t> OpenFile::read(uint64_t offset, std::span<uint8_t> buffer)
{
    return m_fs.read_extents({ m_extents.data(), m_extents.size() }, m_size, offset, buffer);
}

ErrorOr<OpenFile*> FileSystem::open(std::string_view text)
{
    auto path = TRY(Path::parse(text));
    auto record = TRY(lookup(path));
    if (record.type != NodeType::File)
        return Error::invalid("is a directory");
    if (!m_deferred) {
        void* memory = TRY(m_allocator.allocate(sizeof(Array<ExtentRecord>), 16));
        m_deferred = new (memory) Array<ExtentRecord>(m_allocator);
    }
    void* memory = TRY(m_allocator.allocate(sizeof(OpenFile), alignof(OpenFile) < 16 ? 16 : alignof(OpenFile)));
    auto* file = new (memory) OpenFile(*this);
    auto result = [&]() -> ErrorOr<void> {
        TRY(load_extents(record.pointer, record.size, file->m_extents, nullptr, nullptr, nullptr));
        TRY(file->m_public.ensure_capacity(file->m_extents.size()));
        // Room to defer every extent of this file later, so that a commit
        // never needs memory it might not get after it is durable.
        TRY(m_deferred->ensure_capacity(m_deferred->size() + file->m_extents.size()));
        uint64_t offset = 0;
        for (auto extent : file->m_extents) {
            TRY(file->m_public.append(FileExtent { offset, extent.start * m_ratio, extent.length * m_ratio }));
            offset += extent.length * kBlockSize;
        }
        return {};
    }();
    if (result.is_error()) {
        file->~OpenFile();
        m_allocator.free(file);
        return result.error();
    }
    file->m_size = record.size;
    file->m_mtime = record.mtime;
    file->m_next = m_open_files;
    m_open_files = file;
    return file;
}

bool FileSystem::pinned(ExtentRecord extent) const
{
    for (auto* file = m_open_files; file; file = file->m_next) {
        for (auto held : file->m_extents) {
            if (held.start < extent.start + extent.length && extent.start < held.start + held.length)
                return true;
        }
    }
    return false;
}

void FileSystem::release_or_defer(ExtentRecord extent)
{
    if (!pinned(extent)) {
        release_after_commit(extent);
        return;
    }
    // Capacity was reserved by open(); should it still fail, the blocks stay
    // busy until the next mount, which is safe.
    (void)m_deferred->append(extent);
}

void FileSystem::close(OpenFile* file)
{
    if (!file)
        return;
    for (OpenFile** link = &m_open_files; *link; link = &(*link)->m_next) {
        if (*link == file) {
            *link = file->m_next;
            break;
        }
    }
    file->~OpenFile();
    m_allocator.free(file);
    if (!m_deferred)
        return;
    for (size_t i = m_deferred->size(); i-- > 0;) {
        auto extent = (*m_deferred)[i];
        if (!pinned(extent)) {
            release_after_commit(extent); // freed by the latest commit, for all we know
            m_deferred->remove(i);
        }
    }
}

} // namespace aisos::fs
