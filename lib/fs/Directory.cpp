// Directories and path operations: lookup, listing, mkdir -p, remove, and
// the copy-on-write rewrite of every directory on a changed path.

#include "lib/fs/Internals.h"

namespace aisos::fs {

namespace {

// Validates one directory block's records and hands each to visit(Record&),
// which returns ErrorOr<bool>: false stops early.
template<typename Visit>
ErrorOr<bool> for_each_record(const uint8_t* block, uint64_t data_start, uint64_t block_count, Visit&& visit)
{
    auto header = load_struct<BlockHeader>(block);
    if (header.used > kPayloadSize)
        return Error::corrupt("directory block claims more bytes than it holds");
    if (header.count == 0)
        return Error::corrupt("directory block without entries");
    const uint8_t* payload = block + sizeof(BlockHeader);
    uint32_t offset = 0;
    uint32_t count = 0;
    while (offset < header.used) {
        if (header.used - offset < sizeof(DirectoryEntryHeader))
            return Error::corrupt("directory entry cut short");
        auto entry = load_struct<DirectoryEntryHeader>(payload + offset);
        uint32_t record_size = directory_record_size(entry.name_length);
        if (record_size > header.used - offset)
            return Error::corrupt("directory entry runs past the block");
        DirectoryRecord record {};
        record.type = NodeType(entry.type);
        record.name_length = entry.name_length;
        record.pointer = entry.pointer;
        record.size = entry.size;
        record.mtime = entry.mtime;
        __builtin_memcpy(record.name, payload + offset + sizeof(DirectoryEntryHeader), entry.name_length);
        if (!valid_name(record.name_view()))
            return Error::corrupt("directory entry has an invalid name");
        if (record.type != NodeType::File && record.type != NodeType::Directory)
            return Error::corrupt("directory entry has an unknown type");
        if (record.pointer != 0 && (record.pointer < data_start || record.pointer >= block_count))
            return Error::corrupt("directory entry points outside the data area");
        if (record.type == NodeType::Directory && record.size != 0)
            return Error::corrupt("directory entry of a directory has a size");
        if (record.type == NodeType::File && (record.size == 0) != (record.pointer == 0))
            return Error::corrupt("file entry size and extent pointer disagree");
        ++count;
        offset += record_size;
        if (!TRY(visit(record)))
            return false;
    }
    if (count != header.count)
        return Error::corrupt("directory block entry count is wrong");
    return true;
}

}

ErrorOr<void> FileSystem::load_directory(uint64_t pointer, Array<Record>& entries, Array<uint64_t>* chain, ClaimFunction claim, void* claim_context)
{
    auto buffer = TRY(BlockBuffer::create(m_allocator));
    uint64_t steps = 0;
    for (uint64_t block = pointer; block != 0;) {
        if (++steps > m_super.block_count)
            return Error::corrupt("directory chain loops");
        if (claim)
            TRY(claim(claim_context, block, 1));
        TRY(read_metadata(block, kDirectoryMagic, buffer.data()));
        if (chain)
            TRY(chain->append(block));
        TRY(for_each_record(buffer.data(), m_super.data_start, m_super.block_count, [&](Record& record) -> ErrorOr<bool> {
            if (!entries.is_empty() && compare_names(entries.last().name_view(), record.name_view()) >= 0)
                return Error::corrupt("directory entries out of order or duplicated");
            TRY(entries.append(record));
            return true;
        }));
        block = load_struct<BlockHeader>(buffer.data()).next;
    }
    return {};
}

ErrorOr<bool> FileSystem::find_entry(uint64_t directory, std::string_view name, Record& found)
{
    auto buffer = TRY(BlockBuffer::create(m_allocator));
    uint64_t steps = 0;
    bool hit = false;
    for (uint64_t block = directory; block != 0 && !hit;) {
        if (++steps > m_super.block_count)
            return Error::corrupt("directory chain loops");
        TRY(read_metadata(block, kDirectoryMagic, buffer.data()));
        TRY(for_each_record(buffer.data(), m_super.data_start, m_super.block_count, [&](Record& record) -> ErrorOr<bool> {
            if (record.name_view() == name) {
                found = record;
                hit = true;
                return false;
            }
            return true;
        }));
        block = load_struct<BlockHeader>(buffer.data()).next;
    }
    return hit;
}

ErrorOr<DirectoryRecord> FileSystem::lookup(const Path& path)
{
    Record current {};
    current.type = NodeType::Directory;
    current.pointer = m_super.root;
    current.mtime = m_super.root_mtime;
    for (size_t index = 0; index < path.count; ++index) {
        if (current.type != NodeType::Directory)
            return Error::not_found("a path component is a file");
        Record next {};
        if (!TRY(find_entry(current.pointer, path.segments[index], next)))
            return Error::not_found("no such file or directory");
        current = next;
    }
    return current;
}

ErrorOr<Stat> FileSystem::stat(std::string_view text)
{
    auto path = TRY(Path::parse(text));
    auto record = TRY(lookup(path));
    return Stat { record.type, record.size, record.mtime };
}

ErrorOr<void> FileSystem::list_impl(std::string_view text, ErrorOr<void> (*callback)(void*, const DirectoryEntry&), void* context)
{
    auto path = TRY(Path::parse(text));
    auto record = TRY(lookup(path));
    if (record.type != NodeType::Directory)
        return Error::invalid("not a directory");
    auto buffer = TRY(BlockBuffer::create(m_allocator));
    uint64_t steps = 0;
    for (uint64_t block = record.pointer; block != 0;) {
        if (++steps > m_super.block_count)
            return Error::corrupt("directory chain loops");
        TRY(read_metadata(block, kDirectoryMagic, buffer.data()));
        TRY(for_each_record(buffer.data(), m_super.data_start, m_super.block_count, [&](Record& entry) -> ErrorOr<bool> {
            TRY(callback(context, DirectoryEntry { entry.name_view(), entry.type, entry.size, entry.mtime }));
            return true;
        }));
        block = load_struct<BlockHeader>(buffer.data()).next;
    }
    return {};
}

ErrorOr<uint64_t> FileSystem::write_directory(const Array<Record>& entries, Transaction& transaction)
{
    if (entries.is_empty())
        return uint64_t(0);
    size_t blocks = 1;
    uint32_t used = 0;
    for (auto& entry : entries) {
        uint32_t size = directory_record_size(entry.name_length);
        if (used + size > kPayloadSize) {
            ++blocks;
            used = 0;
        }
        used += size;
    }
    size_t first = transaction.allocated.size();
    for (size_t i = 0; i < blocks; ++i)
        TRY(allocate_metadata_block(transaction));

    auto buffer = TRY(BlockBuffer::create(m_allocator));
    size_t block_index = 0;
    used = 0;
    uint32_t count = 0;
    __builtin_memset(buffer.data(), 0, kBlockSize);
    auto emit = [&](bool last) -> ErrorOr<void> {
        uint64_t number = transaction.allocated[first + block_index];
        uint64_t next = last ? 0 : transaction.allocated[first + block_index + 1];
        BlockHeader header { kDirectoryMagic, 0, number, next, count, used };
        store_struct(buffer.data(), header);
        seal_block(buffer.data());
        TRY(write_blocks(number, 1, buffer.data()));
        ++block_index;
        used = 0;
        count = 0;
        __builtin_memset(buffer.data(), 0, kBlockSize);
        return {};
    };
    for (auto& entry : entries) {
        uint32_t size = directory_record_size(entry.name_length);
        if (used + size > kPayloadSize)
            TRY(emit(false));
        DirectoryEntryHeader header { uint8_t(entry.type), entry.name_length, 0, 0, entry.pointer, entry.size, entry.mtime };
        uint8_t* at = buffer.data() + sizeof(BlockHeader) + used;
        store_struct(at, header);
        __builtin_memcpy(at + sizeof(DirectoryEntryHeader), entry.name, entry.name_length);
        used += size;
        ++count;
    }
    TRY(emit(true));
    return transaction.allocated[first];
}

// Where name is or would be inserted in sorted entries.
static size_t position_of(const Array<DirectoryRecord>& entries, std::string_view name, bool& found)
{
    size_t low = 0;
    size_t high = entries.size();
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (compare_names(entries[middle].name_view(), name) < 0)
            low = middle + 1;
        else
            high = middle;
    }
    found = low < entries.size() && entries[low].name_view() == name;
    return low;
}

