#pragma once

// Byte copies for code that cannot include <string.h> (the loader target has
// no C library). In the loader these compile to calls to the memcpy/memset
// defined in boot/CRuntime.cpp; on the host, to the C library's.

#include <stddef.h>
#include <stdint.h>

namespace aisos::boot {

inline void copy_bytes(void* destination, const void* source, uint64_t count)
{
    __builtin_memcpy(destination, source, count);
}

inline void fill_bytes(void* destination, uint8_t value, uint64_t count)
{
    __builtin_memset(destination, value, count);
}

} // namespace aisos::boot
