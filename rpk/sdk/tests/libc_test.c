/* Host test of the SDK's portable C: snprintf against the host libc,
 * strtol and friends, the string functions, and malloc (over mmap instead of
 * AISOS_SYS_MEMORY_MAP). The SDK sources are compiled with their public
 * names prefixed by sdk_ (see the sdk-test target in sdk.mk) so they sit
 * beside glibc's. Run: make -f rpk/sdk/sdk.mk sdk-test */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int sdk_snprintf(char*, size_t, const char*, ...);
long sdk_strtol(const char*, char**, int);
unsigned long sdk_strtoul(const char*, char**, int);
int sdk_atoi(const char*);
void* sdk_memmove(void*, const void*, size_t);
void* sdk_memcpy(void*, const void*, size_t);
void* sdk_memset(void*, int, size_t);
int sdk_memcmp(const void*, const void*, size_t);
size_t sdk_strlen(const char*);
int sdk_strcmp(const char*, const char*);
int sdk_strncmp(const char*, const char*, size_t);
char* sdk_strchr(const char*, int);
char* sdk_strrchr(const char*, int);
char* sdk_strstr(const char*, const char*);
void* sdk_malloc(size_t);
void* sdk_calloc(size_t, size_t);
void* sdk_realloc(void*, size_t);
void* sdk_aligned_alloc(size_t, size_t);
void sdk_free(void*);

/* What the SDK sources call into: the kernel, replaced by the host. */
void* aisos_map(size_t length, int64_t* error)
{
    void* p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        if (error)
            *error = -3;
        return NULL;
    }
    return p;
}
int64_t aisos_unmap(void* address, size_t length) { return munmap(address, length) ? -1 : 0; }
int64_t aisos_log(const char* text) { return fprintf(stderr, "log: %s\n", text) < 0 ? -1 : 0; }
int64_t aisos_logf(const char* format, ...) { return 0; }
/* Single-threaded here: the mutex never sees contention, so no futex call. */
void aisos_mutex_lock(uint32_t* state) { *state = 1; }
void aisos_mutex_unlock(uint32_t* state) { *state = 0; }

static int s_failures;

#define EXPECT(condition)                                                  \
    do {                                                                   \
        if (!(condition)) {                                                \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #condition);  \
            ++s_failures;                                                  \
        }                                                                  \
    } while (0)

