#pragma once

// A disk as the file system sees it: fixed-size blocks, synchronous reads
// and writes, and a flush that makes every completed write durable. The
// kernel implements it over an NVMe namespace (through nvme_cache); host
// tests implement it over memory, with fault injection.
//
// Durability contract: a write that completed may still sit in a volatile
// cache until flush() returns; after flush() returns, every write that
// completed before the flush was called survives power loss. Writes that
// were not flushed may be lost, torn at block granularity, or reordered.

#include "lib/base/ErrorOr.h"

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::block {

class BlockDevice {
public:
    virtual uint32_t block_size() const = 0; // bytes, a power of two >= 512
    virtual uint64_t block_count() const = 0;

    // buffer.size() must be a multiple of block_size(); the range must lie
    // inside the device.
    virtual ErrorOr<void> read(uint64_t first_block, std::span<uint8_t> buffer) = 0;
    virtual ErrorOr<void> write(uint64_t first_block, std::span<const uint8_t> buffer) = 0;
    virtual ErrorOr<void> flush() = 0;

    // The blocks' contents are no longer needed (TRIM, NVMe Dataset
    // Management "deallocate"): the device may release them, and until they
    // are written again reads may return zeroes, the old data or anything
    // else. A hint: doing nothing is a valid implementation and the default.
    // Like an unflushed write it may be lost in a power cut, so callers
    // discard only blocks that no durable state refers to.
    virtual ErrorOr<void> discard(uint64_t first_block, uint64_t count)
    {
        (void)first_block;
        (void)count;
        return {};
    }

protected:
    ~BlockDevice() = default;
};

} // namespace aisos::block
