#pragma once

// nvme_cache: a write-back block cache between the file system and a disk.
// It is itself a BlockDevice with 4096-byte blocks (block n is device
// blocks n * r .. n * r + r - 1 of a disk with 4096 / r-byte blocks), so the
// file system runs over it unchanged, with one cache page per block.
//
// Policy:
// - Memory: at most budget_bytes / 4096 resident pages that are not pinned,
//   plus one staging buffer of (bypass_blocks + read_ahead_blocks) blocks for
//   batched device I/O, plus a small bookkeeping record per page. Pinned
//   pages are outside the budget (they are the mapping process's memory; the
//   kernel charges them to it) and bounded by pinned_limit_pages.
// - Eviction: least recently used first. A clean page is dropped; when the
//   least recently used page is dirty, every dirty page is written back
//   (sorted by block, contiguous runs in one device write) and then it is
//   dropped.
// - Writes go to the cache (write-back) and reach the device on flush(),
//   under memory pressure, or when a dirty page is pinned. flush() writes
//   every dirty page and only then calls the device's flush, so the
//   BlockDevice durability contract holds exactly: after flush() returns,
//   every write that completed before it is durable. Writing a dirty page
//   early is allowed by the contract (unflushed writes may be reordered).
// - Read-ahead: a read that starts where the previous read (or pin) ended is
//   sequential; its missing blocks are fetched together with up to
//   read_ahead_blocks following uncached blocks in one device read.
// - Bypass: a transfer of bypass_blocks or more blocks (256 KiB by default:
//   the file system's 1 MiB data writes, big aligned file reads) goes to the
//   device directly, so streaming a model in or out does not evict
//   everything. A bypassing read still returns cached (possibly dirty)
//   contents where the cache has them; a bypassing write replaces cached
//   copies of its blocks.
// - Pinning: pin(block) keeps a page resident and unchanged until unpin();
//   its physical address can be mapped into a process. A pinned page is
//   never dirty (pinning writes a dirty page back first). A write to a
//   pinned block detaches the pinned page from the block: the pin keeps the
//   old contents, the block gets a new page. So a mapping never sees later
//   writes, e.g. when the file system reuses a freed block.
// - Errors: a failed device read or write is returned to the caller; a page
//   whose write-back failed stays dirty (nothing acknowledged is dropped).
//   A read or write that fails may have been partially applied, as on a
//   disk. If memory for a page cannot be had, a small write goes straight to
//   the device and a read is served without caching.
//
// Not thread-safe: the kernel calls it only under the storage lock (the one
// lock around the file system), pin and unpin included.

#include "lib/base/Allocator.h"
#include "lib/base/ErrorOr.h"
#include "lib/block/BlockDevice.h"
#include "lib/block/PageProvider.h"

#include <stddef.h>
#include <stdint.h>

namespace aisos::block {

struct BlockCacheOptions {
    uint64_t budget_bytes { 64ull << 20 };
    uint32_t read_ahead_blocks { 32 }; // 128 KiB
    uint32_t bypass_blocks { 64 };     // 256 KiB
    uint64_t pinned_limit_pages { ~0ull };
};

struct BlockCacheStatistics {
    uint64_t hits { 0 };             // blocks served from the cache
    uint64_t misses { 0 };           // blocks read from the device on request
    uint64_t read_ahead { 0 };       // blocks read ahead of a sequential reader
    uint64_t evictions { 0 };        // pages dropped to stay within the budget
    uint64_t write_backs { 0 };      // dirty blocks written to the device
    uint64_t bypass_reads { 0 };     // blocks read around the cache
    uint64_t bypass_writes { 0 };    // blocks written around the cache
    uint64_t flushes { 0 };
    uint64_t discards { 0 };         // discard (TRIM) requests passed to the device
    uint64_t discarded_blocks { 0 }; // blocks in them
    uint64_t device_reads { 0 };     // read commands sent to the device
    uint64_t device_writes { 0 };    // write commands sent to the device
    uint64_t bytes_read { 0 };       // from the device
    uint64_t bytes_written { 0 };    // to the device
    uint64_t resident_pages { 0 };   // gauge: unpinned pages held (within the budget)
    uint64_t dirty_pages { 0 };      // gauge
    uint64_t pinned_pages { 0 };     // gauge: pages with at least one pin
    uint64_t budget_pages { 0 };
};

struct CachePage;

struct PinnedPage {
    const uint8_t* data; // kCachePageSize bytes
    uint64_t physical;
    CachePage* handle; // for unpin()
};

class BlockCache final : public BlockDevice {
public:
    static constexpr uint32_t kBlockSize = kCachePageSize;

