/* bad_syscalls: every call of ABI 1 (and numbers past the last) with hostile
 * arguments: kernel addresses, NULL, non-canonical and unmapped addresses,
 * huge lengths, buffers that run off the end of a mapping, misaligned
 * futexes, bad thread entries and stacks, unmaps of ranges never mapped,
 * paths with "..", requests that do not exist. Each must come back as a
 * negative error; the kernel must neither crash nor kill this module. The
 * calls that end the module or the thread (EXIT, THREAD_EXIT) take any code
 * and have no hostile form, so they are not made.
 *
 * GET /bad_syscalls answers {"calls": N, "unexpected": M, "first_unexpected": "..."}
 * after making the checks that need a live request id. */
#include <aisos/sys.h>
#include <aisos/thread.h>
#include <stdio.h>
#include <string.h>

#define KERNEL_HALF 0xffff800000000000ull
#define KERNEL_IMAGE 0xffffffff80000000ull
#define NON_CANONICAL 0x0000800000000000ull
#define TOP_OF_ADDRESSES 0xfffffffffffff000ull
#define HUGE_LENGTH (~0ull)
#define HALF_SPACE (1ull << 47)
#define PAGE 4096u

enum expectation {
    EXPECT_ERROR,          /* any negative result */
    EXPECT_ERROR_NO_WAIT,  /* negative, and not a wait that timed out or saw a changed value */
    EXPECT_ENOSYS,         /* exactly -AISOS_ENOSYS */
    EXPECT_SUCCESS,        /* >= 0: garbage in registers a call does not use is ignored */
};

static int64_t s_calls;
static int64_t s_unexpected;
static char s_first_unexpected[192];

static void check(const char* description, enum expectation expect, uint64_t number, uint64_t a1, uint64_t a2,
                  uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6)
{
    int64_t result = aisos_syscall6(number, a1, a2, a3, a4, a5, a6);
    ++s_calls;
    int ok;
    switch (expect) {
    case EXPECT_ERROR:
        ok = result < 0;
        break;
    case EXPECT_ERROR_NO_WAIT:
        ok = result < 0 && result != -AISOS_ETIMEDOUT && result != -AISOS_EAGAIN;
        break;
    case EXPECT_ENOSYS:
        ok = result == -AISOS_ENOSYS;
        break;
    default:
        ok = result >= 0;
        break;
    }
    if (ok)
        return;
    aisos_logf("bad_syscalls: unexpected: %s -> %lld", description, (long long)result);
    if (s_unexpected++ == 0)
        snprintf(s_first_unexpected, sizeof(s_first_unexpected), "%s -> %lld (%s)", description, (long long)result,
                 result < 0 ? aisos_error_name(result) : "success");
}

#define CHECK(description, expect, number, ...) check(description, expect, number, __VA_ARGS__)
#define PAD6(a, b, c, d, e, f, ...) a, b, c, d, e, f
/* CALL(description, expect, number, args...) with missing arguments as 0. */
#define CALL(description, expect, number, ...) CHECK(description, expect, number, PAD6(__VA_ARGS__, 0, 0, 0, 0, 0, 0))

static uint32_t s_futex_word __attribute__((aligned(8)));
static char s_page[PAGE] __attribute__((aligned(PAGE)));

void bad_syscalls_exit_thread(void* argument); /* exit_thread.S */
_Static_assert(AISOS_SYS_THREAD_EXIT == 5, "exit_thread.S hard-codes the call number");
static int64_t quick_thread(void* argument) { return 7; }

/* Addresses used below. */
static uint64_t s_hole;       /* 64 KiB that were mapped and unmapped again */
static uint64_t s_valid;      /* one mapped page */
static uint64_t s_off_end;    /* 16 bytes before the end of s_valid */
static uint64_t s_pair;       /* 8 KiB mapped together */

static const char PERMITTED_FILE[] = "/data/bad_syscalls/file";

