/* aiSOS module SDK: the <stdlib.h> subset (src/malloc.c, src/stdlib.c).
 *
 * malloc is thread-safe: size classes of 16 B .. 64 KiB carved from 1 MiB
 * regions of AISOS_SYS_MEMORY_MAP; larger blocks are mapped on their own and
 * unmapped by free. Memory from the classes is reused, never returned to
 * the kernel. Blocks are 16-byte aligned (aligned_alloc for more). */
#ifndef AISOS_STDLIB_H
#define AISOS_STDLIB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

void* malloc(size_t size);
void* calloc(size_t count, size_t size);
void* realloc(void* pointer, size_t size);
void* aligned_alloc(size_t alignment, size_t size);
void free(void* pointer);

/* Logs "abort" and ends the module (every thread) with code 134. */
__attribute__((noreturn)) void abort(void);
/* Ends the module (every thread); atexit handlers do not exist. */
__attribute__((noreturn)) void exit(int code);

long strtol(const char* __restrict text, char** __restrict end, int base);
unsigned long strtoul(const char* __restrict text, char** __restrict end, int base);
long long strtoll(const char* __restrict text, char** __restrict end, int base);
unsigned long long strtoull(const char* __restrict text, char** __restrict end, int base);
int atoi(const char* text);
long atol(const char* text);

static inline int abs(int value) { return value < 0 ? -value : value; }
static inline long labs(long value) { return value < 0 ? -value : value; }

#ifdef __cplusplus
}
#endif

#endif