    // The device's block size must be a power of two no larger than 4096.
    static ErrorOr<BlockCache*> try_create(BlockDevice&, PageProvider&, Allocator&, const BlockCacheOptions& = {});
    // Frees every page: flush() first to keep dirty data. Every pin must
    // have been released.
    static void destroy(BlockCache*);

    uint32_t block_size() const override { return kBlockSize; }
    uint64_t block_count() const override { return m_block_count; }
    ErrorOr<void> read(uint64_t first_block, std::span<uint8_t> buffer) override;
    ErrorOr<void> write(uint64_t first_block, std::span<const uint8_t> buffer) override;
    ErrorOr<void> flush() override;
    // Drops the blocks' cached copies (dirty ones too: their contents are no
    // longer needed; pinned ones stay with their mappings), then passes the
    // discard to the device.
    ErrorOr<void> discard(uint64_t first_block, uint64_t count) override;

    // Keeps the block's current contents in memory until unpin(). Several
    // pins of one block share the page.
    ErrorOr<PinnedPage> pin(uint64_t block);
    void unpin(CachePage*);

    // Writes every dirty page to the device without flushing it.
    ErrorOr<void> write_back();

    BlockCacheStatistics statistics() const;
    bool is_cached(uint64_t block) const { return find(block) != nullptr; }
    bool is_dirty(uint64_t block) const;

    BlockCache(const BlockCache&) = delete;
    BlockCache& operator=(const BlockCache&) = delete;

private:
    BlockCache(BlockDevice&, PageProvider&, Allocator&, const BlockCacheOptions&);
    ~BlockCache();

    ErrorOr<void> check_range(uint64_t first, size_t bytes) const;
    ErrorOr<void> device_read(uint64_t block, uint64_t count, uint8_t* buffer);
    ErrorOr<void> device_write(uint64_t block, uint64_t count, const uint8_t* buffer);

    CachePage* find(uint64_t block) const;
    void attach(CachePage*);
    void detach(CachePage*);
    void lru_push_front(CachePage*);
    void lru_remove(CachePage*);
    void touch(CachePage*);
    void set_dirty(CachePage*, bool);
    void release(CachePage*); // frees page and record

    ErrorOr<CachePage*> new_page(uint64_t block);
    ErrorOr<void> make_room(uint64_t needed);
    void drop_cached(uint64_t block); // a bypassing write replaced it
    ErrorOr<void> load(uint64_t block, uint64_t count, bool sequential, uint8_t* out);

    BlockDevice& m_device;
    PageProvider& m_pages;
    Allocator& m_allocator;
    BlockCacheOptions m_options;
    uint32_t m_ratio { 1 }; // device blocks per cache block
    uint64_t m_block_count { 0 };
    uint64_t m_capacity { 0 }; // pages
    CachePage** m_buckets { nullptr };
    uint64_t m_bucket_mask { 0 };
    CachePage* m_lru_head { nullptr }; // most recently used
    CachePage* m_lru_tail { nullptr };
    uint8_t* m_staging { nullptr };
    uint32_t m_staging_blocks { 0 };
    uint64_t m_sequential_next { ~0ull }; // where the previous read ended
    BlockCacheStatistics m_stats;
};

} // namespace aisos::block