#define ADDRESSES(X)                                            \
    X("NULL", 0)                                                \
    X("page zero + 8", 8)                                       \
    X("kernel half start", KERNEL_HALF)                         \
    X("kernel image", KERNEL_IMAGE)                             \
    X("non-canonical", NON_CANONICAL)                           \
    X("top of the address space", TOP_OF_ADDRESSES)             \
    X("unmapped (a freed mapping)", s_hole)

static void setup(void)
{
    int64_t error = 0;
    void* hole = aisos_map(64 * 1024, &error);
    if (hole) {
        s_hole = (uint64_t)(uintptr_t)hole;
        /* Counted: if this unmap fails, the "unmapped" cases below are not. */
        CALL("memory_unmap of a fresh 64 KiB mapping", EXPECT_SUCCESS, AISOS_SYS_MEMORY_UNMAP, s_hole, 64 * 1024);
    } else {
        s_hole = NON_CANONICAL - 16 * PAGE; /* top of user space: nothing maps it */
        aisos_logf("bad_syscalls: memory_map for the hole failed: %s", aisos_error_name(error));
    }
    void* valid = aisos_map(PAGE, &error);
    s_valid = valid ? (uint64_t)(uintptr_t)valid : (uint64_t)(uintptr_t)s_page;
    s_off_end = s_valid + PAGE - 16;
    void* pair = aisos_map(2 * PAGE, &error);
    s_pair = (uint64_t)(uintptr_t)pair;
    /* A file this module may read, so pointer checks are not hidden behind
     * a missing file or a permission error. */
    aisos_file_write(PERMITTED_FILE, "0123456789abcdef", 16);
}

static void pointer_cases(void)
{
    const uint64_t path = (uint64_t)(uintptr_t)PERMITTED_FILE;
    const uint64_t path_length = sizeof(PERMITTED_FILE) - 1;
    const uint64_t buffer = (uint64_t)(uintptr_t)s_page;
    /* Always set (true or false), so a buffer check is not hidden behind -ENOENT. */
    const uint64_t config_key = (uint64_t)(uintptr_t)"anonymous_inference";
    const uint64_t config_key_length = 19;
#define POINTER_CASES(name, address)                                                                               \
    CALL("log text " name, EXPECT_ERROR, AISOS_SYS_LOG, address, 16);                                              \
    CALL("futex_wait address " name, EXPECT_ERROR_NO_WAIT, AISOS_SYS_FUTEX_WAIT, address, 0, 1000000);             \
    CALL("futex_wake address " name, EXPECT_ERROR, AISOS_SYS_FUTEX_WAKE, address, 1);                              \
    CALL("memory_unmap " name, EXPECT_ERROR, AISOS_SYS_MEMORY_UNMAP, address, PAGE);                               \
    CALL("file_map path " name, EXPECT_ERROR, AISOS_SYS_FILE_MAP, address, path_length, buffer);                   \
    CALL("file_map size_out " name, EXPECT_ERROR, AISOS_SYS_FILE_MAP, path, path_length, address);                 \
    CALL("file_read path " name, EXPECT_ERROR, AISOS_SYS_FILE_READ, address, path_length, 0, buffer, 16);          \
    CALL("file_read buffer " name, EXPECT_ERROR, AISOS_SYS_FILE_READ, path, path_length, 0, address, 16);          \
    CALL("file_write path " name, EXPECT_ERROR, AISOS_SYS_FILE_WRITE, address, path_length, buffer, 16);           \
    CALL("file_write data " name, EXPECT_ERROR, AISOS_SYS_FILE_WRITE, path, path_length, address, 16);             \
    CALL("file_list path " name, EXPECT_ERROR, AISOS_SYS_FILE_LIST, address, 18, buffer, PAGE);                    \
    CALL("file_list buffer " name, EXPECT_ERROR, AISOS_SYS_FILE_LIST, path, 18, address, PAGE);                    \
    CALL("file_stat path " name, EXPECT_ERROR, AISOS_SYS_FILE_STAT, address, path_length, buffer);                 \
    CALL("file_stat out " name, EXPECT_ERROR, AISOS_SYS_FILE_STAT, path, path_length, address);                    \
    CALL("request_receive out " name, EXPECT_ERROR, AISOS_SYS_REQUEST_RECEIVE, address, buffer, PAGE, 1000000);    \
    CALL("response_start content_type " name, EXPECT_ERROR, AISOS_SYS_RESPONSE_START, 0xdead, 200, address, 10);   \
    CALL("response_write data " name, EXPECT_ERROR, AISOS_SYS_RESPONSE_WRITE, 0xdead, address, 16);                \
    CALL("system_info out " name, EXPECT_ERROR, AISOS_SYS_SYSTEM_INFO, address);                                   \
    CALL("random buffer " name, EXPECT_ERROR, AISOS_SYS_RANDOM, address, 16);                                      \
    CALL("gpu_info out " name, EXPECT_ERROR, AISOS_SYS_GPU_INFO, 0, address);                                      \
    CALL("thread_join code " name " (no such thread)", EXPECT_ERROR, AISOS_SYS_THREAD_JOIN, 123456, address);     \
    CALL("metrics_publish text " name, EXPECT_ERROR, AISOS_SYS_METRICS_PUBLISH, address, 16);                      \
    CALL("config_get key " name, EXPECT_ERROR, AISOS_SYS_CONFIG_GET, address, 8, buffer, 64);                      \
    CALL("config_get buffer " name, EXPECT_ERROR, AISOS_SYS_CONFIG_GET, config_key, config_key_length, address, 64);
    ADDRESSES(POINTER_CASES)
#undef POINTER_CASES
}

