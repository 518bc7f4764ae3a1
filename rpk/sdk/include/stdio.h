/* aiSOS module SDK: the <stdio.h> subset (src/stdio.c). There are no FILE
 * streams: output goes to the kernel log one line at a time.
 *
 * snprintf/vsnprintf conversions: %d %i %u %x %X %o %s %c %p %%, length
 * modifiers hh h l ll z j t, flags '-' '0' '+' ' ' '#', width and precision
 * (also as '*'). No floating point. They return the length the whole
 * output would have had, like C99. */
#ifndef AISOS_STDIO_H
#define AISOS_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EOF (-1)

int snprintf(char* __restrict buffer, size_t capacity, const char* __restrict format, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char* __restrict buffer, size_t capacity, const char* __restrict format, va_list arguments)
    __attribute__((format(printf, 3, 0)));
/* One line on the kernel log (the newline puts adds is implied). */
int puts(const char* text);

#ifdef __cplusplus
}
#endif

#endif
