#pragma once

// DMA buffers: physically contiguous, pinned (never moved or swapped), with
// the address a device must use. There is no IOMMU in use, so the bus
// address is the physical address.

#include "lib/base/ErrorOr.h"

#include <stddef.h>
#include <stdint.h>

namespace aisos::dma {

struct Buffer {
    void* virt { nullptr };
    uint64_t bus_address { 0 };
    size_t size { 0 };
};

enum class Addressing { Bits64, Below4GiB };

// Zeroed, page-aligned, size rounded up to whole pages.
ErrorOr<Buffer> allocate(size_t size, Addressing = Addressing::Bits64, size_t alignment = 4096);
void free(const Buffer&);

} // namespace aisos::dma