static void length_cases(void)
{
    const uint64_t path = (uint64_t)(uintptr_t)PERMITTED_FILE;
    const uint64_t path_length = sizeof(PERMITTED_FILE) - 1;
    const uint64_t lengths[] = {HUGE_LENGTH, HALF_SPACE, PAGE * 16};
    const char* const names[] = {"~0", "1<<47", "64 KiB past the end of a page"};
    char description[96];
    for (unsigned i = 0; i < 3; ++i) {
        const uint64_t length = lengths[i];
        /* Starting 16 bytes before the end of a mapped page: only the length is wrong. */
        const uint64_t start = s_off_end;
#define LENGTH_CASE(what, expect, number, ...)                                          \
    snprintf(description, sizeof(description), "%s length %s", what, names[i]);         \
    CALL(description, expect, number, __VA_ARGS__);
        LENGTH_CASE("log", EXPECT_ERROR, AISOS_SYS_LOG, start, length);
        LENGTH_CASE("file_read path", EXPECT_ERROR, AISOS_SYS_FILE_READ, start, length, 0, s_valid, 16);
        LENGTH_CASE("file_read buffer", EXPECT_ERROR, AISOS_SYS_FILE_READ, path, path_length, 0, start, length);
        LENGTH_CASE("file_write data", EXPECT_ERROR, AISOS_SYS_FILE_WRITE, path, path_length, start, length);
        LENGTH_CASE("file_list buffer", EXPECT_ERROR, AISOS_SYS_FILE_LIST, path, 18, start, length);
        LENGTH_CASE("file_map path", EXPECT_ERROR, AISOS_SYS_FILE_MAP, start, length, s_valid);
        LENGTH_CASE("file_stat path", EXPECT_ERROR, AISOS_SYS_FILE_STAT, start, length, s_valid);
        LENGTH_CASE("request_receive body", EXPECT_ERROR, AISOS_SYS_REQUEST_RECEIVE, s_valid, start, length, 1000000);
        LENGTH_CASE("response_start content_type", EXPECT_ERROR, AISOS_SYS_RESPONSE_START, 0xdead, 200, start, length);
        LENGTH_CASE("response_write", EXPECT_ERROR, AISOS_SYS_RESPONSE_WRITE, 0xdead, start, length);
        LENGTH_CASE("random", EXPECT_ERROR, AISOS_SYS_RANDOM, start, length);
        LENGTH_CASE("memory_map", EXPECT_ERROR, AISOS_SYS_MEMORY_MAP, i == 2 ? HUGE_LENGTH - PAGE + 1 : length, 3);
        LENGTH_CASE("memory_unmap of a mapped page", EXPECT_ERROR, AISOS_SYS_MEMORY_UNMAP, s_valid, length);
        LENGTH_CASE("metrics_publish", EXPECT_ERROR, AISOS_SYS_METRICS_PUBLISH, start, length);
        LENGTH_CASE("config_get key", EXPECT_ERROR, AISOS_SYS_CONFIG_GET, start, length, s_valid, 64);
        LENGTH_CASE("config_get buffer", EXPECT_ERROR, AISOS_SYS_CONFIG_GET, (uint64_t)(uintptr_t)"anonymous_inference",
                    19, start, length);
#undef LENGTH_CASE
    }
    /* Structures that straddle the end of the page. */
    CALL("system_info out straddles the end of a page", EXPECT_ERROR, AISOS_SYS_SYSTEM_INFO, s_off_end);
    CALL("file_stat out straddles the end of a page", EXPECT_ERROR, AISOS_SYS_FILE_STAT, path, path_length, s_off_end + 8);
    CALL("request_receive out straddles the end of a page", EXPECT_ERROR, AISOS_SYS_REQUEST_RECEIVE, s_off_end, 0, 0,
         1000000);
    CALL("gpu_info out straddles the end of a page", EXPECT_ERROR, AISOS_SYS_GPU_INFO, 0, s_off_end);
    CALL("random 257 bytes (over the 256 limit)", EXPECT_ERROR, AISOS_SYS_RANDOM, s_valid, 257);
}

