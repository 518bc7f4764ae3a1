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
#include <sched.h>
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

inline void wait_pause(u32& rounds)
{
    // Spin briefly, then give the CPU away: on a loaded host (or vCPU)
    // spinning on a preempted peer only burns the time it needs.
    if (++rounds < 2000)
        cpu_relax();
    else
        sched_yield();
}

// Job word: [generation:32][closed:1][joined:31]. Workers join the current
// generation with a CAS while it is open; run() closes it once its own share
// is done and then waits only for the workers that joined.
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
    }

    ErrorOr<void> start()
    {
        if (m_count <= 1)
            return {};
        m_threads = static_cast<pthread_t*>(std::calloc(m_count - 1, sizeof(pthread_t)));
        if (!m_threads)
            return Error::no_memory();
        for (unsigned i = 0; i + 1 < m_count; ++i) {
            if (pthread_create(&m_threads[i], nullptr, &worker_entry, this) != 0)
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

    static void* worker_entry(void* raw)
    {
        static_cast<PosixThreadPool*>(raw)->worker_loop();
        return nullptr;
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
            // Join the job if it is still this generation's and open.
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
    pthread_t* m_threads { nullptr };
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
