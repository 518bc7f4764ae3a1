#pragma once

// The engine's only window to its host: memory, threads, read-only file
// mapping, a monotonic clock and a log. The POSIX implementation lives in
// platform/posix; inside aiSOS the module SDK provides the same functions.
// Everything else in engine/ is freestanding-compatible and never calls the
// C library beyond memcpy-level functions and <cmath>.

#include "engine/base/Types.h"
#include "lib/base/ErrorOr.h"

namespace aisos::engine {

// Memory. Returns nullptr when the request cannot be met; callers turn that
// into Error::no_memory(). alignment is a power of two >= sizeof(void*).
void* platform_allocate(size_t size, size_t alignment);
void platform_free(void* pointer);

// A read-only view of a whole file, valid until platform_unmap_file.
struct MappedFile {
    u8 const* data { nullptr };
    size_t size { 0 };
    void* handle { nullptr };
};
ErrorOr<MappedFile> platform_map_file(char const* path);
void platform_unmap_file(MappedFile&);

// Calls visit(context, name) for every entry of a directory (no "." or "..").
ErrorOr<void> platform_list_directory(char const* path, void (*visit)(void* context, char const* name), void* context);

u64 platform_monotonic_ns();

enum class LogLevel {
    Debug,
    Info,
    Warning,
    Error,
};
void platform_log(LogLevel, char const* message);

unsigned platform_cpu_count();

// A fixed set of threads. run() calls task(context, index, count) on the
// caller's thread (index 0) and on every pool thread that joins the job in
// time, and returns when all calls that started have returned. A thread
// that is descheduled (a busy host, a guest vCPU not running) may miss a
// job entirely, so tasks claim their work dynamically (an atomic chunk
// counter) and use `index` only to pick per-thread scratch memory. That
// way one run() covers a whole fused step (all output rows of a matmul,
// all heads of attention) without a barrier per tiny operation, and a late
// thread never stalls the others.
class ThreadPool {
public:
    using Task = void (*)(void* context, unsigned index, unsigned count);
    virtual ~ThreadPool() = default;
    virtual unsigned thread_count() const = 0;
    virtual void run(Task, void* context) = 0;
};

// Creates a pool of thread_count threads (the caller counts as one).
ErrorOr<ThreadPool*> platform_create_thread_pool(unsigned thread_count);
void platform_destroy_thread_pool(ThreadPool*);

} // namespace aisos::engine