static DirectoryRecord make_record(std::string_view name, NodeType type, uint64_t pointer, uint64_t size, int64_t mtime)
{
    DirectoryRecord record {};
    record.type = type;
    record.name_length = uint8_t(name.size());
    record.pointer = pointer;
    record.size = size;
    record.mtime = mtime;
    __builtin_memcpy(record.name, name.data(), name.size());
    return record;
}

ErrorOr<uint64_t> FileSystem::rewrite(uint64_t directory, const Path& path, size_t index, const Mutation& mutation, Transaction& transaction, bool& entries_changed)
{
    Array<Record> entries(m_allocator);
    Array<uint64_t> chain(m_allocator);
    TRY(load_directory(directory, entries, &chain, nullptr, nullptr));
    std::string_view name = path.segments[index];
    bool found = false;
    size_t position = position_of(entries, name, found);
    entries_changed = false;

    if (index + 1 == path.count) {
        switch (mutation.kind) {
        case MutationKind::SetFile:
            if (found) {
                if (entries[position].type == NodeType::Directory)
                    return Error { ErrorCode::Exists, "a directory has this name" };
                TRY(free_file(entries[position].pointer, entries[position].size, transaction));
                entries[position] = make_record(name, NodeType::File, mutation.pointer, mutation.size, mutation.mtime);
            } else {
                TRY(entries.insert(position, make_record(name, NodeType::File, mutation.pointer, mutation.size, mutation.mtime)));
                entries_changed = true;
            }
            break;
        case MutationKind::MakeDirectory:
            if (found) {
                if (entries[position].type != NodeType::Directory)
                    return Error { ErrorCode::Exists, "a file has this name" };
                return directory; // already there: nothing to rewrite
            }
            TRY(entries.insert(position, make_record(name, NodeType::Directory, 0, 0, mutation.mtime)));
            entries_changed = true;
            break;
        case MutationKind::Remove: {
            if (!found)
                return Error::not_found("no such file or directory");
            auto& victim = entries[position];
            if (victim.type == NodeType::Directory) {
                Array<Record> children(m_allocator);
                Array<uint64_t> child_chain(m_allocator);
                TRY(load_directory(victim.pointer, children, &child_chain, nullptr, nullptr));
                if (!children.is_empty())
                    return Error { ErrorCode::Busy, "directory not empty" };
                for (uint64_t block : child_chain)
                    TRY(transaction.freed.append({ block, 1 }));
            } else {
                TRY(free_file(victim.pointer, victim.size, transaction));
            }
            entries.remove(position);
            entries_changed = true;
            break;
        }
        }
    } else {
        uint64_t child = 0;
        if (found) {
            if (entries[position].type != NodeType::Directory)
                return Error { mutation.kind == MutationKind::Remove ? ErrorCode::NotFound : ErrorCode::Exists, "a path component is a file" };
            child = entries[position].pointer;
        } else {
            if (mutation.kind == MutationKind::Remove)
                return Error::not_found("no such file or directory");
            TRY(entries.insert(position, make_record(name, NodeType::Directory, 0, 0, mutation.mtime)));
            entries_changed = true;
        }
        bool child_changed = false;
        uint64_t new_child = TRY(rewrite(child, path, index + 1, mutation, transaction, child_changed));
        if (new_child == child && found)
            return directory; // nothing below changed
        entries[position].pointer = new_child;
        if (child_changed)
            entries[position].mtime = mutation.mtime;
    }

    for (uint64_t block : chain)
        TRY(transaction.freed.append({ block, 1 }));
    return write_directory(entries, transaction);
}

