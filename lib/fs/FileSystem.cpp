// Mount, format, device access, free-space bookkeeping and the commit
// protocol (see Layout.h for why this order is crash-safe).

#include "lib/fs/Crc32c.h"
#include "lib/fs/Internals.h"

namespace aisos::fs {

uint32_t block_checksum(const uint8_t* block)
{
    static constexpr uint8_t zeros[4] = {};
    uint32_t crc = crc32c({ block, 4 });
    crc = crc32c({ zeros, 4 }, crc);
    return crc32c({ block + 8, kBlockSize - 8 }, crc);
}

void seal_block(uint8_t* block)
{
    uint32_t crc = block_checksum(block);
    __builtin_memcpy(block + 4, &crc, 4);
}

bool valid_name(std::string_view name)
{
    if (name.empty() || name.size() > kMaxNameLength || name == "." || name == "..")
        return false;
    for (char c : name) {
        if (c == '/' || c == 0)
            return false;
    }
    return true;
}

int compare_names(std::string_view a, std::string_view b)
{
    size_t common = a.size() < b.size() ? a.size() : b.size();
    int result = common ? __builtin_memcmp(a.data(), b.data(), common) : 0;
    if (result != 0)
        return result;
    return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

ErrorOr<FileSystem::Path> FileSystem::Path::parse(std::string_view text)
{
    Path path;
    if (!text.empty() && text.front() == '/')
        text.remove_prefix(1);
    if (!text.empty() && text.back() == '/') {
        text.remove_suffix(1);
        if (text.empty())
            return Error::invalid("path has an empty segment");
    }
    while (!text.empty()) {
        size_t slash = text.find('/');
        std::string_view segment = text.substr(0, slash);
        if (segment.empty())
            return Error::invalid("path has an empty segment");
        if (segment.size() > kMaxNameLength)
            return Error::invalid("path segment longer than 255 bytes");
        if (!valid_name(segment))
            return Error::invalid("path segment is '.', '..' or holds a NUL byte");
        if (path.count == kMaxDepth + 1)
            return Error::invalid("path too deep");
        path.segments[path.count++] = segment;
        if (slash == std::string_view::npos)
            break;
        text.remove_prefix(slash + 1);
        if (text.empty())
            return Error::invalid("path has an empty segment");
    }
    return path;
}

FileSystem::FileSystem(block::BlockDevice& device, Allocator& allocator, Clock* clock)
    : m_device(device)
    , m_allocator(allocator)
    , m_clock(clock)
    , m_discard_after_next_commit(allocator)
{
}

FileSystem::~FileSystem()
{
    while (m_open_files)
        close(m_open_files);
    if (m_deferred) {
        m_deferred->~Array();
        m_allocator.free(m_deferred);
    }
    m_allocator.free(m_committed);
    m_allocator.free(m_busy);
    m_allocator.free(m_stale[0]);
    m_allocator.free(m_stale[1]);
}

void FileSystem::unmount(FileSystem* fs)
{
    if (!fs)
        return;
    Allocator& allocator = fs->m_allocator;
    fs->~FileSystem();
    allocator.free(fs);
}

static ErrorOr<uint32_t> blocks_per_block(block::BlockDevice& device)
{
    uint32_t size = device.block_size();
    if (size < 512 || (size & (size - 1)) != 0 || size > kBlockSize)
        return Error::unsupported("device block size must be a power of two from 512 to 4096");
    return kBlockSize / size;
}

static uint64_t bitmap_blocks_for(uint64_t block_count)
{
    return block_count / kBitsPerBitmapBlock + (block_count % kBitsPerBitmapBlock != 0);
}

ErrorOr<void> FileSystem::format(block::BlockDevice& device, Allocator& allocator, const FormatOptions& options)
{
    uint32_t ratio = TRY(blocks_per_block(device));
    uint64_t block_count = device.block_count() / ratio;
    if (options.block_count) {
        if (options.block_count > block_count)
            return Error { ErrorCode::OutOfRange, "requested size is larger than the device" };
        block_count = options.block_count;
    }
    uint64_t bitmap_blocks = bitmap_blocks_for(block_count);
    uint64_t data_start = 2 + 2 * bitmap_blocks;
    if (block_count < data_start + 16)
        return Error { ErrorCode::NoSpace, "device too small for a file system" };

    void* memory = TRY(allocator.allocate(kBlockSize, kBlockSize));
    auto* block = static_cast<uint8_t*>(memory);
    auto write = [&](uint64_t number) -> ErrorOr<void> {
        return device.write(number * ratio, { block, kBlockSize });
    };
    auto run = [&]() -> ErrorOr<void> {
        // Invalidate any previous superblocks first, so a crash mid-format
        // leaves "no file system" rather than an old root over new bitmaps.
        // The older slot goes first, with a flush between: otherwise a torn
        // newest slot would expose the previous generation for a moment.
        uint64_t generations[2] = { 0, 0 };
        for (uint64_t slot = 0; slot < 2; ++slot) {
            TRY(device.read(slot * ratio, { block, kBlockSize }));
            auto old = load_struct<Superblock>(block);
            if (old.header.magic == kSuperblockMagic)
                generations[slot] = old.generation;
        }
        uint64_t older = generations[0] <= generations[1] ? 0 : 1;
        __builtin_memset(block, 0, kBlockSize);
        TRY(write(older));
        TRY(device.flush());
        TRY(write(1 - older));
        TRY(device.flush());
        // No file system refers to anything on the disk now: let it reclaim
        // the data area, as mkfs does (a hint; a disk without it is fine).
        (void)device.discard(data_start * ratio, (block_count - data_start) * ratio);

        for (uint64_t area = 0; area < 2; ++area) {
            for (uint64_t index = 0; index < bitmap_blocks; ++index) {
                __builtin_memset(block, 0, kBlockSize);
                uint8_t* bits = block + sizeof(BlockHeader);
                uint64_t first = index * kBitsPerBitmapBlock;
                for (uint64_t bit = first; bit < data_start && bit < first + kBitsPerBitmapBlock; ++bit)
                    bits[(bit - first) / 8] |= uint8_t(1u << ((bit - first) % 8));
                uint64_t number = 2 + area * bitmap_blocks + index;
                BlockHeader header { kBitmapMagic, 0, number, 0, uint32_t(index), 0 };
                store_struct(block, header);
                seal_block(block);
                TRY(write(number));
            }
        }
        TRY(device.flush());

        __builtin_memset(block, 0, kBlockSize);
        Superblock super {};
        super.header = { kSuperblockMagic, 0, 1, 0, 0, 0 };
        super.version = kFormatVersion;
        super.block_size = kBlockSize;
        super.generation = 1;
        super.block_count = block_count;
        super.bitmap_start[0] = 2;
        super.bitmap_start[1] = 2 + bitmap_blocks;
        super.bitmap_blocks = bitmap_blocks;
        super.data_start = data_start;
        super.root = 0;
        super.used_blocks = data_start;
        super.root_mtime = options.time;
        super.format_time = options.time;
        store_struct(block, super);
        seal_block(block);
        TRY(write(1));
        TRY(device.flush());
        return {};
    };
    auto result = run();
    allocator.free(block);
    return result;
}

ErrorOr<Superblock> FileSystem::read_superblock(block::BlockDevice& device, uint32_t ratio, uint64_t slot)
{
    uint8_t block[kBlockSize];
    TRY(device.read(slot * ratio, { block, kBlockSize }));
    auto super = load_struct<Superblock>(block);
    if (super.header.magic != kSuperblockMagic)
        return Error::not_found("no file system on this device");
    uint32_t crc = super.header.crc;
    if (crc != block_checksum(block))
        return Error::corrupt("superblock checksum mismatch");
    if (super.header.self != slot)
        return Error::corrupt("superblock in the wrong slot");
    if (super.version != kFormatVersion)
        return Error::unsupported("unsupported file system version");
    if (super.block_size != kBlockSize)
        return Error::corrupt("superblock block size is not 4096");
    if (super.generation == 0 || super.generation % 2 != slot)
        return Error::corrupt("superblock generation does not match its slot");
    if (super.block_count > device.block_count() / ratio)
        return Error::corrupt("file system is larger than the device");
    uint64_t bitmap_blocks = bitmap_blocks_for(super.block_count);
    if (super.bitmap_blocks != bitmap_blocks || super.bitmap_start[0] != 2 || super.bitmap_start[1] != 2 + bitmap_blocks
        || super.data_start != 2 + 2 * bitmap_blocks || super.block_count < super.data_start + 16)
        return Error::corrupt("superblock geometry is inconsistent");
    if (super.root != 0 && (super.root < super.data_start || super.root >= super.block_count))
        return Error::corrupt("root directory pointer outside the disk");
    if (super.used_blocks < super.data_start || super.used_blocks > super.block_count)
        return Error::corrupt("superblock used-block count is impossible");
    return super;
}

ErrorOr<FileSystem*> FileSystem::mount(block::BlockDevice& device, Allocator& allocator, Clock* clock, MountCheck mount_check)
{
    uint32_t ratio = TRY(blocks_per_block(device));
    if (device.block_count() / ratio < 2)
        return Error::not_found("no file system on this device");

    ErrorOr<Superblock> slots[2] = { read_superblock(device, ratio, 0), read_superblock(device, ratio, 1) };
    for (auto& slot : slots) {
        // A read failure of the device is not a property of the image.
        if (slot.is_error() && slot.error().code() != ErrorCode::Corrupt && slot.error().code() != ErrorCode::NotFound
            && slot.error().code() != ErrorCode::Unsupported)
            return slot.error();
    }
    // Only the newest valid superblock is used. An older one is the
    // fallback for a torn or lost superblock write, not for damage further
    // down: silently rolling back an acknowledged commit would hide it.
    int best = !slots[0].is_error() && (slots[1].is_error() || slots[0].value().generation > slots[1].value().generation) ? 0 : 1;
    if (slots[best].is_error()) {
        Error first = slots[0].error();
        Error second = slots[1].error();
        return first.code() != ErrorCode::NotFound ? first : second;
    }
    void* memory = TRY(allocator.allocate(sizeof(FileSystem), alignof(FileSystem) < 16 ? 16 : alignof(FileSystem)));
    auto* fs = new (memory) FileSystem(device, allocator, clock);
    fs->m_ratio = ratio;
    auto result = [&]() -> ErrorOr<void> {
        TRY(fs->load(slots[best].value()));
        if (mount_check == MountCheck::Full) {
            CheckReport report;
            TRY(fs->check(report));
        }
        return {};
    }();
    if (result.is_error()) {
        unmount(fs);
        return result.error();
    }
    return fs;
}

ErrorOr<void> FileSystem::load(const Superblock& super)
{
    m_super = super;
    uint64_t blocks = super.block_count;
    m_bitmap_words = (super.bitmap_blocks * kBitsPerBitmapBlock) / 64;
    size_t bytes = m_bitmap_words * 8;
    m_committed = static_cast<uint64_t*>(TRY(m_allocator.allocate(bytes, 64)));
    m_busy = static_cast<uint64_t*>(TRY(m_allocator.allocate(bytes, 64)));
    size_t stale_words = (super.bitmap_blocks + 63) / 64;
    m_stale[0] = static_cast<uint64_t*>(TRY(m_allocator.allocate(stale_words * 8, 64)));
    m_stale[1] = static_cast<uint64_t*>(TRY(m_allocator.allocate(stale_words * 8, 64)));
    __builtin_memset(m_stale[0], 0, stale_words * 8);
    __builtin_memset(m_stale[1], 0, stale_words * 8);

    uint64_t area = super.generation % 2;
    auto buffer = TRY(BlockBuffer::create(m_allocator));
    constexpr uint64_t words_per_block = kBitsPerBitmapBlock / 64;
    for (uint64_t index = 0; index < super.bitmap_blocks; ++index) {
        TRY(read_metadata(super.bitmap_start[area] + index, kBitmapMagic, buffer.data()));
        auto header = load_struct<BlockHeader>(buffer.data());
        if (header.count != index || header.next != 0 || header.used != 0)
            return Error::corrupt("bitmap block header is inconsistent");
        __builtin_memcpy(m_committed + index * words_per_block, buffer.data() + sizeof(BlockHeader), kPayloadSize);
    }
    // The other area is not known to match: its first commit rewrites it.
    for (uint64_t index = 0; index < super.bitmap_blocks; ++index)
        m_stale[1 - area][index / 64] |= uint64_t(1) << (index % 64);

    uint64_t count = 0;
    for (uint64_t word = 0; word < m_bitmap_words; ++word)
        count += uint64_t(__builtin_popcountll(m_committed[word]));
    for (uint64_t bit = blocks; bit < m_bitmap_words * 64; ++bit) {
        if (m_committed[bit / 64] & (uint64_t(1) << (bit % 64)))
            return Error::corrupt("free map marks blocks past the end of the disk");
    }
    for (uint64_t bit = 0; bit < super.data_start; ++bit) {
        if (!(m_committed[bit / 64] & (uint64_t(1) << (bit % 64))))
            return Error::corrupt("free map does not own the superblocks and bitmaps");
    }
    if (count != super.used_blocks)
        return Error::corrupt("free map disagrees with the superblock's used-block count");
    __builtin_memcpy(m_busy, m_committed, bytes);
    m_busy_count = count;
    m_data_hint = super.data_start;
    m_metadata_hint = super.data_start;
    uint64_t data_blocks = blocks - super.data_start;
    m_reserve = data_blocks / 64;
    if (m_reserve < 16)
        m_reserve = 16;
    if (m_reserve > 1024)
        m_reserve = 1024;
    return {};
}

// ---- device access ----

ErrorOr<void> FileSystem::read_blocks(uint64_t block, uint64_t count, uint8_t* buffer)
{
    if (block > m_super.block_count || count > m_super.block_count - block)
        return Error::corrupt("block range outside the file system");
    return m_device.read(block * m_ratio, { buffer, size_t(count * kBlockSize) });
}

ErrorOr<void> FileSystem::write_blocks(uint64_t block, uint64_t count, const uint8_t* buffer)
{
    if (block > m_super.block_count || count > m_super.block_count - block)
        return Error { ErrorCode::OutOfRange, "write outside the file system" };
    return m_device.write(block * m_ratio, { buffer, size_t(count * kBlockSize) });
}

ErrorOr<void> FileSystem::read_metadata(uint64_t block, uint32_t magic, uint8_t* buffer)
{
    bool bitmap = magic == kBitmapMagic;
    if (block >= m_super.block_count || (!bitmap && block < m_super.data_start))
        return Error::corrupt("metadata pointer outside the data area");
    TRY(read_blocks(block, 1, buffer));
    auto header = load_struct<BlockHeader>(buffer);
    if (header.magic != magic)
        return Error::corrupt("metadata block has the wrong type");
    if (header.crc != block_checksum(buffer))
        return Error::corrupt("metadata block checksum mismatch");
    if (header.self != block)
        return Error::corrupt("metadata block is not where it claims to be");
    return {};
}

// ---- free space ----

bool FileSystem::busy(uint64_t block) const
{
    return m_busy[block / 64] & (uint64_t(1) << (block % 64));
}

bool FileSystem::block_in_use(uint64_t block) const
{
    if (block >= m_super.block_count)
        return false;
    return m_committed[block / 64] & (uint64_t(1) << (block % 64));
}

void FileSystem::set_busy(uint64_t start, uint64_t count)
{
    for (uint64_t block = start; block < start + count; ++block) {
        if (block % 64 == 0 && start + count - block >= 64) {
            m_busy_count += 64 - uint64_t(__builtin_popcountll(m_busy[block / 64]));
            m_busy[block / 64] = ~uint64_t(0);
            block += 63;
            continue;
        }
        uint64_t bit = uint64_t(1) << (block % 64);
        if (!(m_busy[block / 64] & bit)) {
            m_busy[block / 64] |= bit;
            ++m_busy_count;
        }
    }
}

void FileSystem::clear_busy(uint64_t start, uint64_t count)
{
    for (uint64_t block = start; block < start + count; ++block) {
        if (block % 64 == 0 && start + count - block >= 64) {
            m_busy_count -= uint64_t(__builtin_popcountll(m_busy[block / 64]));
            m_busy[block / 64] = 0;
            block += 63;
            continue;
        }
        uint64_t bit = uint64_t(1) << (block % 64);
        if (m_busy[block / 64] & bit) {
            m_busy[block / 64] &= ~bit;
            --m_busy_count;
        }
    }
}

void FileSystem::release(ExtentRecord extent)
{
    if (extent.length)
        clear_busy(extent.start, extent.length);
}

// Discards (TRIM) let an SSD or a sparse image reclaim blocks whose contents
// nobody needs. They are hints: a failure loses nothing and is not reported,
// and without memory to remember a range it is simply not discarded.
//
// Blocks written by a change that never committed: no generation refers to
// them, so they go at once.
void FileSystem::release_and_discard(ExtentRecord extent)
{
    if (!extent.length)
        return;
    release(extent);
    (void)m_device.discard(extent.start * m_ratio, extent.length * m_ratio);
}

// Blocks freed by a committed change: the previous generation, which mount
// falls back to if the newest superblock is damaged, still refers to them.
// They become free for allocation now, and are discarded after the next
// commit overwrites that generation's superblock slot (discard_unused skips
// whatever was allocated again meanwhile).
void FileSystem::release_after_commit(ExtentRecord extent)
{
    if (!extent.length)
        return;
    release(extent);
    (void)m_discard_after_next_commit.append(extent);
}

// The parts of the extent that are not busy (allocated again since it was
// freed), as few device ranges as possible.
void FileSystem::discard_unused(ExtentRecord extent)
{
    uint64_t end = extent.start + extent.length;
    for (uint64_t block = extent.start; block < end;) {
        if (busy(block)) {
            ++block;
            continue;
        }
        uint64_t run = block;
        while (block < end && !busy(block))
            ++block;
        (void)m_device.discard(run * m_ratio, (block - run) * m_ratio);
    }
}

// After a commit is durable: what the generation before the previous one
// freed is now unreachable from both superblock slots.
void FileSystem::discard_previous_generation_frees()
{
    for (auto extent : m_discard_after_next_commit)
        discard_unused(extent);
    m_discard_after_next_commit.clear();
}

// First non-busy block at or after from, wrapping once to the data start;
// block_count when the disk is full.
uint64_t FileSystem::find_free(uint64_t from) const
{
    uint64_t end = m_super.block_count;
    if (from < m_super.data_start || from >= end)
        from = m_super.data_start;
    for (int pass = 0; pass < 2; ++pass) {
        uint64_t block = from;
        uint64_t limit = pass == 0 ? end : from;
        if (pass == 1)
            block = m_super.data_start;
        while (block < limit) {
            uint64_t word = m_busy[block / 64] | ((uint64_t(1) << (block % 64)) - 1);
            if (word == ~uint64_t(0)) {
                block = (block / 64 + 1) * 64;
                continue;
            }
            uint64_t found = (block / 64) * 64 + uint64_t(__builtin_ctzll(~word));
            if (found < limit)
                return found;
            break;
        }
    }
    return end;
}

ErrorOr<uint64_t> FileSystem::allocate_metadata_block(Transaction& transaction)
{
    uint64_t block = find_free(m_metadata_hint);
    if (block >= m_super.block_count)
        return Error { ErrorCode::NoSpace, "no space left for metadata" };
    set_busy(block, 1);
    auto appended = transaction.allocated.append(block);
    if (appended.is_error()) {
        clear_busy(block, 1);
        return appended.error();
    }
    m_metadata_hint = block + 1;
    return block;
}

ErrorOr<ExtentRecord> FileSystem::allocate_data_run(uint64_t needed, uint64_t preferred, uint64_t near)
{
    uint64_t free = m_super.block_count - m_busy_count;
    if (free <= m_reserve)
        return Error { ErrorCode::NoSpace, "no space left on the file system" };
    uint64_t available = free - m_reserve;
    // Reserve generously for contiguity, but leave room for other writers:
    // beyond what is needed now, take at most a quarter of what is free.
    uint64_t wanted = preferred;
    if (wanted > available / 4)
        wanted = available / 4;
    if (wanted < needed)
        wanted = needed;
    if (wanted > available)
        wanted = available;
    if (wanted == 0)
        wanted = 1;
    uint64_t start = (near >= m_super.data_start && near < m_super.block_count && !busy(near)) ? near : find_free(m_data_hint);
    if (start >= m_super.block_count)
        return Error { ErrorCode::NoSpace, "no space left on the file system" };
    uint64_t length = 1;
    while (length < wanted && start + length < m_super.block_count && !busy(start + length))
        ++length;
    set_busy(start, length);
    m_data_hint = start + length;
    return ExtentRecord { start, length };
}

SpaceInfo FileSystem::space() const
{
    uint64_t data_blocks = m_super.block_count - m_super.data_start;
    uint64_t free = m_super.block_count - m_busy_count;
    free = free > m_reserve ? free - m_reserve : 0;
    return { data_blocks * kBlockSize, free * kBlockSize };
}

// ---- commit ----

ErrorOr<void> FileSystem::ensure_writable() const
{
    if (m_broken)
        return Error { ErrorCode::IoError, "file system had a write error; remount it" };
    return {};
}

int64_t FileSystem::now()
{
    return m_clock ? m_clock->now() : 0;
}

void FileSystem::abandon(Transaction& transaction)
{
    for (uint64_t block : transaction.allocated)
        clear_busy(block, 1);
    transaction.allocated.clear();
    transaction.freed.clear();
}

ErrorOr<void> FileSystem::write_bitmap_block(uint64_t area, uint64_t index, uint8_t* buffer)
{
    constexpr uint64_t words_per_block = kBitsPerBitmapBlock / 64;
    uint64_t number = m_super.bitmap_start[area] + index;
    BlockHeader header { kBitmapMagic, 0, number, 0, uint32_t(index), 0 };
    store_struct(buffer, header);
    __builtin_memcpy(buffer + sizeof(BlockHeader), m_committed + index * words_per_block, kPayloadSize);
    seal_block(buffer);
    return write_blocks(number, 1, buffer);
}

ErrorOr<void> FileSystem::finish(Transaction& transaction, uint64_t new_root, int64_t root_mtime)
{
    constexpr uint64_t bits_per_block = kBitsPerBitmapBlock;
    size_t stale_words = (m_super.bitmap_blocks + 63) / 64;
    auto* changed = static_cast<uint64_t*>(TRY(m_allocator.allocate(stale_words * 8, 64)));
    __builtin_memset(changed, 0, stale_words * 8);

    uint64_t used = m_super.used_blocks;
    auto set_committed = [&](uint64_t start, uint64_t count, bool value) {
        for (uint64_t block = start; block < start + count; ++block) {
            uint64_t bit = uint64_t(1) << (block % 64);
            bool was = m_committed[block / 64] & bit;
            if (was == value)
                continue;
            if (value) {
                m_committed[block / 64] |= bit;
                ++used;
            } else {
                m_committed[block / 64] &= ~bit;
                --used;
            }
            uint64_t index = block / bits_per_block;
            changed[index / 64] |= uint64_t(1) << (index % 64);
        }
    };
    auto apply_changes = [&](bool forward) {
        for (uint64_t block : transaction.allocated)
            set_committed(block, 1, forward);
        for (auto extent : transaction.adopted)
            set_committed(extent.start, extent.length, forward);
        for (auto extent : transaction.freed)
            set_committed(extent.start, extent.length, !forward);
    };
    apply_changes(true);

    Superblock super = m_super;
    super.generation += 1;
    super.root = new_root;
    super.root_mtime = root_mtime;
    super.used_blocks = used;
    uint64_t area = super.generation % 2;

    auto write_new_generation = [&]() -> ErrorOr<void> {
        auto buffer = TRY(BlockBuffer::create(m_allocator));
        for (uint64_t index = 0; index < m_super.bitmap_blocks; ++index) {
            uint64_t bit = uint64_t(1) << (index % 64);
            if ((changed[index / 64] | m_stale[area][index / 64]) & bit)
                TRY(write_bitmap_block(area, index, buffer.data()));
        }
        // Data, new metadata and bitmap reach the medium before the root
        // that makes them reachable.
        TRY(m_device.flush());
        return {};
    };
    auto result = write_new_generation();
    if (result.is_error()) {
        apply_changes(false);
        for (size_t word = 0; word < stale_words; ++word)
            m_stale[area][word] |= changed[word];
        m_allocator.free(changed);
        return result.error();
    }

    auto commit_root = [&]() -> ErrorOr<void> {
        auto buffer = TRY(BlockBuffer::create(m_allocator));
        __builtin_memset(buffer.data(), 0, kBlockSize);
        super.header = { kSuperblockMagic, 0, area, 0, 0, 0 };
        store_struct(buffer.data(), super);
        seal_block(buffer.data());
        auto written = write_blocks(area, 1, buffer.data());
        if (written.is_error()) {
            m_broken = true;
            return written.error();
        }
        auto flushed = m_device.flush();
        if (flushed.is_error()) {
            m_broken = true;
            return flushed.error();
        }
        return {};
    };
    auto committed = commit_root();
    if (committed.is_error()) {
        if (!m_broken) { // out of memory before anything was written
            apply_changes(false);
            for (size_t word = 0; word < stale_words; ++word)
                m_stale[area][word] |= changed[word];
        }
        m_allocator.free(changed);
        return committed.error();
    }

    m_super = super;
    for (size_t word = 0; word < stale_words; ++word) {
        m_stale[area][word] = 0;
        m_stale[1 - area][word] |= changed[word];
    }
    m_allocator.free(changed);
    discard_previous_generation_frees();
    for (auto extent : transaction.freed)
        release_or_defer(extent);
    transaction.allocated.clear();
    transaction.freed.clear();
    return {};
}

} // namespace aisos::fs
