/*
 * aiSOS module SDK: system calls.
 *
 * Two layers over <aisos/abi.h>:
 *   - aisos_syscall0..6 and one typed inline wrapper per call
 *     (aisos_sys_<name>), a direct mapping of the ABI: the result is the raw
 *     rax value, >= 0 on success, -AISOS_E* on failure;
 *   - friendly helpers (aisos_log, aisos_logf, aisos_map, aisos_file_read,
 *     aisos_respond, ...) that take C strings and do the obvious thing.
 * Nothing here keeps state; every function is safe to call from any thread.
 */
#ifndef AISOS_SYS_H
#define AISOS_SYS_H

#include <aisos/abi.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- raw calls ----------------------------------------------------------
 * SYSCALL clobbers rcx (return rip) and r11 (rflags); the kernel preserves
 * every other register. "memory": the kernel reads and writes our buffers. */
static inline int64_t aisos_syscall6(uint64_t number, uint64_t a1, uint64_t a2, uint64_t a3,
                                     uint64_t a4, uint64_t a5, uint64_t a6)
{
    int64_t result;
    register uint64_t r10 __asm__("r10") = a4;
    register uint64_t r8 __asm__("r8") = a5;
    register uint64_t r9 __asm__("r9") = a6;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return result;
}

static inline int64_t aisos_syscall0(uint64_t n) { return aisos_syscall6(n, 0, 0, 0, 0, 0, 0); }
static inline int64_t aisos_syscall1(uint64_t n, uint64_t a1) { return aisos_syscall6(n, a1, 0, 0, 0, 0, 0); }
static inline int64_t aisos_syscall2(uint64_t n, uint64_t a1, uint64_t a2) { return aisos_syscall6(n, a1, a2, 0, 0, 0, 0); }
static inline int64_t aisos_syscall3(uint64_t n, uint64_t a1, uint64_t a2, uint64_t a3)
{
    return aisos_syscall6(n, a1, a2, a3, 0, 0, 0);
}
static inline int64_t aisos_syscall4(uint64_t n, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
    return aisos_syscall6(n, a1, a2, a3, a4, 0, 0);
}
static inline int64_t aisos_syscall5(uint64_t n, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
    return aisos_syscall6(n, a1, a2, a3, a4, a5, 0);
}

#define AISOS_U(x) ((uint64_t)(uintptr_t)(x))

