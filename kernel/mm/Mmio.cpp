#include "kernel/mm/Mmio.h"

#include "kernel/mm/VirtualMemory.h"

namespace aisos::mmio {

ErrorOr<void*> map(uint64_t physical, size_t size)
{
    uint64_t virt = TRY(virtual_memory::map_in_mmio_window(physical, size, mm::PageFlags::Writable | mm::PageFlags::CacheDisable));
    return reinterpret_cast<void*>(virt);
}

} // namespace aisos::mmio
