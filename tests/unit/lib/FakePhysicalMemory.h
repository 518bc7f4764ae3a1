#pragma once

// Host stand-in for a window of physical memory: physical addresses in
// [base, base + size) translate into a heap buffer, anything else to null.

#include "lib/mm/PhysicalMapper.h"

#include <cstdint>
#include <memory>

namespace aisos::test {

class FakePhysicalMemory {
public:
    FakePhysicalMemory(uint64_t base, uint64_t size)
        : m_base(base)
        , m_size(size)
        , m_bytes(new uint8_t[size])
    {
    }

    mm::PhysicalMapper mapper() { return { &translate, this }; }
    uint8_t* at(uint64_t physical) { return m_bytes.get() + (physical - m_base); }
    bool contains(uint64_t physical, uint64_t length) const { return physical >= m_base && physical - m_base <= m_size && length <= m_size - (physical - m_base); }

private:
    static void* translate(void* context, uint64_t physical)
    {
        auto* self = static_cast<FakePhysicalMemory*>(context);
        if (physical < self->m_base || physical - self->m_base >= self->m_size)
            return nullptr;
        return self->m_bytes.get() + (physical - self->m_base);
    }

    uint64_t m_base;
    uint64_t m_size;
    std::unique_ptr<uint8_t[]> m_bytes;
};

} // namespace aisos::test
