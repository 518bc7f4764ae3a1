// nvme_cache: see BlockCache.h for the policy.

#include "lib/block/BlockCache.h"

#include <new>

namespace aisos::block {

// One cached block. Attached pages are in the hash table under their block;
// a pinned page detached by a write to its block is in no table and lives
// until its last unpin. Unpinned attached pages are in the LRU list, which
// is also how dirty pages are found (pinned pages are never dirty).
struct CachePage {
    uint64_t block { 0 };
    CachePageMemory memory {};
    CachePage* hash_next { nullptr };
    CachePage* lru_prev { nullptr };
    CachePage* lru_next { nullptr };
    uint32_t pins { 0 };
    bool dirty { false };
    bool attached { false };
};

namespace {

uint64_t hash_block(uint64_t block)
{
    block ^= block >> 33;
    block *= 0xff51afd7ed558ccdull;
    block ^= block >> 33;
    return block;
}

// Heapsort by block: no allocation, no <algorithm> in the kernel.
void sort_by_block(CachePage** pages, size_t count)
{
    auto sift_down = [&](size_t root, size_t end) {
        while (2 * root + 1 < end) {
            size_t child = 2 * root + 1;
            if (child + 1 < end && pages[child + 1]->block > pages[child]->block)
                ++child;
            if (pages[root]->block >= pages[child]->block)
                return;
            CachePage* swap = pages[root];
            pages[root] = pages[child];
            pages[child] = swap;
            root = child;
        }
    };
    for (size_t start = count / 2; start-- > 0;)
        sift_down(start, count);
    for (size_t end = count; end-- > 1;) {
        CachePage* swap = pages[0];
        pages[0] = pages[end];
        pages[end] = swap;
        sift_down(0, end);
    }
}

} // namespace

ErrorOr<BlockCache*> BlockCache::try_create(BlockDevice& device, PageProvider& pages, Allocator& allocator, const BlockCacheOptions& options)
{
    uint32_t device_block = device.block_size();
    if (device_block == 0 || (device_block & (device_block - 1)) != 0 || device_block > kBlockSize)
        return Error::unsupported("block cache: device block size must be a power of two up to 4096");
    if (options.budget_bytes / kBlockSize < 16)
        return Error::invalid("block cache: budget below 16 pages");
    if (options.bypass_blocks < 2)
        return Error::invalid("block cache: bypass threshold below 2 blocks");
    void* memory = TRY(allocator.allocate(sizeof(BlockCache), alignof(BlockCache)));
    auto* cache = new (memory) BlockCache(device, pages, allocator, options);
    cache->m_ratio = kBlockSize / device_block;
    cache->m_block_count = device.block_count() / cache->m_ratio;
    cache->m_capacity = options.budget_bytes / kBlockSize;
    cache->m_stats.budget_pages = cache->m_capacity;
    // A quarter of the budget at most is read ahead at once, so a read-ahead
    // never pushes out the pages it just brought in.
    if (cache->m_options.read_ahead_blocks > cache->m_capacity / 4)
        cache->m_options.read_ahead_blocks = uint32_t(cache->m_capacity / 4);
    uint64_t buckets = 1;
    while (buckets < cache->m_capacity)
        buckets <<= 1;
    cache->m_bucket_mask = buckets - 1;
    cache->m_staging_blocks = cache->m_options.bypass_blocks + cache->m_options.read_ahead_blocks;
    auto bucket_memory = allocator.allocate(buckets * sizeof(CachePage*), alignof(CachePage*));
    auto staging = bucket_memory.is_error() ? ErrorOr<void*>(Error::no_memory()) : allocator.allocate(size_t(cache->m_staging_blocks) * kBlockSize, kBlockSize);
    if (bucket_memory.is_error() || staging.is_error()) {
        if (!bucket_memory.is_error())
            allocator.free(bucket_memory.value());
        destroy(cache);
        return Error::no_memory();
    }
    cache->m_buckets = static_cast<CachePage**>(bucket_memory.value());
    for (uint64_t i = 0; i < buckets; ++i)
        cache->m_buckets[i] = nullptr;
    cache->m_staging = static_cast<uint8_t*>(staging.value());
    return cache;
}

BlockCache::BlockCache(BlockDevice& device, PageProvider& pages, Allocator& allocator, const BlockCacheOptions& options)
    : m_device(device)
    , m_pages(pages)
    , m_allocator(allocator)
    , m_options(options)
{
}

BlockCache::~BlockCache()
{
    while (m_lru_head) {
        CachePage* page = m_lru_head;
        lru_remove(page);
        if (page->attached)
            detach(page);
        release(page);
    }
    m_allocator.free(m_buckets);
    m_allocator.free(m_staging);
}

void BlockCache::destroy(BlockCache* cache)
{
    if (!cache)
        return;
    Allocator& allocator = cache->m_allocator;
    cache->~BlockCache();
    allocator.free(cache);
}

ErrorOr<void> BlockCache::check_range(uint64_t first, size_t bytes) const
{
    if (bytes % kBlockSize != 0)
        return Error::invalid("block cache: transfer is not a multiple of the block size");
    uint64_t count = bytes / kBlockSize;
    if (first > m_block_count || count > m_block_count - first)
        return Error { ErrorCode::OutOfRange, "block cache: access outside the device" };
    return {};
}

ErrorOr<void> BlockCache::device_read(uint64_t block, uint64_t count, uint8_t* buffer)
{
    ++m_stats.device_reads;
    TRY(m_device.read(block * m_ratio, { buffer, size_t(count * kBlockSize) }));
    m_stats.bytes_read += count * kBlockSize;
    return {};
}

ErrorOr<void> BlockCache::device_write(uint64_t block, uint64_t count, const uint8_t* buffer)
{
    ++m_stats.device_writes;
    TRY(m_device.write(block * m_ratio, { buffer, size_t(count * kBlockSize) }));
    m_stats.bytes_written += count * kBlockSize;
    return {};
}

CachePage* BlockCache::find(uint64_t block) const
{
    for (CachePage* page = m_buckets[hash_block(block) & m_bucket_mask]; page; page = page->hash_next) {
        if (page->block == block)
            return page;
    }
    return nullptr;
}

bool BlockCache::is_dirty(uint64_t block) const
{
    CachePage* page = find(block);
    return page && page->dirty;
}

void BlockCache::attach(CachePage* page)
{
    CachePage*& bucket = m_buckets[hash_block(page->block) & m_bucket_mask];
    page->hash_next = bucket;
    bucket = page;
    page->attached = true;
}

void BlockCache::detach(CachePage* page)
{
    CachePage** link = &m_buckets[hash_block(page->block) & m_bucket_mask];
    while (*link != page)
        link = &(*link)->hash_next;
    *link = page->hash_next;
    page->hash_next = nullptr;
    page->attached = false;
}

void BlockCache::lru_push_front(CachePage* page)
{
    page->lru_prev = nullptr;
    page->lru_next = m_lru_head;
    if (m_lru_head)
        m_lru_head->lru_prev = page;
    m_lru_head = page;
    if (!m_lru_tail)
        m_lru_tail = page;
    ++m_stats.resident_pages;
}

void BlockCache::lru_remove(CachePage* page)
{
    if (page->lru_prev)
        page->lru_prev->lru_next = page->lru_next;
    else
        m_lru_head = page->lru_next;
    if (page->lru_next)
        page->lru_next->lru_prev = page->lru_prev;
    else
        m_lru_tail = page->lru_prev;
    page->lru_prev = page->lru_next = nullptr;
    --m_stats.resident_pages;
}

void BlockCache::touch(CachePage* page)
{
    if (page->pins == 0 && m_lru_head != page) {
        lru_remove(page);
        lru_push_front(page);
    }
}

void BlockCache::set_dirty(CachePage* page, bool dirty)
{
    if (page->dirty == dirty)
        return;
    page->dirty = dirty;
    if (dirty)
        ++m_stats.dirty_pages;
    else
        --m_stats.dirty_pages;
}

void BlockCache::release(CachePage* page)
{
    set_dirty(page, false);
    m_pages.free_page(page->memory);
    m_allocator.destroy(page);
}

// Evicts least recently used pages until `needed` more fit in the budget,
// writing dirty pages back first when the least recently used one is dirty.
ErrorOr<void> BlockCache::make_room(uint64_t needed)
{
    while (m_lru_tail && m_stats.resident_pages + needed > m_capacity) {
        CachePage* victim = m_lru_tail;
        if (victim->dirty)
            TRY(write_back());
        lru_remove(victim);
        detach(victim);
        release(victim);
        ++m_stats.evictions;
    }
    return {};
}

// A fresh, unattached page for block, within the budget.
ErrorOr<CachePage*> BlockCache::new_page(uint64_t block)
{
    TRY(make_room(1));
    CachePage* page = TRY(m_allocator.create<CachePage>());
    auto memory = m_pages.allocate_page();
    if (memory.is_error()) {
        m_allocator.destroy(page);
        return memory.error();
    }
    page->block = block;
    page->memory = memory.value();
    return page;
}

ErrorOr<void> BlockCache::write_back()
{
    if (m_stats.dirty_pages == 0)
        return {};
    size_t count = size_t(m_stats.dirty_pages);
    auto list = m_allocator.allocate(count * sizeof(CachePage*), alignof(CachePage*));
    if (list.is_error()) {
        // No memory to sort: one write per page, in LRU order.
        for (CachePage* page = m_lru_head; page; page = page->lru_next) {
            if (!page->dirty)
                continue;
            TRY(device_write(page->block, 1, page->memory.data));
            set_dirty(page, false);
            ++m_stats.write_backs;
        }
        return {};
    }
    auto** pages = static_cast<CachePage**>(list.value());
    size_t found = 0;
    for (CachePage* page = m_lru_head; page && found < count; page = page->lru_next) {
        if (page->dirty)
            pages[found++] = page;
    }
    sort_by_block(pages, found);
    ErrorOr<void> result {};
    for (size_t i = 0; i < found && !result.is_error();) {
        // A run of consecutive blocks, in one device write.
        size_t run = 1;
        while (i + run < found && run < m_staging_blocks && pages[i + run]->block == pages[i]->block + run)
            ++run;
        const uint8_t* source = pages[i]->memory.data;
        if (run > 1) {
            for (size_t k = 0; k < run; ++k)
                __builtin_memcpy(m_staging + k * kBlockSize, pages[i + k]->memory.data, kBlockSize);
            source = m_staging;
        }
        result = device_write(pages[i]->block, run, source);
        if (result.is_error())
            break;
        for (size_t k = 0; k < run; ++k)
            set_dirty(pages[i + k], false);
        m_stats.write_backs += run;
        i += run;
    }
    m_allocator.free(pages);
    return result;
}

ErrorOr<void> BlockCache::flush()
{
    // Every dirty page reaches the device before the device flush is issued:
    // writes acknowledged before this call are then durable when it returns.
    TRY(write_back());
    TRY(m_device.flush());
    ++m_stats.flushes;
    return {};
}

// Reads count blocks from block (none of them cached) plus, for a
// sequential reader, the uncached blocks after them up to the read-ahead
// window, in one device read; copies the requested ones to out (if any) and
// caches them all. Failing to cache (no memory, a failed write-back while
// making room) does not fail the read: the data is delivered anyway.
ErrorOr<void> BlockCache::load(uint64_t block, uint64_t count, bool sequential, uint8_t* out)
{
    while (count > 0) {
        uint64_t take = count < m_staging_blocks ? count : m_staging_blocks;
        uint64_t ahead = 0;
        if (take == count && sequential) {
            uint64_t limit = m_staging_blocks - take;
            if (limit > m_options.read_ahead_blocks)
                limit = m_options.read_ahead_blocks;
            while (ahead < limit && block + take + ahead < m_block_count && !find(block + take + ahead))
                ++ahead;
        }
        // Room first: making room may write dirty pages back through the
        // staging buffer, which is about to hold what is read.
        uint64_t wanted = take + ahead < m_capacity ? take + ahead : m_capacity;
        bool cache_it = !make_room(wanted).is_error();
        if (!cache_it)
            ahead = 0;
        TRY(device_read(block, take + ahead, m_staging));
        m_stats.misses += take;
        if (out)
            __builtin_memcpy(out, m_staging, size_t(take * kBlockSize));
        for (uint64_t i = 0; cache_it && i < take + ahead; ++i) {
            auto page = new_page(block + i);
            if (page.is_error())
                break;
            __builtin_memcpy(page.value()->memory.data, m_staging + i * kBlockSize, kBlockSize);
            attach(page.value());
            lru_push_front(page.value());
            if (i >= take)
                ++m_stats.read_ahead;
        }
        block += take;
        count -= take;
        if (out)
            out += take * kBlockSize;
    }
    return {};
}

ErrorOr<void> BlockCache::read(uint64_t first, std::span<uint8_t> buffer)
{
    TRY(check_range(first, buffer.size()));
    uint64_t count = buffer.size() / kBlockSize;
    bool sequential = first == m_sequential_next;
    m_sequential_next = first + count;
    if (count >= m_options.bypass_blocks) {
        TRY(device_read(first, count, buffer.data()));
        m_stats.bypass_reads += count;
        // The cache is authoritative (dirty pages are newer than the disk).
        for (uint64_t i = 0; i < count; ++i) {
            if (CachePage* page = find(first + i))
                __builtin_memcpy(buffer.data() + i * kBlockSize, page->memory.data, kBlockSize);
        }
        return {};
    }
    for (uint64_t i = 0; i < count;) {
        if (CachePage* page = find(first + i)) {
            __builtin_memcpy(buffer.data() + i * kBlockSize, page->memory.data, kBlockSize);
            touch(page);
            ++m_stats.hits;
            ++i;
            continue;
        }
        uint64_t run = 1;
        while (i + run < count && !find(first + i + run))
            ++run;
        // Read ahead only past the end of the request.
        TRY(load(first + i, run, sequential && i + run == count, buffer.data() + i * kBlockSize));
        i += run;
    }
    return {};
}

// A bypassing write replaced block on the device: the cached copy is stale.
void BlockCache::drop_cached(uint64_t block)
{
    CachePage* page = find(block);
    if (!page)
        return;
    detach(page);
    if (page->pins > 0)
        return; // the pin keeps the old contents
    lru_remove(page);
    release(page);
}

ErrorOr<void> BlockCache::discard(uint64_t first, uint64_t count)
{
    if (first > m_block_count || count > m_block_count - first)
        return Error { ErrorCode::OutOfRange, "block cache: discard outside the device" };
    if (count == 0)
        return {};
    if (count <= m_bucket_mask + 1) {
        for (uint64_t i = 0; i < count; ++i)
            drop_cached(first + i);
    } else {
        // A range larger than the hash table (deleting a big file): visit
        // what is cached instead of every block of the range.
        for (uint64_t bucket = 0; bucket <= m_bucket_mask; ++bucket) {
            for (CachePage* page = m_buckets[bucket]; page;) {
                CachePage* next = page->hash_next;
                if (page->block >= first && page->block - first < count)
                    drop_cached(page->block);
                page = next;
            }
        }
    }
    ++m_stats.discards;
    m_stats.discarded_blocks += count;
    return m_device.discard(first * m_ratio, count * m_ratio);
}

ErrorOr<void> BlockCache::write(uint64_t first, std::span<const uint8_t> buffer)
{
    TRY(check_range(first, buffer.size()));
    uint64_t count = buffer.size() / kBlockSize;
    if (count >= m_options.bypass_blocks) {
        auto written = device_write(first, count, buffer.data());
        // Even a failed write may have reached some blocks: drop the cached
        // copies either way (their contents are now undefined, as on a disk).
        for (uint64_t i = 0; i < count; ++i)
            drop_cached(first + i);
        if (written.is_error())
            return written.error();
        m_stats.bypass_writes += count;
        return {};
    }
    for (uint64_t i = 0; i < count; ++i) {
        const uint8_t* source = buffer.data() + i * kBlockSize;
        CachePage* page = find(first + i);
        if (page && page->pins > 0) {
            // The pinned page keeps the old contents for its mapping.
            detach(page);
            page = nullptr;
        }
        if (!page) {
            auto fresh = new_page(first + i);
            if (fresh.is_error()) {
                if (fresh.error().code() != ErrorCode::OutOfMemory)
                    return fresh.error();
                // No memory for a page: write through.
                TRY(device_write(first + i, 1, source));
                continue;
            }
            page = fresh.value();
            attach(page);
            lru_push_front(page);
        } else {
            touch(page);
        }
        __builtin_memcpy(page->memory.data, source, kBlockSize);
        set_dirty(page, true);
    }
    return {};
}

ErrorOr<PinnedPage> BlockCache::pin(uint64_t block)
{
    if (block >= m_block_count)
        return Error { ErrorCode::OutOfRange, "block cache: pin outside the device" };
    CachePage* page = find(block);
    bool sequential = block == m_sequential_next;
    m_sequential_next = block + 1;
    if (!page) {
        TRY(load(block, 1, sequential, nullptr));
        page = find(block);
        if (!page)
            return Error::no_memory();
    } else {
        ++m_stats.hits;
    }
    if (page->pins == 0) {
        if (m_stats.pinned_pages >= m_options.pinned_limit_pages)
            return Error { ErrorCode::OutOfMemory, "block cache: too many pinned pages" };
        if (page->dirty) {
            // Pinned pages are never dirty, so unpin never needs I/O.
            TRY(device_write(page->block, 1, page->memory.data));
            set_dirty(page, false);
            ++m_stats.write_backs;
        }
        lru_remove(page);
        ++m_stats.pinned_pages;
    }
    ++page->pins;
    return PinnedPage { page->memory.data, page->memory.physical, page };
}

void BlockCache::unpin(CachePage* page)
{
    if (!page || page->pins == 0)
        return;
    if (--page->pins > 0)
        return;
    --m_stats.pinned_pages;
    if (!page->attached) {
        release(page);
        return;
    }
    if (m_stats.resident_pages >= m_capacity) {
        // Over the budget: drop the least recently used page if that needs
        // no I/O, else this one (it is clean and still on disk).
        CachePage* victim = m_lru_tail;
        if (victim && !victim->dirty) {
            lru_remove(victim);
            detach(victim);
            release(victim);
        } else {
            detach(page);
            release(page);
            ++m_stats.evictions;
            return;
        }
        ++m_stats.evictions;
    }
    lru_push_front(page);
}

BlockCacheStatistics BlockCache::statistics() const { return m_stats; }

} // namespace aisos::block
