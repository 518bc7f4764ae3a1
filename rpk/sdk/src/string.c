/* The <string.h> subset. memcpy/memmove/memset use the string instructions:
 * the compiler emits calls to them for struct copies and loops, so they must
 * not be written as loops the optimiser would turn back into calls. */
#include <stdint.h>
#include <string.h>

void* memcpy(void* __restrict destination, const void* __restrict source, size_t length)
{
    void* result = destination;
    __asm__ volatile("rep movsb" : "+D"(destination), "+S"(source), "+c"(length) : : "memory");
    return result;
}

void* memmove(void* destination, const void* source, size_t length)
{
    unsigned char* d = destination;
    const unsigned char* s = source;
    if (d <= s || d >= s + length)
        return memcpy(destination, source, length);
    /* Overlapping with the destination above: copy backwards, 8 bytes at a
     * time while possible. Not "std; rep movsb": code that runs while the
     * direction flag is set (an interrupt entry that forgets cld) would copy
     * the wrong way. -ffreestanding keeps the optimiser from turning it into a memmove call. */
    while (length >= 8) {
        length -= 8;
        uint64_t word;
        __builtin_memcpy(&word, s + length, 8);
        __builtin_memcpy(d + length, &word, 8);
    }
    while (length) {
        --length;
        d[length] = s[length];
    }
    return destination;
}

void* memset(void* destination, int value, size_t length)
{
    void* result = destination;
    __asm__ volatile("rep stosb" : "+D"(destination), "+c"(length) : "a"(value) : "memory");
    return result;
}

int memcmp(const void* a, const void* b, size_t length)
{
    const unsigned char* x = a;
    const unsigned char* y = b;
    for (size_t i = 0; i < length; ++i) {
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

void* memchr(const void* haystack, int value, size_t length)
{
    const unsigned char* p = haystack;
    for (size_t i = 0; i < length; ++i) {
        if (p[i] == (unsigned char)value)
            return (void*)(p + i);
    }
    return NULL;
}

size_t strlen(const char* text)
{
    size_t length = 0;
    while (text[length])
        ++length;
    return length;
}

size_t strnlen(const char* text, size_t limit)
{
    size_t length = 0;
    while (length < limit && text[length])
        ++length;
    return length;
}

int strcmp(const char* a, const char* b)
{
    while (*a && *a == *b) {
        ++a;
        ++b;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char* a, const char* b, size_t length)
{
    for (size_t i = 0; i < length; ++i) {
        if (a[i] != b[i] || !a[i])
            return (unsigned char)a[i] - (unsigned char)b[i];
    }
    return 0;
}

char* strchr(const char* text, int character)
{
    for (;; ++text) {
        if (*text == (char)character)
            return (char*)text;
        if (!*text)
            return NULL;
    }
}

char* strrchr(const char* text, int character)
{
    const char* found = NULL;
    for (;; ++text) {
        if (*text == (char)character)
            found = text;
        if (!*text)
            return (char*)found;
    }
}

char* strstr(const char* haystack, const char* needle)
{
    size_t needle_length = strlen(needle);
    if (!needle_length)
        return (char*)haystack;
    for (; *haystack; ++haystack) {
        if (*haystack == *needle && !strncmp(haystack, needle, needle_length))
            return (char*)haystack;
    }
    return NULL;
}

char* strcpy(char* __restrict destination, const char* __restrict source)
{
    size_t i = 0;
    for (; source[i]; ++i)
        destination[i] = source[i];
    destination[i] = 0;
    return destination;
}

char* strncpy(char* __restrict destination, const char* __restrict source, size_t length)
{
    size_t i = 0;
    for (; i < length && source[i]; ++i)
        destination[i] = source[i];
    for (; i < length; ++i)
        destination[i] = 0;
    return destination;
}
