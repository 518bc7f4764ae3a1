#include "kernel/mm/Heap.h"

#include "kernel/lib/Panic.h"
#include "kernel/lib/Spinlock.h"
#include "kernel/mm/PhysicalMemory.h"

namespace aisos::heap {

namespace {

class FramePages final : public mm::PageProvider {
public:
    ErrorOr<void*> allocate_pages(size_t count) override
    {
        uint64_t physical = TRY(physical_memory::allocate(count));
        return physical_memory::to_virtual(physical);
    }
    void free_pages(void* pages, size_t count) override { physical_memory::free(physical_memory::to_physical(pages), count); }
};

FramePages s_pages;
mm::Heap s_heap(s_pages);
Spinlock s_lock;

} // namespace

ErrorOr<void> initialize()
{
    // Prove the heap works before anything depends on it.
    void* probe = TRY(allocate(64));
    free(probe);
    return {};
}

ErrorOr<void*> allocate(size_t size, size_t alignment)
{
    SpinlockGuard guard(s_lock);
    return s_heap.allocate(size, alignment);
}

void free(void* pointer)
{
    SpinlockGuard guard(s_lock);
    if (s_heap.free(pointer).is_error())
        panic("kernel heap: free of a pointer that is not a live allocation");
}

mm::HeapStatistics statistics()
{
    SpinlockGuard guard(s_lock);
    return s_heap.statistics();
}

} // namespace aisos::heap

#include "kernel/mm/KernelAllocator.h"

namespace aisos {

KernelAllocator& KernelAllocator::the()
{
    static KernelAllocator s_allocator;
    return s_allocator;
}

} // namespace aisos