static void thread_cases(void)
{
    const uint64_t entry = (uint64_t)(uintptr_t)bad_syscalls_exit_thread;
    /* Entries the kernel must refuse outright. (A NULL or unmapped entry in
     * the user half may be accepted and then fault like any bad jump.) */
    CALL("thread_create entry kernel half", EXPECT_ERROR, AISOS_SYS_THREAD_CREATE, KERNEL_HALF, 0, s_valid + PAGE);
    CALL("thread_create entry kernel image", EXPECT_ERROR, AISOS_SYS_THREAD_CREATE, KERNEL_IMAGE, 0, s_valid + PAGE);
    CALL("thread_create entry non-canonical", EXPECT_ERROR, AISOS_SYS_THREAD_CREATE, NON_CANONICAL, 0, s_valid + PAGE);
    CALL("thread_create entry top of the address space", EXPECT_ERROR, AISOS_SYS_THREAD_CREATE, TOP_OF_ADDRESSES, 0,
         s_valid + PAGE);
    CALL("thread_create stack_top misaligned by 8", EXPECT_ERROR, AISOS_SYS_THREAD_CREATE, entry, 0, s_valid + PAGE - 8);
    CALL("thread_create stack_top misaligned by 1", EXPECT_ERROR, AISOS_SYS_THREAD_CREATE, entry, 0, s_valid + PAGE - 1);
    CALL("thread_create stack_top unmapped", EXPECT_ERROR, AISOS_SYS_THREAD_CREATE, entry, 0, s_hole + 32 * 1024);
    CALL("thread_create stack_top NULL", EXPECT_ERROR, AISOS_SYS_THREAD_CREATE, entry, 0, 0);
    CALL("thread_create stack_top kernel", EXPECT_ERROR, AISOS_SYS_THREAD_CREATE, entry, 0, KERNEL_IMAGE);
    CALL("thread_create stack_top non-canonical", EXPECT_ERROR, AISOS_SYS_THREAD_CREATE, entry, 0, NON_CANONICAL);
    CALL("thread_join no such thread", EXPECT_ERROR, AISOS_SYS_THREAD_JOIN, 999999, 0);
    CALL("thread_join id -1", EXPECT_ERROR, AISOS_SYS_THREAD_JOIN, (uint64_t)-1, 0);

    /* A real thread, joined first with a kernel pointer for its code, then
     * properly; joining it again must fail (it is gone). */
    aisos_thread_t thread;
    if (aisos_thread_create(&thread, quick_thread, 0) == 0) {
        CALL("thread_join code kernel (live thread)", EXPECT_ERROR, AISOS_SYS_THREAD_JOIN, (uint64_t)thread.id,
             KERNEL_IMAGE);
        int64_t code = 0;
        int64_t joined = aisos_sys_thread_join(thread.id, &code);
        if (joined == 0 || joined == -AISOS_ENOENT)
            CALL("thread_join twice", EXPECT_ERROR, AISOS_SYS_THREAD_JOIN, (uint64_t)thread.id, 0);
    } else {
        aisos_log("bad_syscalls: could not start a thread for the join checks");
    }
}

