/* strtol and friends, atoi, abort, exit, assert's failure path. */
#include <aisos/sys.h>
#include <assert.h>
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

/* Parses like C's strtoull: whitespace, an optional sign, a base prefix
 * (0x for 16, 0 for 8 when base is 0), digits. *overflow is set when the
 * magnitude does not fit 64 bits; *end points after the last digit used or
 * at text when there were none. */
static uint64_t parse(const char* text, char** end, int base, int* negative, int* overflow)
{
    const char* p = text;
    *negative = 0;
    *overflow = 0;
    while (isspace((unsigned char)*p))
        ++p;
    if (*p == '+' || *p == '-') {
        *negative = *p == '-';
        ++p;
    }
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2])) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }
    if (base < 2 || base > 36) {
        if (end)
            *end = (char*)text;
        return 0;
    }
    uint64_t value = 0;
    const char* digits_start = p;
    for (;; ++p) {
        int digit;
        if (isdigit((unsigned char)*p))
            digit = *p - '0';
        else if (isalpha((unsigned char)*p))
            digit = tolower((unsigned char)*p) - 'a' + 10;
        else
            break;
        if (digit >= base)
            break;
        if (value > (UINT64_MAX - (uint64_t)digit) / (uint64_t)base)
            *overflow = 1;
        else
            value = value * (uint64_t)base + (uint64_t)digit;
    }
    if (end)
        *end = (char*)(p == digits_start ? text : p);
    return value;
}

long long strtoll(const char* __restrict text, char** __restrict end, int base)
{
    int negative, overflow;
    uint64_t magnitude = parse(text, end, base, &negative, &overflow);
    if (negative) {
        if (overflow || magnitude > (uint64_t)INT64_MAX + 1)
            return INT64_MIN;
        return (long long)(0 - magnitude);
    }
    if (overflow || magnitude > (uint64_t)INT64_MAX)
        return INT64_MAX;
    return (long long)magnitude;
}

unsigned long long strtoull(const char* __restrict text, char** __restrict end, int base)
{
    int negative, overflow;
    uint64_t magnitude = parse(text, end, base, &negative, &overflow);
    if (overflow)
        return UINT64_MAX;
    return negative ? 0 - magnitude : magnitude;
}

long strtol(const char* __restrict text, char** __restrict end, int base) { return strtoll(text, end, base); }
unsigned long strtoul(const char* __restrict text, char** __restrict end, int base)
{
    return strtoull(text, end, base);
}

int atoi(const char* text)
{
    long value = strtol(text, NULL, 10);
    if (value > INT_MAX)
        return INT_MAX;
    if (value < INT_MIN)
        return INT_MIN;
    return (int)value;
}

long atol(const char* text) { return strtol(text, NULL, 10); }

void abort(void)
{
    aisos_log("abort");
    aisos_sys_exit(134);
}

void exit(int code) { aisos_sys_exit(code); }

void __aisos_assert_failed(const char* expression, const char* file, int line)
{
    aisos_logf("assertion failed: %s at %s:%d", expression, file, line);
    aisos_sys_exit(134);
}
