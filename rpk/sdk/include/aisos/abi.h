/*
 * aiSOS module ABI, version 1: the only interface between a user-mode .rpk
 * module and the kernel. C and C++ include it; the kernel's syscall/ code
 * includes it too, so both sides agree by construction.
 *
 * Calling convention (x86_64 SYSCALL):
 *   rax = call number, arguments in rdi, rsi, rdx, r10, r8, r9.
 *   Result in rax: >= 0 on success (a value or 0), or -AISOS_E* on failure.
 *   rcx and r11 are clobbered (the CPU uses them); every other register,
 *   including all vector registers, is preserved.
 *
 * Every pointer and length is checked by the kernel: a pointer outside the
 * module's mapped memory gives -AISOS_EFAULT, never a crash. A buffer
 * (pointer, length) must be mapped as a whole (and writable when the kernel
 * fills it), even when the result is shorter. Strings are passed as
 * (pointer, length) and need no terminating NUL. Unknown flag bits and
 * out-of-range enum values give -AISOS_EINVAL.
 *
 * Paths are /fs paths without the "/fs" prefix ("/models/x.gguf"); a module
 * may touch only what its manifest's permissions name.
 *
 * Changing the meaning of an existing call or struct needs a new
 * AISOS_ABI_VERSION; adding a call does not.
 */
#ifndef AISOS_ABI_H
#define AISOS_ABI_H

#define AISOS_ABI_VERSION 1

/* Assembly (crt0.S) may include this header for the call numbers below. */
#define AISOS_SYS_EXIT_NUMBER 0
#define AISOS_SYS_THREAD_EXIT_NUMBER 5

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

/* ---- call numbers ---------------------------------------------------- */
enum aisos_syscall {
    AISOS_SYS_EXIT = 0,             /* (int64 code) -> never returns; ends every thread of the module */
    AISOS_SYS_LOG = 1,              /* (const char* text, size_t length) -> 0; one line on the kernel log */
    AISOS_SYS_CLOCK_MONOTONIC = 2,  /* () -> nanoseconds since boot */
    AISOS_SYS_CLOCK_WALL = 3,       /* () -> nanoseconds since 1970-01-01 UTC */
    AISOS_SYS_THREAD_CREATE = 4,    /* (void (*entry)(void*), void* argument, void* stack_top) -> thread id */
    AISOS_SYS_THREAD_EXIT = 5,      /* (int64 code) -> never returns; ends the calling thread */
    AISOS_SYS_THREAD_JOIN = 6,      /* (int64 thread id, int64* code or NULL) -> 0 */
    AISOS_SYS_FUTEX_WAIT = 7,       /* (const uint32_t* address, uint32_t expected, int64 timeout_ns or -1) -> 0, -EAGAIN, -ETIMEDOUT */
    AISOS_SYS_FUTEX_WAKE = 8,       /* (const uint32_t* address, uint32_t count) -> threads woken */
    AISOS_SYS_MEMORY_MAP = 9,       /* (size_t length, uint32_t flags) -> address of zeroed, page-aligned memory */
    AISOS_SYS_MEMORY_UNMAP = 10,    /* (void* address, size_t length) -> 0; exactly a range memory_map returned */
    AISOS_SYS_FILE_MAP = 11,        /* (const char* path, size_t path_length, uint64_t* size_out) -> address of a read-only mapping */
    AISOS_SYS_FILE_READ = 12,       /* (const char* path, size_t path_length, uint64_t offset, void* buffer, size_t length) -> bytes read */
    AISOS_SYS_FILE_WRITE = 13,      /* (const char* path, size_t path_length, const void* data, size_t length) -> 0; atomically replaces the file */
    AISOS_SYS_FILE_LIST = 14,       /* (const char* path, size_t path_length, char* buffer, size_t length) -> bytes; see below */
    AISOS_SYS_FILE_STAT = 15,       /* (const char* path, size_t path_length, struct aisos_file_stat* out) -> 0 */
    AISOS_SYS_REQUEST_RECEIVE = 16, /* (struct aisos_request* out, void* body, size_t body_capacity, int64 timeout_ns or -1) -> 0, -ETIMEDOUT */
    AISOS_SYS_RESPONSE_START = 17,  /* (uint64_t request, uint32_t status, const char* content_type, size_t content_type_length) -> 0 */
    AISOS_SYS_RESPONSE_WRITE = 18,  /* (uint64_t request, const void* data, size_t length) -> 0; blocks while the client is slow; -ECANCELED once it went away */
    AISOS_SYS_RESPONSE_END = 19,    /* (uint64_t request) -> 0; the request id is then gone */
    AISOS_SYS_SLEEP = 20,           /* (int64 nanoseconds) -> 0 */
    AISOS_SYS_YIELD = 21,           /* () -> 0 */
    AISOS_SYS_SYSTEM_INFO = 22,     /* (struct aisos_system_info* out) -> 0 */
    AISOS_SYS_RANDOM = 23,          /* (void* buffer, size_t length <= 256) -> 0; from the kernel's CSPRNG */
    AISOS_SYS_GPU_INFO = 24,        /* (uint32_t index, struct aisos_gpu_info* out) -> 0, -ENOENT past the last GPU */
    AISOS_SYS_REQUEST_CANCELED = 25,/* (uint64_t request) -> 1 when the client went away (or sent stop), else 0 */
    AISOS_SYS_SERVICE_STATUS = 26,  /* (uint32_t enum aisos_service_status) -> 0; what GET /health reports for this module */
    AISOS_SYS_METRICS_PUBLISH = 27, /* (const char* text, size_t length <= 16 KiB) -> 0; Prometheus text appended to GET /metrics */
    AISOS_SYS_CONFIG_GET = 28,      /* (const char* key, size_t key_length, char* buffer, size_t length) -> value length; -ENOENT when unset */
    AISOS_SYS_COUNT = 29
};