#define SAME_AS_LIBC(...)                                                                       \
    do {                                                                                        \
        char ours[256], theirs[256];                                                            \
        int a = sdk_snprintf(ours, sizeof ours, __VA_ARGS__);                                  \
        int b = snprintf(theirs, sizeof theirs, __VA_ARGS__);                                  \
        if (a != b || strcmp(ours, theirs)) {                                                   \
            printf("FAIL snprintf(%s): [%s] %d, libc [%s] %d\n", #__VA_ARGS__, ours, a, theirs, b); \
            ++s_failures;                                                                       \
        }                                                                                       \
    } while (0)

static void test_snprintf(void)
{
    SAME_AS_LIBC("%d %i %u", 42, -42, 3000000000u);
    SAME_AS_LIBC("%5d|%-5d|%05d|%+d|% d|%+05d", 42, 42, 42, 42, 42, -42);
    SAME_AS_LIBC("%x %X %#x %#X %o %#o %#o", 255, 255, 255, 0, 8, 8, 0);
    SAME_AS_LIBC("%ld %lld %zu %lu %ji %td", LONG_MIN, LLONG_MAX, (size_t)123, ULONG_MAX, (intmax_t)-5, (ptrdiff_t)7);
    SAME_AS_LIBC("%.3d|%8.3d|%-8.3d|%08.3d|%.0d|%.0x|", 7, 7, -7, 7, 0, 0);
    SAME_AS_LIBC("%s|%10s|%-10s|%.2s|%*s|%-*s|%.*s|%*d", "abc", "abc", "abc", "abc", 6, "ab", 6, "ab", 1, "xyz", -4, 9);
    SAME_AS_LIBC("%c|%3c|%-3c|%%|", 'a', 'b', 'c');
    SAME_AS_LIBC("%p|%20p|%-20p|", (void*)0x1234, (void*)0xffffffffffff, (void*)0x10);
    SAME_AS_LIBC("%hhd %hd %hhu %hu %hhx", 300, 70000, 300, 70000, 0x1ff);
    SAME_AS_LIBC("%lx %llX %#llx", 0xdeadbeefcafeUL, 0xABCDEFULL, 0x100000001ULL);
    SAME_AS_LIBC("%08x|%-08x|%8.4x|", 0xab, 0xab, 0xab);

    char small[5];
    EXPECT(sdk_snprintf(small, sizeof small, "%s", "hello world") == 11 && !strcmp(small, "hell"));
    EXPECT(sdk_snprintf(NULL, 0, "%d", 12345) == 5);
    char one[1] = {'x'};
    EXPECT(sdk_snprintf(one, 1, "abc") == 3 && one[0] == 0);
    char buffer[32];
    EXPECT(sdk_snprintf(buffer, sizeof buffer, "%p", (void*)0) == 3 && !strcmp(buffer, "0x0"));
    EXPECT(sdk_snprintf(buffer, sizeof buffer, "%s", (const char*)0) == 6 && !strcmp(buffer, "(null)"));
    /* Unknown conversions (floating point) show up as written. */
    EXPECT(sdk_snprintf(buffer, sizeof buffer, "a%qb") == 4 && !strcmp(buffer, "a%qb"));
    EXPECT(sdk_snprintf(buffer, sizeof buffer, "end%") == 4 && !strcmp(buffer, "end%"));
}

static void test_strtol(void)
{
    static const struct {
        const char* text;
        int base;
    } cases[] = {
        {"123", 10}, {"-123", 10}, {"  +77x", 10}, {"0x1f", 0}, {"0X1F", 16}, {"077", 0}, {"0", 0},
        {"99999999999999999999", 10}, {"-99999999999999999999", 10}, {"abc", 10}, {"0x", 16}, {"-0", 0},
        {"zz", 36}, {"9223372036854775807", 10}, {"-9223372036854775808", 10}, {"101", 2}, {"", 10},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        char *ours_end, *theirs_end;
        long ours = sdk_strtol(cases[i].text, &ours_end, cases[i].base);
        long theirs = strtol(cases[i].text, &theirs_end, cases[i].base);
        if (ours != theirs || ours_end != theirs_end) {
            printf("FAIL strtol(\"%s\", %d): %ld +%td, libc %ld +%td\n", cases[i].text, cases[i].base, ours,
                   ours_end - cases[i].text, theirs, theirs_end - cases[i].text);
            ++s_failures;
        }
    }
    EXPECT(sdk_strtoul("18446744073709551615", NULL, 10) == ULONG_MAX);
    EXPECT(sdk_strtoul("18446744073709551616", NULL, 10) == ULONG_MAX);
    EXPECT(sdk_strtoul("-1", NULL, 10) == strtoul("-1", NULL, 10));
    EXPECT(sdk_atoi("  -42abc") == -42);
    EXPECT(sdk_atoi("99999999999") == INT_MAX);
}

static void test_strings(void)
{
    unsigned char ours[100], theirs[100];
    for (int i = 0; i < 100; ++i)
        ours[i] = theirs[i] = (unsigned char)i;
    sdk_memmove(ours + 5, ours, 60);
    memmove(theirs + 5, theirs, 60);
    EXPECT(!memcmp(ours, theirs, 100));
    sdk_memmove(ours, ours + 13, 70);
    memmove(theirs, theirs + 13, 70);
    EXPECT(!memcmp(ours, theirs, 100));
    sdk_memmove(ours + 1, ours, 99);
    memmove(theirs + 1, theirs, 99);
    EXPECT(!memcmp(ours, theirs, 100));
    EXPECT(sdk_memcpy(ours, "abcdef", 6) == ours && !memcmp(ours, "abcdef", 6));
    EXPECT(sdk_memset(ours, 0x5a, 33) == ours && ours[32] == 0x5a && ours[33] != 0x5a);
    EXPECT(sdk_memcmp("abc", "abd", 3) < 0 && sdk_memcmp("abd", "abc", 3) > 0 && !sdk_memcmp("abc", "abd", 2));
    EXPECT(sdk_memcmp("\xff", "\x01", 1) > 0);
    const char* h = "hello world";
    EXPECT(sdk_strlen(h) == 11 && sdk_strlen("") == 0);
    EXPECT(sdk_strcmp("a", "b") < 0 && sdk_strcmp("b", "a") > 0 && !sdk_strcmp(h, "hello world"));
    EXPECT(sdk_strcmp("ab", "abc") < 0 && sdk_strcmp("\xe9", "a") > 0);
    EXPECT(!sdk_strncmp("abc", "abd", 2) && sdk_strncmp("abc", "abd", 3) < 0 && !sdk_strncmp("a", "a", 10));
    EXPECT(sdk_strchr(h, 'o') == h + 4 && sdk_strchr(h, 0) == h + 11 && !sdk_strchr(h, 'z'));
    EXPECT(sdk_strrchr(h, 'o') == h + 7 && sdk_strrchr(h, 0) == h + 11 && !sdk_strrchr(h, 'z'));
    EXPECT(sdk_strstr(h, "o w") == h + 4 && !sdk_strstr(h, "xyz") && sdk_strstr(h, "") == h && !sdk_strstr("ab", "abc"));
}

static void test_malloc(void)
{
    /* Every size class and the large path: aligned, writable, distinct. */
    static const size_t sizes[] = {0, 1, 15, 16, 17, 100, 1000, 4096, 65536 - 16, 65536, 100000, 3u << 20};
    void* blocks[sizeof sizes / sizeof sizes[0]];
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
        blocks[i] = sdk_malloc(sizes[i]);
        EXPECT(blocks[i] != NULL && ((uintptr_t)blocks[i] & 15) == 0);
        memset(blocks[i], (int)i + 1, sizes[i]);
    }
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
        const unsigned char* p = blocks[i];
        for (size_t j = 0; j < sizes[i]; ++j) {
            if (p[j] != (unsigned char)(i + 1)) {
                printf("FAIL malloc: block %u of %zu bytes overwritten at %zu\n", i, sizes[i], j);
                ++s_failures;
                break;
            }
        }
        sdk_free(blocks[i]);
    }
    /* A freed small block is reused for the same size. */
    void* a = sdk_malloc(40);
    sdk_free(a);
    EXPECT(sdk_malloc(40) == a);

    /* realloc keeps the contents, growing across classes and into a mapping. */
    char* p = sdk_malloc(10);
    memcpy(p, "0123456789", 10);
    p = sdk_realloc(p, 5000);
    EXPECT(p && !memcmp(p, "0123456789", 10));
    p = sdk_realloc(p, 1u << 20);
    EXPECT(p && !memcmp(p, "0123456789", 10));
    p[(1u << 20) - 1] = 1;
    EXPECT(sdk_realloc(p, 0) == NULL);
    EXPECT(sdk_realloc(NULL, 8) != NULL);

    for (size_t alignment = 16; alignment <= 4096; alignment *= 2) {
        void* q = sdk_aligned_alloc(alignment, 100);
        EXPECT(q && ((uintptr_t)q & (alignment - 1)) == 0);
        memset(q, 0xee, 100);
        sdk_free(q);
    }
    void* big_aligned = sdk_aligned_alloc(4096, 200000);
    EXPECT(big_aligned && ((uintptr_t)big_aligned & 4095) == 0);
    sdk_free(big_aligned);
    EXPECT(sdk_aligned_alloc(24, 10) == NULL);
    EXPECT(sdk_aligned_alloc(8192, 10) == NULL);

    unsigned char* zeroed = sdk_calloc(1000, 3);
    EXPECT(zeroed != NULL);
    int all_zero = 1;
    for (int i = 0; i < 3000; ++i)
        all_zero &= zeroed[i] == 0;
    EXPECT(all_zero);
    EXPECT(sdk_calloc(SIZE_MAX / 2, 3) == NULL);
    EXPECT(sdk_malloc(SIZE_MAX - 8) == NULL);
    sdk_free(NULL);
}

int main(void)
{
    test_snprintf();
    test_strtol();
    test_strings();
    test_malloc();
    printf("sdk libc: %s (%d failures)\n", s_failures ? "FAILED" : "ok", s_failures);
    return s_failures != 0;
}
