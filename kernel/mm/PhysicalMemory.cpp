#include "kernel/mm/PhysicalMemory.h"

#include "kernel/console/Log.h"
#include "kernel/lib/Panic.h"
#include "kernel/lib/Spinlock.h"
#include "lib/mm/FrameAllocator.h"

namespace aisos::physical_memory {

namespace {

mm::FrameAllocator s_allocator;
Spinlock s_lock;
uint64_t s_total_bytes = 0;

void* translate(void*, uint64_t physical) { return to_virtual(physical); }

bool is_ram(MemoryKind kind)
{
    switch (kind) {
    case MemoryKind::Usable:
    case MemoryKind::AcpiReclaimable:
    case MemoryKind::AcpiNvs:
    case MemoryKind::LoaderData:
    case MemoryKind::RuntimeServices:
    case MemoryKind::Persistent:
    case MemoryKind::Bad:
        return true;
    default:
        return false;
    }
}

} // namespace

ErrorOr<void> initialize(const BootInfo& boot_info)
{
    std::span<const MemoryRegion> regions(boot_info.regions, boot_info.region_count);
    for (auto& region : regions) {
        if (is_ram(region.kind))
            s_total_bytes += region.pages * 4096;
    }
    // Low memory stays out of the pool: the AP trampoline lives at 0x8000,
    // and firmware/legacy structures sit below 1 MiB.
    mm::PhysicalRange reserved[] = { { 0, 1024 * 1024 } };
    TRY(s_allocator.initialize(regions, mm::PhysicalMapper { translate, nullptr }, reserved));
    return {};
}

ErrorOr<uint64_t> allocate(size_t pages, size_t alignment_pages, uint64_t physical_limit)
{
    SpinlockGuard guard(s_lock);
    return s_allocator.alloc(pages, alignment_pages, physical_limit);
}

void free(uint64_t physical, size_t pages)
{
    SpinlockGuard guard(s_lock);
    auto result = s_allocator.free(physical, pages);
    if (result.is_error())
        panic("freeing physical pages that are not allocated");
}

uint64_t total_bytes() { return s_total_bytes; }

uint64_t free_bytes()
{
    SpinlockGuard guard(s_lock);
    return s_allocator.free_pages() * 4096;
}

} // namespace aisos::physical_memory