/* ---- one typed wrapper per call (names follow AISOS_SYS_*) --------------- */
__attribute__((noreturn)) static inline void aisos_sys_exit(int64_t code)
{
    aisos_syscall1(AISOS_SYS_EXIT, (uint64_t)code);
    __builtin_unreachable();
}
static inline int64_t aisos_sys_log(const char* text, size_t length)
{
    return aisos_syscall2(AISOS_SYS_LOG, AISOS_U(text), length);
}
static inline int64_t aisos_sys_clock_monotonic(void) { return aisos_syscall0(AISOS_SYS_CLOCK_MONOTONIC); }
static inline int64_t aisos_sys_clock_wall(void) { return aisos_syscall0(AISOS_SYS_CLOCK_WALL); }
static inline int64_t aisos_sys_thread_create(void (*entry)(void*), void* argument, void* stack_top)
{
    return aisos_syscall3(AISOS_SYS_THREAD_CREATE, AISOS_U(entry), AISOS_U(argument), AISOS_U(stack_top));
}
__attribute__((noreturn)) static inline void aisos_sys_thread_exit(int64_t code)
{
    aisos_syscall1(AISOS_SYS_THREAD_EXIT, (uint64_t)code);
    __builtin_unreachable();
}
static inline int64_t aisos_sys_thread_join(int64_t thread, int64_t* code)
{
    return aisos_syscall2(AISOS_SYS_THREAD_JOIN, (uint64_t)thread, AISOS_U(code));
}
static inline int64_t aisos_sys_futex_wait(const uint32_t* address, uint32_t expected, int64_t timeout_ns)
{
    return aisos_syscall3(AISOS_SYS_FUTEX_WAIT, AISOS_U(address), expected, (uint64_t)timeout_ns);
}
static inline int64_t aisos_sys_futex_wake(const uint32_t* address, uint32_t count)
{
    return aisos_syscall2(AISOS_SYS_FUTEX_WAKE, AISOS_U(address), count);
}
static inline int64_t aisos_sys_memory_map(size_t length, uint32_t flags)
{
    return aisos_syscall2(AISOS_SYS_MEMORY_MAP, length, flags);
}
static inline int64_t aisos_sys_memory_unmap(void* address, size_t length)
{
    return aisos_syscall2(AISOS_SYS_MEMORY_UNMAP, AISOS_U(address), length);
}
static inline int64_t aisos_sys_file_map(const char* path, size_t path_length, uint64_t* size_out)
{
    return aisos_syscall3(AISOS_SYS_FILE_MAP, AISOS_U(path), path_length, AISOS_U(size_out));
}
static inline int64_t aisos_sys_file_read(const char* path, size_t path_length, uint64_t offset, void* buffer,
                                          size_t length)
{
    return aisos_syscall5(AISOS_SYS_FILE_READ, AISOS_U(path), path_length, offset, AISOS_U(buffer), length);
}
static inline int64_t aisos_sys_file_write(const char* path, size_t path_length, const void* data, size_t length)
{
    return aisos_syscall4(AISOS_SYS_FILE_WRITE, AISOS_U(path), path_length, AISOS_U(data), length);
}
static inline int64_t aisos_sys_file_list(const char* path, size_t path_length, char* buffer, size_t length)
{
    return aisos_syscall4(AISOS_SYS_FILE_LIST, AISOS_U(path), path_length, AISOS_U(buffer), length);
}
static inline int64_t aisos_sys_file_stat(const char* path, size_t path_length, struct aisos_file_stat* out)
{
    return aisos_syscall3(AISOS_SYS_FILE_STAT, AISOS_U(path), path_length, AISOS_U(out));
}
static inline int64_t aisos_sys_request_receive(struct aisos_request* out, void* body, size_t body_capacity,
                                                int64_t timeout_ns)
{
    return aisos_syscall4(AISOS_SYS_REQUEST_RECEIVE, AISOS_U(out), AISOS_U(body), body_capacity, (uint64_t)timeout_ns);
}
static inline int64_t aisos_sys_response_start(uint64_t request, uint32_t status, const char* content_type,
                                               size_t content_type_length)
{
    return aisos_syscall4(AISOS_SYS_RESPONSE_START, request, status, AISOS_U(content_type), content_type_length);
}
static inline int64_t aisos_sys_response_write(uint64_t request, const void* data, size_t length)
{
    return aisos_syscall3(AISOS_SYS_RESPONSE_WRITE, request, AISOS_U(data), length);
}
static inline int64_t aisos_sys_response_end(uint64_t request) { return aisos_syscall1(AISOS_SYS_RESPONSE_END, request); }
static inline int64_t aisos_sys_sleep(int64_t nanoseconds) { return aisos_syscall1(AISOS_SYS_SLEEP, (uint64_t)nanoseconds); }
static inline int64_t aisos_sys_yield(void) { return aisos_syscall0(AISOS_SYS_YIELD); }
static inline int64_t aisos_sys_system_info(struct aisos_system_info* out)
{
    return aisos_syscall1(AISOS_SYS_SYSTEM_INFO, AISOS_U(out));
}
static inline int64_t aisos_sys_random(void* buffer, size_t length)
{
    return aisos_syscall2(AISOS_SYS_RANDOM, AISOS_U(buffer), length);
}
static inline int64_t aisos_sys_gpu_info(uint32_t index, struct aisos_gpu_info* out)
{
    return aisos_syscall2(AISOS_SYS_GPU_INFO, index, AISOS_U(out));
}
static inline int64_t aisos_sys_request_canceled(uint64_t request)
{
    return aisos_syscall1(AISOS_SYS_REQUEST_CANCELED, request);
}

static inline int64_t aisos_sys_service_status(uint32_t status)
{
    return aisos_syscall1(AISOS_SYS_SERVICE_STATUS, status);
}
static inline int64_t aisos_sys_metrics_publish(const char* text, size_t length)
{
    return aisos_syscall2(AISOS_SYS_METRICS_PUBLISH, AISOS_U(text), length);
}
static inline int64_t aisos_sys_config_get(const char* key, size_t key_length, char* buffer, size_t length)
{
    return aisos_syscall4(AISOS_SYS_CONFIG_GET, AISOS_U(key), key_length, AISOS_U(buffer), length);
}