static void futex_cases(void)
{
    const uint64_t word = (uint64_t)(uintptr_t)&s_futex_word;
    /* The value matches, so a kernel that accepted the address would wait
     * (1 ms) and return -ETIMEDOUT: that counts as unexpected. */
    CALL("futex_wait misaligned by 1", EXPECT_ERROR_NO_WAIT, AISOS_SYS_FUTEX_WAIT, word + 1, 0, 1000000);
    CALL("futex_wait misaligned by 2", EXPECT_ERROR_NO_WAIT, AISOS_SYS_FUTEX_WAIT, word + 2, 0, 1000000);
    CALL("futex_wake misaligned by 1", EXPECT_ERROR, AISOS_SYS_FUTEX_WAKE, word + 1, 1);
    CALL("futex_wait straddles the end of a page", EXPECT_ERROR_NO_WAIT, AISOS_SYS_FUTEX_WAIT, s_valid + PAGE - 2, 0,
         1000000);
    CALL("futex_wait unmapped", EXPECT_ERROR_NO_WAIT, AISOS_SYS_FUTEX_WAIT, s_hole, 0, 1000000);
}

static void memory_cases(void)
{
    CALL("memory_map length 0", EXPECT_ERROR, AISOS_SYS_MEMORY_MAP, 0, AISOS_MAP_READ | AISOS_MAP_WRITE);
    CALL("memory_map unknown flag bits", EXPECT_ERROR, AISOS_SYS_MEMORY_MAP, PAGE, 0xfffffff8u | 3);
    CALL("memory_map flags 4 (execute is not offered)", EXPECT_ERROR, AISOS_SYS_MEMORY_MAP, PAGE, 4 | 3);
    CALL("memory_unmap the module's own data (never mapped)", EXPECT_ERROR, AISOS_SYS_MEMORY_UNMAP,
         (uint64_t)(uintptr_t)s_page, PAGE);
    CALL("memory_unmap the module's own code", EXPECT_ERROR, AISOS_SYS_MEMORY_UNMAP,
         (uint64_t)(uintptr_t)bad_syscalls_exit_thread & ~(uint64_t)(PAGE - 1), PAGE);
    CALL("memory_unmap the freed hole", EXPECT_ERROR, AISOS_SYS_MEMORY_UNMAP, s_hole, 64 * 1024);
    CALL("memory_unmap misaligned", EXPECT_ERROR, AISOS_SYS_MEMORY_UNMAP, s_valid + 1, PAGE);
    CALL("memory_unmap length 0", EXPECT_ERROR, AISOS_SYS_MEMORY_UNMAP, s_valid, 0);
    if (s_pair) {
        CALL("memory_unmap half of a mapping", EXPECT_ERROR, AISOS_SYS_MEMORY_UNMAP, s_pair, PAGE);
        CALL("memory_unmap the second half of a mapping", EXPECT_ERROR, AISOS_SYS_MEMORY_UNMAP, s_pair + PAGE, PAGE);
        CALL("memory_unmap a mapping and the page after it", EXPECT_ERROR, AISOS_SYS_MEMORY_UNMAP, s_pair, 3 * PAGE);
        /* Really unmapped, then once more: the second must fail. */
        if (aisos_unmap((void*)(uintptr_t)s_pair, 2 * PAGE) == 0)
            CALL("memory_unmap twice", EXPECT_ERROR, AISOS_SYS_MEMORY_UNMAP, s_pair, 2 * PAGE);
    }
}

