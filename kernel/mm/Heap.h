#pragma once

// The kernel heap: lib/mm's Heap over frames from physical_memory, reached
// through the direct map, behind a lock. Allocation failure is an Error the
// caller handles; nothing in the kernel uses a throwing or aborting new.

#include "lib/base/ErrorOr.h"
#include "lib/mm/Heap.h"

#include <new>
#include <stddef.h>
#include <utility>

namespace aisos::heap {

ErrorOr<void> initialize();
ErrorOr<void*> allocate(size_t size, size_t alignment = 16);
void free(void* pointer);
mm::HeapStatistics statistics();

// Constructs a T on the heap; destroy() runs its destructor and frees it.
template<typename T, typename... Args>
ErrorOr<T*> create(Args&&... args)
{
    void* memory = TRY(allocate(sizeof(T), alignof(T) < 16 ? 16 : alignof(T)));
    return new (memory) T(std::forward<Args>(args)...);
}

template<typename T>
void destroy(T* object)
{
    if (!object)
        return;
    object->~T();
    free(object);
}

} // namespace aisos::heap
