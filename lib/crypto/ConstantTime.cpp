#include "lib/crypto/ConstantTime.h"

namespace aisos::crypto {

bool constant_time_equal(std::span<const uint8_t> a, std::span<const uint8_t> b)
{
    if (a.size() != b.size())
        return false;
    // Every byte is visited; the accumulated difference is read through a
    // volatile so the loop cannot be turned into an early-exit memcmp.
    volatile uint8_t difference = 0;
    for (size_t i = 0; i < a.size(); ++i)
        difference = difference | uint8_t(a[i] ^ b[i]);
    return difference == 0;
}

void secure_zero(void* data, size_t length)
{
    __builtin_memset(data, 0, length);
    // The empty asm with a memory clobber makes the stores observable.
    asm volatile("" : : "r"(data) : "memory");
}

} // namespace aisos::crypto
