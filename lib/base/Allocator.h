#pragma once

// How portable code gets memory: an Allocator it is handed, never global
// new/malloc. The kernel passes its heap; host code and tests pass
// host/MallocAllocator (which can also inject failures).

#include "lib/base/ErrorOr.h"

#include <new>
#include <stddef.h>
#include <utility>

namespace aisos {

class Allocator {
public:
    virtual ErrorOr<void*> allocate(size_t size, size_t alignment = 16) = 0;
    virtual void free(void* pointer) = 0;

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

protected:
    ~Allocator() = default;
};

} // namespace aisos
