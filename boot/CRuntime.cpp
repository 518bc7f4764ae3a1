// The four functions the compiler may emit calls to even in freestanding
// code (struct copies, zero-initialisation). The loader links with
// /nodefaultlib, so nothing else provides them.

#include <stddef.h>
#include <stdint.h>

extern "C" {

void* memcpy(void* destination, const void* source, size_t count)
{
    auto* to = static_cast<uint8_t*>(destination);
    auto* from = static_cast<const uint8_t*>(source);
    for (size_t i = 0; i < count; ++i)
        to[i] = from[i];
    return destination;
}

void* memmove(void* destination, const void* source, size_t count)
{
    auto* to = static_cast<uint8_t*>(destination);
    auto* from = static_cast<const uint8_t*>(source);
    if (to < from) {
        for (size_t i = 0; i < count; ++i)
            to[i] = from[i];
    } else {
        for (size_t i = count; i > 0; --i)
            to[i - 1] = from[i - 1];
    }
    return destination;
}

void* memset(void* destination, int value, size_t count)
{
    auto* to = static_cast<uint8_t*>(destination);
    for (size_t i = 0; i < count; ++i)
        to[i] = static_cast<uint8_t>(value);
    return destination;
}

int memcmp(const void* a, const void* b, size_t count)
{
    auto* left = static_cast<const uint8_t*>(a);
    auto* right = static_cast<const uint8_t*>(b);
    for (size_t i = 0; i < count; ++i) {
        if (left[i] != right[i])
            return left[i] < right[i] ? -1 : 1;
    }
    return 0;
}

}
