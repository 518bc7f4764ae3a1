#pragma once

// The kernel heap as an aisos::Allocator, for portable libraries.

#include "kernel/mm/Heap.h"
#include "lib/base/Allocator.h"

namespace aisos {

class KernelAllocator final : public Allocator {
public:
    ErrorOr<void*> allocate(size_t size, size_t alignment = 16) override { return heap::allocate(size, alignment); }
    void free(void* pointer) override { heap::free(pointer); }
    static KernelAllocator& the();
};

} // namespace aisos