static void path_cases(void)
{
    char buffer[64];
    const uint64_t out = (uint64_t)(uintptr_t)buffer;
    static const char* const paths[] = {
        "/data/bad_syscalls/../../system/users",
        "/data/bad_syscalls/..",
        "../system/users",
        "/system/users",
        "/data/bad_syscalls/./file",
        "/data/bad_syscalls//file",
        "data/bad_syscalls/file",
        "",
        "/data/bad_syscalls/fi\\le",
    };
    char description[128];
    for (unsigned i = 0; i < sizeof(paths) / sizeof(paths[0]); ++i) {
        const uint64_t path = (uint64_t)(uintptr_t)paths[i];
        const uint64_t length = strlen(paths[i]);
        snprintf(description, sizeof(description), "file_read \"%s\"", paths[i]);
        CALL(description, EXPECT_ERROR, AISOS_SYS_FILE_READ, path, length, 0, out, sizeof(buffer));
        snprintf(description, sizeof(description), "file_write \"%s\"", paths[i]);
        CALL(description, EXPECT_ERROR, AISOS_SYS_FILE_WRITE, path, length, out, 4);
        snprintf(description, sizeof(description), "file_map \"%s\"", paths[i]);
        CALL(description, EXPECT_ERROR, AISOS_SYS_FILE_MAP, path, length, out);
        snprintf(description, sizeof(description), "file_stat \"%s\"", paths[i]);
        CALL(description, EXPECT_ERROR, AISOS_SYS_FILE_STAT, path, length, out);
    }
    /* A NUL inside the given length. */
    static const char nul_path[] = "/data/bad_syscalls/file\0/../../system/users";
    CALL("file_read path with a NUL inside", EXPECT_ERROR, AISOS_SYS_FILE_READ, (uint64_t)(uintptr_t)nul_path,
         sizeof(nul_path) - 1, 0, out, sizeof(buffer));
    /* (A read at an offset past the end may return 0 bytes, like read(2) at
     * end of file, so it is no hostile case.) */
}

static void request_cases(void)
{
    const uint64_t text = (uint64_t)(uintptr_t)"text/plain";
    const uint64_t ids[] = {0, 0xdead, (uint64_t)-1};
    char description[96];
    for (unsigned i = 0; i < 3; ++i) {
        snprintf(description, sizeof(description), "response_start request %llu (no such request)",
                 (unsigned long long)ids[i]);
        CALL(description, EXPECT_ERROR, AISOS_SYS_RESPONSE_START, ids[i], 200, text, 10);
        snprintf(description, sizeof(description), "response_write request %llu", (unsigned long long)ids[i]);
        CALL(description, EXPECT_ERROR, AISOS_SYS_RESPONSE_WRITE, ids[i], text, 4);
        snprintf(description, sizeof(description), "response_end request %llu", (unsigned long long)ids[i]);
        CALL(description, EXPECT_ERROR, AISOS_SYS_RESPONSE_END, ids[i]);
        snprintf(description, sizeof(description), "request_canceled request %llu", (unsigned long long)ids[i]);
        CALL(description, EXPECT_ERROR, AISOS_SYS_REQUEST_CANCELED, ids[i]);
    }
    CALL("gpu_info index 0xffffffff", EXPECT_ERROR, AISOS_SYS_GPU_INFO, 0xffffffffu, s_valid);
}

