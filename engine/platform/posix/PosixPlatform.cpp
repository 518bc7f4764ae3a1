// POSIX implementation of the platform interface for the native build.

#include "engine/platform/JobThreadPool.h"
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

struct PosixThreads {
    struct Thread {
        pthread_t handle;
        void (*entry)(void*);
        void* argument;
    };
    static void* trampoline(void* raw)
    {
        auto* thread = static_cast<Thread*>(raw);
        thread->entry(thread->argument);
        return nullptr;
    }
    static bool spawn(Thread& thread, void (*entry)(void*), void* argument)
    {
        thread.entry = entry;
        thread.argument = argument;
        return pthread_create(&thread.handle, nullptr, &trampoline, &thread) == 0;
    }
    static void join(Thread& thread) { pthread_join(thread.handle, nullptr); }
    // Plain futex calls: GCC 12's std::atomic::wait can lose wake-ups (it
    // waits on a shared version counter), which deadlocked the pool.
    static void futex_wait(std::atomic<u32>& word, u32 expected)
    {
        syscall(SYS_futex, reinterpret_cast<u32*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
    }
    static void futex_wake_all(std::atomic<u32>& word)
    {
        syscall(SYS_futex, reinterpret_cast<u32*>(&word), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
    }
    static void cpu_relax()
    {
#if defined(__x86_64__)
        _mm_pause();
#endif
    }
    static void yield() { sched_yield(); }
};

} // namespace

ErrorOr<ThreadPool*> platform_create_thread_pool(unsigned thread_count) { return JobThreadPool<PosixThreads>::create(thread_count); }

void platform_destroy_thread_pool(ThreadPool* pool) { delete pool; }

} // namespace aisos::engine