/* ---- friendly helpers (src/sys.c) --------------------------------------- */

/* The name of an AISOS_E* code ("EINVAL"); accepts the code negated or not. */
const char* aisos_error_name(int64_t error);

/* One line on the kernel log; text is a C string. */
int64_t aisos_log(const char* text);
/* printf-style (see <stdio.h> for the conversions); longer than 1 KiB is cut. */
int64_t aisos_logf(const char* format, ...) __attribute__((format(printf, 1, 2)));
int64_t aisos_vlogf(const char* format, va_list arguments);

static inline int64_t aisos_now_ns(void) { return aisos_sys_clock_monotonic(); }
static inline int64_t aisos_wall_ns(void) { return aisos_sys_clock_wall(); }
static inline int64_t aisos_sleep_ns(int64_t nanoseconds) { return aisos_sys_sleep(nanoseconds); }
static inline int64_t aisos_yield(void) { return aisos_sys_yield(); }
__attribute__((noreturn)) static inline void aisos_exit(int64_t code) { aisos_sys_exit(code); }

/* Zeroed read/write memory rounded up to whole pages; NULL on failure, with
 * the error in *error when error is not NULL. */
void* aisos_map(size_t length, int64_t* error);
/* Exactly a range aisos_map returned (same length). */
int64_t aisos_unmap(void* address, size_t length);

/* File helpers: path is a C string ("/data/x"). */
int64_t aisos_file_read(const char* path, uint64_t offset, void* buffer, size_t length);
int64_t aisos_file_write(const char* path, const void* data, size_t length);
int64_t aisos_file_list(const char* path, char* buffer, size_t length);
int64_t aisos_file_stat(const char* path, struct aisos_file_stat* out);
/* A read-only mapping of the whole file; NULL on failure (error in *error). */
const void* aisos_file_map(const char* path, uint64_t* size, int64_t* error);

/* Requests. aisos_request_receive waits (timeout_ns -1: forever). */
static inline int64_t aisos_request_receive(struct aisos_request* out, void* body, size_t capacity, int64_t timeout_ns)
{
    return aisos_sys_request_receive(out, body, capacity, timeout_ns);
}
int64_t aisos_response_start(uint64_t request, uint32_t status, const char* content_type);
static inline int64_t aisos_response_write(uint64_t request, const void* data, size_t length)
{
    return aisos_sys_response_write(request, data, length);
}
int64_t aisos_response_write_str(uint64_t request, const char* text);
static inline int64_t aisos_response_end(uint64_t request) { return aisos_sys_response_end(request); }
/* start + one write (skipped when length is 0) + end: a whole response. The
 * first error ends the request anyway and is returned. */
int64_t aisos_respond(uint64_t request, uint32_t status, const char* content_type, const void* body, size_t length);
int64_t aisos_respond_str(uint64_t request, uint32_t status, const char* content_type, const char* body);

/* What GET /health says about this module: AISOS_SERVICE_LOADING while it
 * loads (a model, say), AISOS_SERVICE_READY after. */
static inline int64_t aisos_service_status(enum aisos_service_status status) { return aisos_sys_service_status(status); }
/* Prometheus text (whole lines) for GET /metrics; a C string of at most 16 KiB. */
int64_t aisos_metrics_publish(const char* text);
/* The value of an aisos.cfg key a module may read ("default_model",
 * "hostname", "anonymous_inference") as a C string in buffer; returns its
 * length, -AISOS_ENOENT when unset, -AISOS_E2BIG when it (and its NUL) does
 * not fit, -AISOS_EACCES for other keys. */
int64_t aisos_config_get(const char* key, char* buffer, size_t capacity);

/* The path of a request target without its query ("/x?a=1" -> "/x"), as a
 * length; and the value of one query parameter, copied NUL-terminated into
 * value (1 when found, 0 when not). */
size_t aisos_request_path_length(const struct aisos_request* request);
int aisos_request_query(const struct aisos_request* request, const char* name, char* value, size_t capacity);
/* 1 when the request's path (without query) equals path. */
int aisos_request_path_is(const struct aisos_request* request, const char* path);

#ifdef __cplusplus
}
#endif

#endif /* AISOS_SYS_H */
