// The engine's platform inside an aiSOS module (rpk/llm), over the module
// SDK: memory from its malloc (large blocks are their own mappings), files
// mapped read-only by the kernel without copying (AISOS_SYS_FILE_MAP),
// directory listings from AISOS_SYS_FILE_LIST, threads and futexes from the
// SDK. The counterpart of platform/posix/PosixPlatform.cpp.
//
// Paths are /fs paths as the module ABI names them ("/models/x.gguf"); a
// leading "/fs" is accepted and dropped, so "/fs/models/x.gguf" works too.

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

void futex_wait(std::atomic<u32>& word, u32 expected)
{
    aisos_sys_futex_wait(reinterpret_cast<uint32_t const*>(&word), expected, -1);
}

void futex_wake_all(std::atomic<u32>& word)
{
    aisos_sys_futex_wake(reinterpret_cast<uint32_t const*>(&word), 0xffffffffu);
}

inline void wait_pause(u32& rounds)
{
    // Spin briefly, then give the CPU away: spinning on a preempted peer
    // only burns the time it needs.
    if (++rounds < 2000)
        _mm_pause();
    else
        aisos_yield();
}

// The same protocol as the POSIX pool (see PosixPlatform.cpp). Job word:
// [generation:32][closed:1][joined:31]. Workers join the current generation
// with a CAS while it is open; run() closes it once its own share is done
// and then waits only for the workers that joined.
class AisosThreadPool final : public ThreadPool {
public:
    explicit AisosThreadPool(unsigned count)
        : m_count(count)
    {
    }

    ~AisosThreadPool() override
    {
        m_stopping.store(true);
        m_generation.fetch_add(1);
        futex_wake_all(m_generation);
        for (unsigned i = 0; i < m_started; ++i)
            aisos_thread_join(&m_threads[i], nullptr);
        free(m_threads);
    }

    ErrorOr<void> start()
    {
        if (m_count <= 1)
            return {};
        m_threads = static_cast<aisos_thread_t*>(calloc(m_count - 1, sizeof(aisos_thread_t)));
        if (!m_threads)
            return Error::no_memory();
        for (unsigned i = 0; i + 1 < m_count; ++i) {
            int64_t result = aisos_thread_create(&m_threads[i], &worker_entry, this);
            if (result < 0)
                return error_from_abi(result, "cannot create an engine thread");
            ++m_started;
        }
        return {};
    }

    unsigned thread_count() const override { return m_count; }

    void run(Task task, void* context) override
    {
        if (m_count <= 1) {
            task(context, 0, 1);
            return;
        }
        m_task = task;
        m_context = context;
        m_finished.store(0, std::memory_order_relaxed);
        u32 generation = m_generation.load(std::memory_order_relaxed) + 1;
        m_job.store(static_cast<u64>(generation) << 32, std::memory_order_release);
        m_generation.store(generation, std::memory_order_seq_cst);
        if (m_sleepers.load(std::memory_order_seq_cst) > 0)
            futex_wake_all(m_generation);
        task(context, 0, m_count);
        u64 closed = m_job.fetch_or(s_closed, std::memory_order_acq_rel);
        u32 joined = static_cast<u32>(closed & s_joined_mask);
        u32 rounds = 0;
        while (m_finished.load(std::memory_order_acquire) != joined)
            wait_pause(rounds);
    }

private:
    static constexpr u64 s_closed = u64(1) << 31;
    static constexpr u64 s_joined_mask = s_closed - 1;

    static int64_t worker_entry(void* raw)
    {
        static_cast<AisosThreadPool*>(raw)->worker_loop();
        return 0;
    }

    void worker_loop()
    {
        u32 seen = 0;
        for (;;) {
            u32 now = seen;
            for (int spin = 0; spin < 20000; ++spin) {
                now = m_generation.load(std::memory_order_acquire);
                if (now != seen)
                    break;
                _mm_pause();
            }
            while (now == seen) {
                m_sleepers.fetch_add(1, std::memory_order_seq_cst);
                futex_wait(m_generation, seen);
                m_sleepers.fetch_sub(1, std::memory_order_seq_cst);
                now = m_generation.load(std::memory_order_acquire);
            }
            seen = now;
            if (m_stopping.load())
                return;
            u64 job = m_job.load(std::memory_order_acquire);
            bool joined = false;
            while ((job >> 32) == now && !(job & s_closed)) {
                if (m_job.compare_exchange_weak(job, job + 1, std::memory_order_acq_rel)) {
                    joined = true;
                    break;
                }
            }
            if (!joined)
                continue;
            unsigned index = static_cast<unsigned>(job & s_joined_mask) + 1;
            m_task(m_context, index, m_count);
            m_finished.fetch_add(1, std::memory_order_release);
        }
    }

    unsigned m_count;
    unsigned m_started { 0 };
    aisos_thread_t* m_threads { nullptr };
    Task m_task { nullptr };
    void* m_context { nullptr };
    alignas(64) std::atomic<u32> m_generation { 0 };
    alignas(64) std::atomic<u64> m_job { 0 };
    alignas(64) std::atomic<u32> m_finished { 0 };
    alignas(64) std::atomic<u32> m_sleepers { 0 };
    std::atomic<bool> m_stopping { false };
};

} // namespace

ErrorOr<ThreadPool*> platform_create_thread_pool(unsigned thread_count)
{
    if (thread_count == 0 || thread_count > 1024)
        return Error::invalid("thread count must be 1..1024");
    auto* pool = new (std::nothrow) AisosThreadPool(thread_count);
    if (!pool)
        return Error::no_memory();
    if (auto result = pool->start(); result.is_error()) {
        delete pool;
        return result.error();
    }
    return static_cast<ThreadPool*>(pool);
}

void platform_destroy_thread_pool(ThreadPool* pool) { delete pool; }

} // namespace aisos::engine