/* ---- errors (returned negated) ----------------------------------------- */
enum aisos_error {
    AISOS_EINVAL = 1,     /* an argument is out of range or malformed */
    AISOS_EFAULT = 2,     /* a pointer/length is not inside the module's memory */
    AISOS_ENOMEM = 3,     /* out of memory, or the module's max_memory reached */
    AISOS_ENOENT = 4,     /* no such file, thread, request or GPU */
    AISOS_EACCES = 5,     /* outside the manifest's permissions */
    AISOS_ELIMIT = 6,     /* a per-module limit (threads) reached */
    AISOS_ETIMEDOUT = 7,  /* the timeout passed */
    AISOS_EAGAIN = 8,     /* futex value differed; try again */
    AISOS_E2BIG = 9,      /* a buffer is too small for the result */
    AISOS_EIO = 10,       /* the storage failed */
    AISOS_ECANCELED = 11, /* the client of a request went away or sent stop */
    AISOS_ENOSYS = 12,    /* no such call */
    AISOS_ENOSPC = 13,    /* the disk is full */
    AISOS_EISDIR = 14,    /* a directory where a file was expected */
    AISOS_ENOTDIR = 15,   /* a file where a directory was expected */
    AISOS_EBUSY = 16      /* the object is in use (e.g. joining a thread twice) */
};

/* ---- memory_map flags ---------------------------------------------------- */
#define AISOS_MAP_READ 1u
#define AISOS_MAP_WRITE 2u
/* Executable anonymous memory is not offered (W^X). */

/* ---- file_list output ----------------------------------------------------
 * One line per entry: "<type> <size> <name>\n", type 'f' or 'd', size in
 * decimal bytes (0 for directories). -AISOS_E2BIG when it does not fit.   */

struct aisos_file_stat {
    uint64_t size;
    uint64_t mtime_s;   /* seconds since 1970 */
    uint32_t is_directory;
    uint32_t reserved;
};

/* ---- requests ------------------------------------------------------------
 * The manifest's "routes" name the HTTP paths the module serves. The kernel
 * parses the request, checks the route's access level, reads the whole body
 * (up to 1 MiB) and queues it; request_receive hands out one at a time.   */