/* The calls added after the first set: service status, metrics, config. */
static void service_cases(void)
{
    CALL("service_status 2 (no such status)", EXPECT_ERROR, AISOS_SYS_SERVICE_STATUS, 2);
    CALL("service_status 0xffffffff", EXPECT_ERROR, AISOS_SYS_SERVICE_STATUS, 0xffffffffu);
    CALL("service_status 1<<32 (READY in the low 32 bits)", EXPECT_ERROR, AISOS_SYS_SERVICE_STATUS, 1ull << 32);
    /* Whatever happened above, /health must not stay at "loading" because of us. */
    aisos_sys_service_status(AISOS_SERVICE_READY);

    int64_t error = 0;
    char* big = aisos_map(32 * 1024, &error);
    if (big) {
        memset(big, '#', 32 * 1024);
        CALL("metrics_publish 16 KiB + 1", EXPECT_ERROR, AISOS_SYS_METRICS_PUBLISH, (uint64_t)(uintptr_t)big,
             16 * 1024 + 1);
        aisos_unmap(big, 32 * 1024);
    }
    char value[64];
    const uint64_t out = (uint64_t)(uintptr_t)value;
    static const char* const secrets[] = {"admin_password", "admin_password_hash", "jwt_secret", "ip", ""};
    char description[96];
    for (unsigned i = 0; i < sizeof(secrets) / sizeof(secrets[0]); ++i) {
        snprintf(description, sizeof(description), "config_get \"%s\"", secrets[i]);
        CALL(description, EXPECT_ERROR, AISOS_SYS_CONFIG_GET, (uint64_t)(uintptr_t)secrets[i], strlen(secrets[i]), out,
             sizeof(value));
    }
    static const char long_key[] = "anonymous_inference_and_a_lot_more_than_32_bytes";
    CALL("config_get key of 48 bytes", EXPECT_ERROR, AISOS_SYS_CONFIG_GET, (uint64_t)(uintptr_t)long_key,
         sizeof(long_key) - 1, out, sizeof(value));
    CALL("config_get buffer of 1 byte", EXPECT_ERROR, AISOS_SYS_CONFIG_GET, (uint64_t)(uintptr_t)"anonymous_inference",
         19, out, 1);
}

/* Calls without hostile arguments still must ignore garbage in the
 * registers they do not use; and numbers past the last must be -ENOSYS. */
static void number_cases(void)
{
    const uint64_t junk = 0xdeadbeefcafef00dull;
    CALL("clock_monotonic with junk arguments", EXPECT_SUCCESS, AISOS_SYS_CLOCK_MONOTONIC, junk, junk, junk, junk, junk,
         junk);
    CALL("clock_wall with junk arguments", EXPECT_SUCCESS, AISOS_SYS_CLOCK_WALL, junk, junk, junk, junk, junk, junk);
    CALL("yield with junk arguments", EXPECT_SUCCESS, AISOS_SYS_YIELD, junk, junk, junk, junk, junk, junk);
    const uint64_t text = (uint64_t)(uintptr_t)"x";
    const uint64_t numbers[] = {AISOS_SYS_COUNT, AISOS_SYS_COUNT + 1, 1000, 0x7fffffff, 0x80000000u,
                                /* the low 32 bits say LOG: a kernel that truncates the number logs "x" */
                                0x100000001ull, 0x8000000000000000ull, (uint64_t)-1};
    char description[96];
    for (unsigned i = 0; i < sizeof(numbers) / sizeof(numbers[0]); ++i) {
        snprintf(description, sizeof(description), "call number %#llx", (unsigned long long)numbers[i]);
        CALL(description, EXPECT_ENOSYS, numbers[i], text, 1);
    }
}

