// The engine's platform inside an aiSOS module (rpk/llm), over the module
// SDK: memory from its malloc (large blocks are their own mappings), files
// mapped read-only by the kernel without copying (AISOS_SYS_FILE_MAP),
// directory listings from AISOS_SYS_FILE_LIST, threads and futexes from the
// SDK. The counterpart of platform/posix/PosixPlatform.cpp.
//
// Paths are /fs paths as the module ABI names them ("/models/x.gguf"); a
// leading "/fs" is accepted and dropped, so "/fs/models/x.gguf" works too.

#include "engine/platform/JobThreadPool.h"
#include "engine/platform/Platform.h"

#include <aisos/sys.h>
#include <aisos/thread.h>
#include <atomic>
#include <stdlib.h>
#include <string.h>

#include <immintrin.h>

extern "C" [[noreturn]] void aisos_must_failed(char const* expression, char const* reason, char const* file, int line)
{
    aisos_logf("MUST(%s) failed at %s:%d: %s", expression, file, line, reason);
    abort();
}

namespace aisos::engine {

namespace {

char const* module_path(char const* path)
{
    if (strncmp(path, "/fs/", 4) == 0)
        return path + 3;
    return path;
}

Error error_from_abi(int64_t code, char const* what)
{
    switch (-code) {
    case AISOS_ENOENT: return Error::not_found(what);
    case AISOS_ENOMEM: return Error::no_memory();
    case AISOS_EACCES: return Error { ErrorCode::PermissionDenied, what };
    case AISOS_EISDIR:
    case AISOS_ENOTDIR:
    case AISOS_EINVAL: return Error::invalid(what);
    default: return Error { ErrorCode::IoError, what };
    }
}

} // namespace

void* platform_allocate(size_t size, size_t alignment)
{
    if (size == 0)
        size = 1;
    if (alignment < 16)
        alignment = 16;
    // aligned_alloc wants a multiple of the alignment.
    size_t rounded = (size + alignment - 1) & ~(alignment - 1);
    if (rounded < size)
        return nullptr;
    return aligned_alloc(alignment, rounded);
}

void platform_free(void* pointer) { free(pointer); }

ErrorOr<MappedFile> platform_map_file(char const* path)
{
    char const* name = module_path(path);
    struct aisos_file_stat stat {};
    int64_t result = aisos_file_stat(name, &stat);
    if (result < 0)
        return error_from_abi(result, "cannot open file");
    if (stat.is_directory)
        return Error::invalid("not a regular file");
    MappedFile file;
    if (stat.size == 0) {
        static u8 const empty = 0;
        file.data = &empty;
        return file;
    }
    uint64_t size = 0;
    int64_t error = 0;
    void const* data = aisos_file_map(name, &size, &error);
    if (!data)
        return error_from_abi(error, "cannot map file");
    file.data = static_cast<u8 const*>(data);
    file.size = static_cast<size_t>(size);
    file.handle = const_cast<void*>(data);
    return file;
}

void platform_unmap_file(MappedFile& file)
{
    if (file.handle)
        aisos_unmap(file.handle, file.size);
    file = {};
}

ErrorOr<void> platform_list_directory(char const* path, void (*visit)(void* context, char const* name), void* context)
{
    char const* name = module_path(path);
    size_t capacity = 16 * 1024;
    for (;;) {
        char* buffer = static_cast<char*>(malloc(capacity + 1));
        if (!buffer)
            return Error::no_memory();
        int64_t length = aisos_file_list(name, buffer, capacity);
        if (length == -AISOS_E2BIG && capacity < (64u << 20)) {
            free(buffer);
            capacity *= 4;
            continue;
        }
        if (length < 0) {
            free(buffer);
            return error_from_abi(length, "cannot list directory");
        }
        // Lines "<type> <size> <name>\n"; names may contain spaces, not newlines.
        buffer[length] = 0;
        char* line = buffer;
        char* end = buffer + length;
        while (line < end) {
            char* newline = static_cast<char*>(memchr(line, '\n', static_cast<size_t>(end - line)));
            if (!newline)
                newline = end;
            *newline = 0;
            char* first_space = strchr(line, ' ');
            char* second_space = first_space ? strchr(first_space + 1, ' ') : nullptr;
            if (second_space && second_space[1])
                visit(context, second_space + 1);
            line = newline + 1;
        }
        free(buffer);
        return {};
    }
}

u64 platform_monotonic_ns() { return static_cast<u64>(aisos_now_ns()); }

void platform_log(LogLevel level, char const* message)
{
    static char const* const names[] = { "debug", "info", "warning", "error" };
    aisos_logf("engine %s: %s", names[static_cast<int>(level)], message);
}

unsigned platform_cpu_count()
{
    struct aisos_system_info info {};
    if (aisos_sys_system_info(&info) < 0 || info.cpu_count == 0)
        return 1;
    return info.cpu_count;
}

namespace {

struct ModuleThreads {
    struct Thread {
        aisos_thread_t handle;
        void (*entry)(void*);
        void* argument;
    };
    static int64_t trampoline(void* raw)
    {
        auto* thread = static_cast<Thread*>(raw);
        thread->entry(thread->argument);
        return 0;
    }
    static bool spawn(Thread& thread, void (*entry)(void*), void* argument)
    {
        thread.entry = entry;
        thread.argument = argument;
        return aisos_thread_create(&thread.handle, &trampoline, &thread) >= 0;
    }
    static void join(Thread& thread) { aisos_thread_join(&thread.handle, nullptr); }
    static void futex_wait(std::atomic<u32>& word, u32 expected)
    {
        aisos_sys_futex_wait(reinterpret_cast<uint32_t const*>(&word), expected, -1);
    }
    static void futex_wake_all(std::atomic<u32>& word)
    {
        aisos_sys_futex_wake(reinterpret_cast<uint32_t const*>(&word), 0xffffffffu);
    }
    static void cpu_relax() { _mm_pause(); }
    static void yield() { aisos_yield(); }
};

} // namespace

ErrorOr<ThreadPool*> platform_create_thread_pool(unsigned thread_count) { return JobThreadPool<ModuleThreads>::create(thread_count); }

void platform_destroy_thread_pool(ThreadPool* pool) { delete pool; }

} // namespace aisos::engine
