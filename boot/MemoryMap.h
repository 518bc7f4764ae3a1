#pragma once

// Turns the UEFI memory map into the kernel's MemoryRegion list: sorted by
// address, adjacent regions of the same kind merged, every UEFI type mapped
// to what the kernel may do with it after ExitBootServices. Portable and
// allocation-free, because it runs between the last GetMemoryMap and the
// jump, when no boot service may be called any more.

#include "boot/Efi.h"
#include "boot/Result.h"
#include "lib/boot/BootInfo.h"

#include <stdint.h>

namespace aisos::boot {

MemoryKind memory_kind_for(efi::MemoryType);

// `map` holds `map_size` bytes of descriptors, `descriptor_size` apart (the
// firmware's stride, which may exceed sizeof(efi::MemoryDescriptor)).
// Writes at most `capacity` regions to `regions` and their count to `count`.
Result<void> convert_memory_map(const uint8_t* map, uint64_t map_size, uint64_t descriptor_size,
    MemoryRegion* regions, uint32_t capacity, uint32_t* count);

// One past the highest physical address any descriptor mentions.
uint64_t highest_physical_address(const uint8_t* map, uint64_t map_size, uint64_t descriptor_size);

} // namespace aisos::boot