ErrorOr<void> FileSystem::apply(const Path& path, const Mutation& mutation, Transaction& transaction)
{
    bool root_changed = false;
    uint64_t new_root = TRY(rewrite(m_super.root, path, 0, mutation, transaction, root_changed));
    if (new_root == m_super.root && transaction.allocated.is_empty() && transaction.freed.is_empty())
        return {}; // nothing changed (mkdir of an existing directory)
    return finish(transaction, new_root, root_changed ? mutation.mtime : m_super.root_mtime);
}

ErrorOr<void> FileSystem::make_directory(std::string_view text)
{
    TRY(ensure_writable());
    auto path = TRY(Path::parse(text));
    if (path.count == 0)
        return {}; // the root always exists
    Transaction transaction(m_allocator);
    auto result = apply(path, Mutation { MutationKind::MakeDirectory, 0, 0, now() }, transaction);
    if (result.is_error() && !m_broken)
        abandon(transaction);
    return result;
}

ErrorOr<void> FileSystem::remove(std::string_view text)
{
    TRY(ensure_writable());
    auto path = TRY(Path::parse(text));
    if (path.count == 0)
        return Error::invalid("the root directory cannot be removed");
    Transaction transaction(m_allocator);
    auto result = apply(path, Mutation { MutationKind::Remove, 0, 0, now() }, transaction);
    if (result.is_error() && !m_broken)
        abandon(transaction);
    return result;
}

