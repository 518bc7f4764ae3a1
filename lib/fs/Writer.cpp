// Files: extent lists and the streaming atomic replace (Writer).

#include "lib/fs/Internals.h"

namespace aisos::fs {

ErrorOr<void> FileSystem::load_extents(uint64_t pointer, uint64_t size, Array<ExtentRecord>& extents, Array<uint64_t>* chain, ClaimFunction claim, void* claim_context)
{
    uint64_t expected = blocks_for_bytes(size);
    if ((size == 0) != (pointer == 0))
        return Error::corrupt("file size and extent pointer disagree");
    auto buffer = TRY(BlockBuffer::create(m_allocator));
    uint64_t total = 0;
    uint64_t steps = 0;
    for (uint64_t block = pointer; block != 0;) {
        if (++steps > m_super.block_count)
            return Error::corrupt("extent chain loops");
        if (claim)
            TRY(claim(claim_context, block, 1));
        TRY(read_metadata(block, kExtentMagic, buffer.data()));
        if (chain)
            TRY(chain->append(block));
        auto header = load_struct<BlockHeader>(buffer.data());
        if (header.count == 0 || header.count > kExtentsPerBlock || header.used != 0)
            return Error::corrupt("extent block header is inconsistent");
        for (uint32_t i = 0; i < header.count; ++i) {
            auto extent = load_struct<ExtentRecord>(buffer.data() + sizeof(BlockHeader) + i * sizeof(ExtentRecord));
            if (extent.length == 0 || extent.start < m_super.data_start || extent.start >= m_super.block_count
                || extent.length > m_super.block_count - extent.start)
                return Error::corrupt("file extent outside the data area");
            if (extent.length > expected - total)
                return Error::corrupt("file extents are longer than the file");
            total += extent.length;
            if (claim)
                TRY(claim(claim_context, extent.start, extent.length));
            TRY(extents.append(extent));
        }
        block = header.next;
    }
    if (total != expected)
        return Error::corrupt("file extents are shorter than the file");
    return {};
}

ErrorOr<uint64_t> FileSystem::write_extents(std::span<const ExtentRecord> extents, Transaction& transaction)
{
    if (extents.empty())
        return uint64_t(0);
    size_t blocks = (extents.size() + kExtentsPerBlock - 1) / kExtentsPerBlock;
    size_t first = transaction.allocated.size();
    for (size_t i = 0; i < blocks; ++i)
        TRY(allocate_metadata_block(transaction));
    auto buffer = TRY(BlockBuffer::create(m_allocator));
    for (size_t i = 0; i < blocks; ++i) {
        __builtin_memset(buffer.data(), 0, kBlockSize);
        size_t begin = i * kExtentsPerBlock;
        size_t count = extents.size() - begin;
        if (count > kExtentsPerBlock)
            count = kExtentsPerBlock;
        uint64_t number = transaction.allocated[first + i];
        uint64_t next = i + 1 < blocks ? transaction.allocated[first + i + 1] : 0;
        BlockHeader header { kExtentMagic, 0, number, next, uint32_t(count), 0 };
        store_struct(buffer.data(), header);
        __builtin_memcpy(buffer.data() + sizeof(BlockHeader), extents.data() + begin, count * sizeof(ExtentRecord));
        seal_block(buffer.data());
        TRY(write_blocks(number, 1, buffer.data()));
    }
    return transaction.allocated[first];
}

ErrorOr<void> FileSystem::free_file(uint64_t pointer, uint64_t size, Transaction& transaction)
{
    Array<ExtentRecord> extents(m_allocator);
    Array<uint64_t> chain(m_allocator);
    TRY(load_extents(pointer, size, extents, &chain, nullptr, nullptr));
    for (uint64_t block : chain)
        TRY(transaction.freed.append({ block, 1 }));
    for (auto extent : extents)
        TRY(transaction.freed.append(extent));
    return {};
}

ErrorOr<void> FileSystem::commit_file(std::string_view text, std::span<const ExtentRecord> extents, uint64_t size)
{
    TRY(ensure_writable());
    auto path = TRY(Path::parse(text));
    if (path.count == 0)
        return Error::invalid("the root is a directory");
    Transaction transaction(m_allocator);
    transaction.adopted = extents;
    auto result = [&]() -> ErrorOr<void> {
        uint64_t pointer = TRY(write_extents(extents, transaction));
        return apply(path, Mutation { MutationKind::SetFile, pointer, size, now() }, transaction);
    }();
    if (result.is_error() && !m_broken)
        abandon(transaction);
    return result;
}

ErrorOr<Array<FileExtent>> FileSystem::file_extents(std::string_view text)
{
    auto path = TRY(Path::parse(text));
    auto record = TRY(lookup(path));
    if (record.type != NodeType::File)
        return Error::invalid("is a directory");
    Array<ExtentRecord> extents(m_allocator);
    TRY(load_extents(record.pointer, record.size, extents, nullptr, nullptr, nullptr));
    Array<FileExtent> result(m_allocator);
    TRY(result.ensure_capacity(extents.size()));
    uint64_t offset = 0;
    for (auto extent : extents) {
        TRY(result.append(FileExtent { offset, extent.start * m_ratio, extent.length * m_ratio }));
        offset += extent.length * kBlockSize;
    }
    return result;
}

ErrorOr<Writer*> FileSystem::begin_write(std::string_view text)
{
    TRY(ensure_writable());
    auto path = TRY(Path::parse(text));
    if (path.count == 0)
        return Error::invalid("the root is a directory");
    // Refuse early what commit would refuse, before a large upload streams in.
    auto existing = lookup(path);
    if (!existing.is_error() && existing.value().type == NodeType::Directory)
        return Error { ErrorCode::Exists, "a directory has this name" };

    auto* path_copy = static_cast<char*>(TRY(m_allocator.allocate(text.size() ? text.size() : 1, 16)));
    __builtin_memcpy(path_copy, text.data(), text.size());
    auto staging = m_allocator.allocate(Writer::kStagingBytes, kBlockSize);
    if (staging.is_error()) {
        m_allocator.free(path_copy);
        return staging.error();
    }
    auto memory = m_allocator.allocate(sizeof(Writer), alignof(Writer) < 16 ? 16 : alignof(Writer));
    if (memory.is_error()) {
        m_allocator.free(staging.value());
        m_allocator.free(path_copy);
        return memory.error();
    }
    return new (memory.value()) Writer(*this, path_copy, text.size(), static_cast<uint8_t*>(staging.value()));
}

Writer::Writer(FileSystem& fs, char* path, size_t path_length, uint8_t* staging)
    : m_fs(fs)
    , m_path(path)
    , m_path_length(path_length)
    , m_staging(staging)
    , m_extents(fs.m_allocator)
{
}

Writer::~Writer()
{
    m_fs.m_allocator.free(m_path);
    m_fs.m_allocator.free(m_staging);
}

void Writer::destroy(Writer* writer)
{
    if (!writer)
        return;
    writer->abort();
    Allocator& allocator = writer->m_fs.m_allocator;
    writer->~Writer();
    allocator.free(writer);
}

void Writer::fail()
{
    m_fs.release(m_reservation);
    m_reservation = { 0, 0 };
    for (auto extent : m_extents)
        m_fs.release_and_discard(extent); // written, never committed
    m_extents.clear();
    m_state = State::Finished;
}

void Writer::abort()
{
    if (m_state == State::Open)
        fail();
}

ErrorOr<void> Writer::write_staged(size_t bytes)
{
    uint64_t blocks = bytes / kBlockSize;
    const uint8_t* source = m_staging;
    while (blocks > 0) {
        if (m_reservation.length == 0) {
            uint64_t near = m_extents.is_empty() ? 0 : m_extents.last().start + m_extents.last().length;
            m_reservation = TRY(m_fs.allocate_data_run(blocks, kReservationBlocks, near));
        }
        uint64_t take = blocks < m_reservation.length ? blocks : m_reservation.length;
        uint64_t start = m_reservation.start;
        if (!m_extents.is_empty() && m_extents.last().start + m_extents.last().length == start)
            m_extents.last().length += take;
        else
            TRY(m_extents.append({ start, take }));
        m_reservation.start += take;
        m_reservation.length -= take;
        TRY(m_fs.write_blocks(start, take, source));
        source += take * kBlockSize;
        blocks -= take;
    }
    return {};
}

ErrorOr<void> Writer::append(std::span<const uint8_t> data)
{
    if (m_state != State::Open)
        return Error::invalid("writer is finished");
    auto writable = m_fs.ensure_writable();
    if (writable.is_error()) {
        fail();
        return writable.error();
    }
    if (m_size + data.size() < m_size) {
        fail();
        return Error { ErrorCode::Overflow, "file too large" };
    }
    m_size += data.size();
    while (!data.empty()) {
        size_t take = kStagingBytes - m_staged;
        if (take > data.size())
            take = data.size();
        __builtin_memcpy(m_staging + m_staged, data.data(), take);
        m_staged += take;
        data = data.subspan(take);
        if (m_staged == kStagingBytes) {
            auto written = write_staged(m_staged);
            if (written.is_error()) {
                fail();
                return written.error();
            }
            m_staged = 0;
        }
    }
    return {};
}

ErrorOr<void> Writer::commit()
{
    if (m_state != State::Open)
        return Error::invalid("writer is finished");
    if (m_staged > 0) {
        size_t padded = (m_staged + kBlockSize - 1) / kBlockSize * kBlockSize;
        __builtin_memset(m_staging + m_staged, 0, padded - m_staged);
        auto written = write_staged(padded);
        if (written.is_error()) {
            fail();
            return written.error();
        }
        m_staged = 0;
    }
    m_fs.release(m_reservation);
    m_reservation = { 0, 0 };
    auto result = m_fs.commit_file({ m_path, m_path_length }, { m_extents.data(), m_extents.size() }, m_size);
    if (result.is_error()) {
        if (m_fs.m_broken)
            m_extents.clear(); // the new generation may be on disk: keep its blocks
        fail();
        return result.error();
    }
    m_extents.clear(); // now owned by the file system
    m_state = State::Finished;
    return {};
}

} // namespace aisos::fs
