#pragma once

// Host Allocator over malloc, with optional failure injection for tests:
// fail_after(n) makes the (n+1)-th and later allocations fail.

#include "lib/base/Allocator.h"

#include <cstdlib>

namespace aisos {

class MallocAllocator final : public Allocator {
public:
    ErrorOr<void*> allocate(size_t size, size_t alignment = 16) override
    {
        if (m_remaining == 0)
            return Error::no_memory();
        if (m_remaining > 0)
            --m_remaining;
        if (alignment < sizeof(void*))
            alignment = sizeof(void*);
        void* pointer = nullptr;
        if (posix_memalign(&pointer, alignment, size ? size : 1) != 0)
            return Error::no_memory();
        ++m_live;
        return pointer;
    }
    void free(void* pointer) override
    {
        if (!pointer)
            return;
        --m_live;
        std::free(pointer);
    }
    void fail_after(long allocations) { m_remaining = allocations; }
    void never_fail() { m_remaining = -1; }
    long live_allocations() const { return m_live; }

private:
    long m_remaining { -1 };
    long m_live { 0 };
};

} // namespace aisos
