// POSIX implementation of the platform interface for the native build.

#include "engine/platform/Platform.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#    include <immintrin.h>
#endif

namespace aisos::engine {

void* platform_allocate(size_t size, size_t alignment)
{
    if (size == 0)
        size = 1;
    void* pointer = nullptr;
    if (posix_memalign(&pointer, alignment, size) != 0)
        return nullptr;
    return pointer;
}

void platform_free(void* pointer) { std::free(pointer); }

ErrorOr<MappedFile> platform_map_file(char const* path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return Error::not_found("cannot open file");
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return Error::invalid("not a regular file");
    }
    MappedFile file;
    file.size = static_cast<size_t>(st.st_size);
    if (file.size == 0) {
        close(fd);
        static u8 const empty = 0;
        file.data = &empty;
        return file;
    }
    void* data = mmap(nullptr, file.size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (data == MAP_FAILED)
        return Error { ErrorCode::IoError, "cannot map file" };
    file.data = static_cast<u8 const*>(data);
    file.handle = data;
    return file;
}

void platform_unmap_file(MappedFile& file)
{
    if (file.handle)
        munmap(file.handle, file.size);
    file = {};
}

ErrorOr<void> platform_list_directory(char const* path, void (*visit)(void*, char const*), void* context)
{
    DIR* dir = opendir(path);
    if (!dir)
        return Error::not_found("cannot open directory");
    while (auto* entry = readdir(dir)) {
        char const* name = entry->d_name;
        if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)))
            continue;
        visit(context, name);
    }
    closedir(dir);
    return {};
}

u64 platform_monotonic_ns()
{
    timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<u64>(ts.tv_sec) * 1000000000ull + static_cast<u64>(ts.tv_nsec);
}

void platform_log(LogLevel level, char const* message)
{
    static char const* const names[] = { "debug", "info", "warning", "error" };
    std::fprintf(stderr, "engine %s: %s\n", names[static_cast<int>(level)], message);
}

unsigned platform_cpu_count()
{
    long count = sysconf(_SC_NPROCESSORS_ONLN);
    return count > 0 ? static_cast<unsigned>(count) : 1;
}

namespace {

// Plain futex calls: GCC 12's std::atomic::wait can lose wake-ups (it
// waits on a shared version counter), which deadlocked the pool.
void futex_wait(std::atomic<u32>& word, u32 expected)
{
    syscall(SYS_futex, reinterpret_cast<u32*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

void futex_wake_all(std::atomic<u32>& word)
{
    syscall(SYS_futex, reinterpret_cast<u32*>(&word), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
}

inline void cpu_relax()
{
#if defined(__x86_64__)
    _mm_pause();
#endif
}

// Workers spin on a generation counter for a short while after each job
// (the next job usually follows within microseconds during a forward pass),
// then sleep in a futex wait so an idle engine costs no CPU.
class PosixThreadPool final : public ThreadPool {
public:
    explicit PosixThreadPool(unsigned count)
        : m_count(count)
    {
    }

    ~PosixThreadPool() override
    {
        m_stopping.store(true);
        m_generation.fetch_add(1);
        futex_wake_all(m_generation);
        for (unsigned i = 0; i < m_started; ++i)
            pthread_join(m_threads[i], nullptr);
        std::free(m_threads);
        std::free(m_worker_args);
    }

    ErrorOr<void> start()
    {
        if (m_count <= 1)
            return {};
        m_threads = static_cast<pthread_t*>(std::calloc(m_count - 1, sizeof(pthread_t)));
        m_worker_args = static_cast<WorkerArg*>(std::calloc(m_count - 1, sizeof(WorkerArg)));
        if (!m_threads || !m_worker_args)
            return Error::no_memory();
        for (unsigned i = 0; i + 1 < m_count; ++i) {
            m_worker_args[i] = { this, i + 1 };
            if (pthread_create(&m_threads[i], nullptr, &worker_entry, &m_worker_args[i]) != 0)
                return Error { ErrorCode::Busy, "cannot create thread" };
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
        m_pending.store(m_count - 1, std::memory_order_relaxed);
        m_generation.fetch_add(1, std::memory_order_seq_cst);
        if (m_sleepers.load(std::memory_order_seq_cst) > 0)
            futex_wake_all(m_generation);
        task(context, 0, m_count);
        while (m_pending.load(std::memory_order_acquire) != 0)
            cpu_relax();
    }

private:
    struct WorkerArg {
        PosixThreadPool* pool;
        unsigned index;
    };

    static void* worker_entry(void* raw)
    {
        auto* arg = static_cast<WorkerArg*>(raw);
        arg->pool->worker_loop(arg->index);
        return nullptr;
    }

    void worker_loop(unsigned index)
    {
        u32 seen = m_generation.load(std::memory_order_acquire);
        for (;;) {
            u32 now = seen;
            for (int spin = 0; spin < 200000; ++spin) {
                now = m_generation.load(std::memory_order_acquire);
                if (now != seen)
                    break;
                cpu_relax();
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
            m_task(m_context, index, m_count);
            m_pending.fetch_sub(1, std::memory_order_release);
        }
    }

    unsigned m_count;
    unsigned m_started { 0 };
    pthread_t* m_threads { nullptr };
    WorkerArg* m_worker_args { nullptr };
    Task m_task { nullptr };
    void* m_context { nullptr };
    alignas(64) std::atomic<u32> m_generation { 0 };
    alignas(64) std::atomic<u32> m_pending { 0 };
    alignas(64) std::atomic<u32> m_sleepers { 0 };
    std::atomic<bool> m_stopping { false };
};

} // namespace

ErrorOr<ThreadPool*> platform_create_thread_pool(unsigned thread_count)
{
    if (thread_count == 0 || thread_count > 1024)
        return Error::invalid("thread count must be 1..1024");
    auto* pool = new (std::nothrow) PosixThreadPool(thread_count);
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
