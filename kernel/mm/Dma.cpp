#include "kernel/mm/Dma.h"

#include "kernel/mm/PhysicalMemory.h"

namespace aisos::dma {

ErrorOr<Buffer> allocate(size_t size, Addressing addressing, size_t alignment)
{
    if (size == 0)
        return Error::invalid("zero-sized DMA buffer");
    size_t pages = (size + 4095) / 4096;
    size_t alignment_pages = alignment <= 4096 ? 1 : (alignment + 4095) / 4096;
    uint64_t limit = addressing == Addressing::Below4GiB ? (1ull << 32) : physical_memory::no_limit;
    uint64_t physical = TRY(physical_memory::allocate(pages, alignment_pages, limit));
    void* virt = physical_memory::to_virtual(physical);
    __builtin_memset(virt, 0, pages * 4096);
    return Buffer { virt, physical, pages * 4096 };
}

void free(const Buffer& buffer)
{
    if (buffer.size == 0)
        return;
    physical_memory::free(buffer.bus_address, buffer.size / 4096);
}

} // namespace aisos::dma