/* Checks that need a live request: status codes and content types of
 * response_start, and writes from bad buffers into a started response. */
static void live_request_cases(uint64_t id)
{
    const uint64_t text = (uint64_t)(uintptr_t)"text/plain";
    CALL("response_start status 99", EXPECT_ERROR, AISOS_SYS_RESPONSE_START, id, 99, text, 10);
    CALL("response_start status 600", EXPECT_ERROR, AISOS_SYS_RESPONSE_START, id, 600, text, 10);
    CALL("response_start status 0xffffffff", EXPECT_ERROR, AISOS_SYS_RESPONSE_START, id, 0xffffffffu, text, 10);
    CALL("response_start content_type kernel", EXPECT_ERROR, AISOS_SYS_RESPONSE_START, id, 200, KERNEL_IMAGE, 10);
    CALL("response_start content_type length ~0", EXPECT_ERROR, AISOS_SYS_RESPONSE_START, id, 200, text, HUGE_LENGTH);
    CALL("response_start content_type with CR LF", EXPECT_ERROR, AISOS_SYS_RESPONSE_START, id, 200,
         (uint64_t)(uintptr_t)"text/plain\r\nX-Injected: 1", 25);
}

static void live_write_cases(uint64_t id)
{
    CALL("response_write data kernel (live request)", EXPECT_ERROR, AISOS_SYS_RESPONSE_WRITE, id, KERNEL_HALF, 16);
    CALL("response_write data NULL (live request)", EXPECT_ERROR, AISOS_SYS_RESPONSE_WRITE, id, 0, 16);
    CALL("response_write data unmapped (live request)", EXPECT_ERROR, AISOS_SYS_RESPONSE_WRITE, id, s_hole, 16);
    CALL("response_write length ~0 (live request)", EXPECT_ERROR, AISOS_SYS_RESPONSE_WRITE, id, s_off_end, HUGE_LENGTH);
    CALL("response_write off the end of a page (live request)", EXPECT_ERROR, AISOS_SYS_RESPONSE_WRITE, id, s_off_end,
         4 * PAGE);
}

static void serve(const struct aisos_request* request)
{
    live_request_cases(request->id);
    int64_t started = aisos_response_start(request->id, 200, "application/json");
    if (started < 0) {
        aisos_logf("bad_syscalls: response_start failed: %s", aisos_error_name(started));
        aisos_response_end(request->id);
        return;
    }
    live_write_cases(request->id);
    char json[512];
    /* The description holds no quotes or backslashes except from the path
     * list; replace those so the JSON stays valid. */
    char first[sizeof(s_first_unexpected)];
    size_t i = 0;
    for (; s_first_unexpected[i]; ++i)
        first[i] = (s_first_unexpected[i] == '"' || s_first_unexpected[i] == '\\') ? '\'' : s_first_unexpected[i];
    first[i] = 0;
    int length = snprintf(json, sizeof(json), "{\"calls\":%lld,\"unexpected\":%lld,\"first_unexpected\":\"%s\"}",
                          (long long)s_calls, (long long)s_unexpected, first);
    aisos_response_write(request->id, json, (size_t)length);
    aisos_response_end(request->id);
    aisos_logf("bad_syscalls: %lld calls, %lld unexpected", (long long)s_calls, (long long)s_unexpected);
}

int main(void)
{
    aisos_log("bad_syscalls: started");
    setup();
    pointer_cases();
    length_cases();
    thread_cases();
    futex_cases();
    memory_cases();
    path_cases();
    request_cases();
    service_cases();
    number_cases();
    aisos_logf("bad_syscalls: %lld calls, %lld unexpected", (long long)s_calls, (long long)s_unexpected);

    static struct aisos_request request;
    static char body[4096];
    for (;;) {
        int64_t result = aisos_request_receive(&request, body, sizeof(body), -1);
        if (result < 0) {
            aisos_sleep_ns(100000000);
            continue;
        }
        serve(&request);
    }
}
