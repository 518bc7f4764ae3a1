#pragma once

// Physical page frames for the whole kernel: lib/mm's FrameAllocator over
// the loader's memory map, behind a lock, plus the direct map that makes
// every physical page reachable at direct_map_base + physical.

#include "lib/base/ErrorOr.h"
#include "lib/boot/BootInfo.h"

#include <stddef.h>
#include <stdint.h>

namespace aisos::physical_memory {

inline constexpr uint64_t no_limit = ~0ull;

ErrorOr<void> initialize(const BootInfo&);

ErrorOr<uint64_t> allocate(size_t pages, size_t alignment_pages = 1, uint64_t physical_limit = no_limit);
void free(uint64_t physical, size_t pages);

uint64_t total_bytes(); // all RAM the firmware reported, whatever its use
uint64_t free_bytes();

inline void* to_virtual(uint64_t physical) { return reinterpret_cast<void*>(direct_map_base + physical); }
inline uint64_t to_physical(const void* direct_mapped)
{
    return reinterpret_cast<uint64_t>(direct_mapped) - direct_map_base;
}

} // namespace aisos::physical_memory
