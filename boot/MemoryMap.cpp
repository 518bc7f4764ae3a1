#include "boot/MemoryMap.h"

#include "boot/Bytes.h"

namespace aisos::boot {

namespace {

constexpr uint64_t efi_page_size = 4096;
// Physical addresses beyond 2^52 do not exist on x86_64.
constexpr uint64_t max_physical_pages = 1ull << (52 - 12);

uint64_t region_end(const MemoryRegion& region) { return region.base + region.pages * efi_page_size; }

} // namespace

MemoryKind memory_kind_for(efi::MemoryType type)
{
    switch (type) {
    // The loader's own image is dead once the kernel runs: nothing the kernel
    // receives (BootInfo, stack, page tables, GDT, files) lives in it.
    case efi::MemoryType::LoaderCode:
    case efi::MemoryType::BootServicesCode:
    case efi::MemoryType::BootServicesData:
    case efi::MemoryType::Conventional:
        return MemoryKind::Usable;
    case efi::MemoryType::LoaderData:
        return MemoryKind::LoaderData;
    case efi::MemoryType::RuntimeServicesCode:
    case efi::MemoryType::RuntimeServicesData:
        return MemoryKind::RuntimeServices;
    case efi::MemoryType::Unusable:
        return MemoryKind::Bad;
    case efi::MemoryType::AcpiReclaim:
        return MemoryKind::AcpiReclaimable;
    case efi::MemoryType::AcpiNvs:
        return MemoryKind::AcpiNvs;
    case efi::MemoryType::Persistent:
        return MemoryKind::Persistent;
    // Unaccepted memory needs a confidential-computing accept step first.
    case efi::MemoryType::Reserved:
    case efi::MemoryType::MemoryMappedIo:
    case efi::MemoryType::MemoryMappedIoPortSpace:
    case efi::MemoryType::PalCode:
    case efi::MemoryType::Unaccepted:
        return MemoryKind::Reserved;
    }
    return MemoryKind::Reserved;
}

Result<void> convert_memory_map(const uint8_t* map, uint64_t map_size, uint64_t descriptor_size,
    MemoryRegion* regions, uint32_t capacity, uint32_t* count)
{
    *count = 0;
    if (descriptor_size < sizeof(efi::MemoryDescriptor) || (descriptor_size % 8) != 0)
        return Error::invalid("memory map descriptor size is invalid");
    if (map == nullptr || map_size % descriptor_size != 0)
        return Error::invalid("memory map size is not a multiple of the descriptor size");

    uint32_t used = 0;
    for (uint64_t offset = 0; offset < map_size; offset += descriptor_size) {
        efi::MemoryDescriptor descriptor;
        copy_bytes(&descriptor, map + offset, sizeof(descriptor));
        if (descriptor.number_of_pages == 0)
            continue;
        if (descriptor.physical_start % efi_page_size != 0)
            return Error::corrupt("memory map entry is not page aligned");
        if (descriptor.number_of_pages > max_physical_pages || descriptor.physical_start / efi_page_size > max_physical_pages - descriptor.number_of_pages)
            return Error::corrupt("memory map entry extends beyond the physical address space");

        MemoryRegion region {
            .base = descriptor.physical_start,
            .pages = descriptor.number_of_pages,
            .kind = memory_kind_for(static_cast<efi::MemoryType>(descriptor.type)),
            .reserved = 0,
        };

        // Insertion sort by base: the firmware's map is not guaranteed sorted,
        // and merging needs neighbours to be adjacent in the array.
        uint32_t position = used;
        while (position > 0 && regions[position - 1].base > region.base)
            --position;
        if (position > 0 && region_end(regions[position - 1]) > region.base)
            return Error::corrupt("memory map entries overlap");
        if (position < used && region_end(region) > regions[position].base)
            return Error::corrupt("memory map entries overlap");

        bool joins_previous = position > 0 && regions[position - 1].kind == region.kind && region_end(regions[position - 1]) == region.base;
        bool joins_next = position < used && regions[position].kind == region.kind && region_end(region) == regions[position].base;
        if (joins_previous && joins_next) {
            regions[position - 1].pages += region.pages + regions[position].pages;
            for (uint32_t i = position; i + 1 < used; ++i)
                regions[i] = regions[i + 1];
            --used;
        } else if (joins_previous) {
            regions[position - 1].pages += region.pages;
        } else if (joins_next) {
            regions[position].base = region.base;
            regions[position].pages += region.pages;
        } else {
            if (used == capacity)
                return Error { ErrorCode::NoSpace, "memory map has more regions than BootInfo can hold" };
            for (uint32_t i = used; i > position; --i)
                regions[i] = regions[i - 1];
            regions[position] = region;
            ++used;
        }
    }
    *count = used;
    return {};
}

uint64_t highest_physical_address(const uint8_t* map, uint64_t map_size, uint64_t descriptor_size)
{
    uint64_t highest = 0;
    if (map == nullptr || descriptor_size < sizeof(efi::MemoryDescriptor))
        return 0;
    for (uint64_t offset = 0; offset + descriptor_size <= map_size; offset += descriptor_size) {
        efi::MemoryDescriptor descriptor;
        copy_bytes(&descriptor, map + offset, sizeof(descriptor));
        if (descriptor.number_of_pages > max_physical_pages || descriptor.physical_start / efi_page_size > max_physical_pages - descriptor.number_of_pages)
            continue;
        uint64_t end = descriptor.physical_start + descriptor.number_of_pages * efi_page_size;
        if (end > highest)
            highest = end;
    }
    return highest;
}

} // namespace aisos::boot