ErrorOr<size_t> FileSystem::read(std::string_view text, uint64_t offset, std::span<uint8_t> buffer)
{
    auto path = TRY(Path::parse(text));
    auto record = TRY(lookup(path));
    if (record.type != NodeType::File)
        return Error::invalid("is a directory");
    if (offset >= record.size || buffer.empty())
        return size_t(0);
    Array<ExtentRecord> extents(m_allocator);
    TRY(load_extents(record.pointer, record.size, extents, nullptr, nullptr, nullptr));
    return read_extents({ extents.data(), extents.size() }, record.size, offset, buffer);
}

ErrorOr<size_t> FileSystem::read_extents(std::span<const ExtentRecord> extents, uint64_t size, uint64_t offset, std::span<uint8_t> buffer)
{
    if (offset >= size || buffer.empty())
        return size_t(0);
    uint64_t length = size - offset;
    if (length > buffer.size())
        length = buffer.size();
    auto bounce = TRY(BlockBuffer::create(m_allocator));

    uint64_t done = 0;
    uint64_t extent_first_block = 0; // file block where the current extent starts
    size_t extent_index = 0;
    while (done < length) {
        uint64_t position = offset + done;
        uint64_t file_block = position / kBlockSize;
        while (extent_index < extents.size() && file_block >= extent_first_block + extents[extent_index].length) {
            extent_first_block += extents[extent_index].length;
            ++extent_index;
        }
        if (extent_index == extents.size())
            return Error::corrupt("file extents end before its size");
        auto& extent = extents[extent_index];
        uint64_t physical = extent.start + (file_block - extent_first_block);
        uint64_t run_blocks = extent.length - (file_block - extent_first_block);
        uint32_t within = uint32_t(position % kBlockSize);
        uint64_t remaining = length - done;
        if (within == 0 && remaining >= kBlockSize) {
            uint64_t blocks = remaining / kBlockSize;
            if (blocks > run_blocks)
                blocks = run_blocks;
            TRY(read_blocks(physical, blocks, buffer.data() + done));
            done += blocks * kBlockSize;
        } else {
            TRY(read_blocks(physical, 1, bounce.data()));
            uint64_t take = kBlockSize - within;
            if (take > remaining)
                take = remaining;
            __builtin_memcpy(buffer.data() + done, bounce.data() + within, take);
            done += take;
        }
    }
    return size_t(length);
}

} // namespace aisos::fs
