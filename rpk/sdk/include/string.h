/* aiSOS module SDK: the <string.h> subset (src/string.c). */
#ifndef AISOS_STRING_H
#define AISOS_STRING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void* memcpy(void* __restrict destination, const void* __restrict source, size_t length);
void* memmove(void* destination, const void* source, size_t length);
void* memset(void* destination, int value, size_t length);
int memcmp(const void* a, const void* b, size_t length);
void* memchr(const void* haystack, int value, size_t length);
size_t strlen(const char* text);
size_t strnlen(const char* text, size_t limit);
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, size_t length);
char* strchr(const char* text, int character);
char* strrchr(const char* text, int character);
char* strstr(const char* haystack, const char* needle);
char* strcpy(char* __restrict destination, const char* __restrict source);
char* strncpy(char* __restrict destination, const char* __restrict source, size_t length);

#ifdef __cplusplus
}
#endif

#endif
