// The few runtime functions a freestanding C++ kernel needs: the memory
// primitives the compiler may call, and the C++ ABI hooks for pure virtual
// calls and sized delete (the kernel never uses global new/delete: memory
// comes from kernel::heap explicitly, so delete must never be reached).

#include "kernel/lib/Panic.h"

#include <stddef.h>
#include <stdint.h>

extern "C" {

void* memcpy(void* destination, const void* source, size_t count)
{
    void* result = destination;
    asm volatile("rep movsb" : "+D"(destination), "+S"(source), "+c"(count) : : "memory");
    return result;
}

void* memmove(void* destination, const void* source, size_t count)
{
    auto* d = static_cast<unsigned char*>(destination);
    auto* s = static_cast<const unsigned char*>(source);
    if (d == s || count == 0)
        return destination;
    if (d < s || d >= s + count)
        return memcpy(destination, source, count);
    // Overlapping with destination above source: copy backwards.
    for (size_t i = count; i > 0; --i)
        d[i - 1] = s[i - 1];
    return destination;
}

void* memset(void* destination, int value, size_t count)
{
    void* result = destination;
    asm volatile("rep stosb" : "+D"(destination), "+c"(count) : "a"(value) : "memory");
    return result;
}

int memcmp(const void* a, const void* b, size_t count)
{
    auto* x = static_cast<const unsigned char*>(a);
    auto* y = static_cast<const unsigned char*>(b);
    for (size_t i = 0; i < count; ++i) {
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

void* memchr(const void* memory, int value, size_t count)
{
    auto* bytes = static_cast<const unsigned char*>(memory);
    for (size_t i = 0; i < count; ++i) {
        if (bytes[i] == static_cast<unsigned char>(value))
            return const_cast<unsigned char*>(bytes + i);
    }
    return nullptr;
}

[[noreturn]] void abort() { aisos::panic("abort() called"); }

size_t strlen(const char* s)
{
    size_t n = 0;
    while (s[n])
        ++n;
    return n;
}

void __cxa_pure_virtual() { aisos::panic("pure virtual function called"); }

int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }
void* __dso_handle = nullptr;

[[noreturn]] void aisos_must_failed(const char* expression, const char* reason, const char* file, int line)
{
    aisos::panic_with_location(expression, reason, file, line);
}
}

// Where a freestanding libstdc++ header would throw (string_view::substr out
// of range, ...), it calls these; in the kernel that is a bug: panic.
namespace std {
[[noreturn]] void __throw_out_of_range_fmt(const char*, ...) { aisos::panic("std: out of range"); }
[[noreturn]] void __throw_out_of_range(const char*) { aisos::panic("std: out of range"); }
[[noreturn]] void __throw_length_error(const char*) { aisos::panic("std: length error"); }
[[noreturn]] void __throw_logic_error(const char*) { aisos::panic("std: logic error"); }
[[noreturn]] void __throw_bad_optional_access() { aisos::panic("std: bad optional access"); }
}

void operator delete(void*) noexcept { aisos::panic("global operator delete called"); }
void operator delete(void*, size_t) noexcept { aisos::panic("global operator delete called"); }

// 128-bit unsigned division, which the compiler calls for unsigned __int128
// (used by time conversions). Restoring shift-subtract: slow but rare.
extern "C" unsigned __int128 __udivti3(unsigned __int128 dividend, unsigned __int128 divisor)
{
    if (divisor == 0)
        aisos::panic("128-bit division by zero");
    unsigned __int128 quotient = 0, remainder = 0;
    for (int bit = 127; bit >= 0; --bit) {
        remainder = (remainder << 1) | ((dividend >> bit) & 1);
        if (remainder >= divisor) {
            remainder -= divisor;
            quotient |= static_cast<unsigned __int128>(1) << bit;
        }
    }
    return quotient;
}

extern "C" unsigned __int128 __umodti3(unsigned __int128 dividend, unsigned __int128 divisor)
{
    return dividend - __udivti3(dividend, divisor) * divisor;
}