enum aisos_request_kind {
    AISOS_REQUEST_HTTP = 1,
    /* WebSocket routes ("websocket": true in the manifest). A connection is
     * one id, given by its OPEN request; every response_write(id, ...) sends
     * one text message; response_end(id) closes the connection (or, after
     * CLOSE, releases it); request_canceled(id) is 1 once the client left. */
    AISOS_REQUEST_WEBSOCKET_OPEN = 2,    /* a client connected; body empty; target/user/role as for HTTP */
    AISOS_REQUEST_WEBSOCKET_MESSAGE = 3, /* one text message from connection `id`; body = the message; nothing to end */
    AISOS_REQUEST_WEBSOCKET_CLOSE = 4    /* the client went away: response_end(id) releases the connection */
};

enum aisos_method {
    AISOS_METHOD_GET = 1, AISOS_METHOD_HEAD = 2, AISOS_METHOD_POST = 3,
    AISOS_METHOD_PUT = 4, AISOS_METHOD_DELETE = 5, AISOS_METHOD_OPTIONS = 6
};

enum aisos_role { AISOS_ROLE_ANONYMOUS = 0, AISOS_ROLE_USER = 1, AISOS_ROLE_ADMIN = 2 };

#define AISOS_REQUEST_TARGET_MAX 2048
#define AISOS_REQUEST_CONTENT_TYPE_MAX 128
#define AISOS_REQUEST_USER_MAX 64
#define AISOS_REQUEST_BODY_MAX (1u << 20)

struct aisos_request {
    uint64_t id;              /* for response_* calls; also names a WebSocket connection */
    uint64_t connection;      /* WebSocket messages: the id of their OPEN request; else = id */
    uint32_t kind;            /* enum aisos_request_kind */
    uint32_t method;          /* enum aisos_method */
    uint32_t role;            /* enum aisos_role of the authenticated caller */
    uint32_t target_length;
    uint32_t content_type_length;
    uint32_t user_length;
    uint64_t body_length;     /* bytes copied to the body buffer */
    char target[AISOS_REQUEST_TARGET_MAX];  /* path and query, as sent */
    char content_type[AISOS_REQUEST_CONTENT_TYPE_MAX];
    char user[AISOS_REQUEST_USER_MAX];
};
/* request_receive fails with -AISOS_E2BIG (and keeps the request queued)
 * when the body does not fit body_capacity; AISOS_REQUEST_BODY_MAX always fits. */

/* response_start: status 100..599. Content-Length is never known in
 * advance: the body is sent chunked (HTTP) as response_write delivers it. */

/* ---- service status (GET /health) ------------------------------------------
 * GET /health answers 503 {"status":"loading"} while any module reports
 * LOADING, else 200 {"status":"ok"}. A module starts as READY.            */
enum aisos_service_status { AISOS_SERVICE_READY = 0, AISOS_SERVICE_LOADING = 1 };

/* ---- config_get -------------------------------------------------------------
 * The aisos.cfg keys a module may read: "default_model" (a name under
 * /fs/models), "hostname", "anonymous_inference" ("true"/"false"). Secrets
 * (admin_password...) are never readable; other keys give -AISOS_EACCES.  */

/* ---- system ---------------------------------------------------------------- */
struct aisos_system_info {
    uint32_t abi_version;      /* AISOS_ABI_VERSION of the running kernel */
    uint32_t cpu_count;        /* CPUs that run module threads */
    uint64_t memory_limit;     /* the module's max_memory in bytes */
    uint64_t memory_used;      /* bytes mapped now (code, stacks, anonymous, files) */
    uint32_t thread_limit;
    uint32_t gpu_count;        /* NVIDIA GPUs the kernel found on PCI (compute is not available) */
    char module_name[64];      /* NUL-terminated */
};

struct aisos_gpu_info {
    uint16_t vendor;
    uint16_t device;
    uint32_t reserved;
    uint64_t bar0;
    char name[64];             /* NUL-terminated, e.g. "NVIDIA A100" or "NVIDIA device 20b0" */
};

#endif /* __ASSEMBLER__ */
#endif /* AISOS_ABI_H */
