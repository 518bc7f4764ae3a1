#pragma once

// A user-mode process: an address space, its threads, limits, and how it
// ended. Created by pkg/ for a module; the kernel never trusts anything it
// says (syscall/ validates every argument).
//
// Life: create() -> load() -> start() -> threads run -> every thread gone
// (exit, kill, fault) -> the scheduler tears the address space down and
// calls the exit callback once -> the last unref() frees the object.

#include "kernel/proc/AddressSpace.h"
#include "kernel/proc/Thread.h"
#include "kernel/proc/WaitQueue.h"
#include "kernel/lib/Spinlock.h"
#include "lib/base/ErrorOr.h"
#include "lib/rpk/Manifest.h"

#include <atomic>
#include <span>
#include <stdint.h>
#include <string_view>

namespace aisos::proc {

struct ProcessLimits {
    uint64_t max_memory { 64ull << 20 };
    uint32_t max_threads { 8 };
    Priority priority { Priority::Normal };
};

enum class ExitKind : uint8_t { Exited, Crashed, Killed };

class Process {
public:
    using ExitCallback = void (*)(Process&, void* context);

    static constexpr size_t main_stack_size = 1 << 20;

    static ErrorOr<Process*> create(std::string_view name, const ProcessLimits&);
    Process() = default; // for heap::create; use create()

    // Maps a validated static-PIE image at image_base, applies its
    // relocations, maps the main thread's stack and creates the main thread
    // (not yet runnable).
    ErrorOr<void> load(std::span<const uint8_t> elf);
    void start();
    // Frees a process whose load() failed or that was never started.
    void discard();

    ErrorOr<Thread*> create_thread(uint64_t entry, uint64_t stack_top, uint64_t argument);
    // Waits for the thread to end; frees it; returns its exit code.
    ErrorOr<int64_t> join_thread(uint64_t thread_id);

    // Ends every thread (the running ones at their next return to user
    // mode, blocked ones at once). The first call decides the exit kind.
    void kill(ExitKind, int64_t code);
    bool is_killed() const { return m_killed.load(std::memory_order_acquire); }

    uint64_t id() const { return m_id; }
    std::string_view name() const { return { m_name, m_name_length }; }
    const ProcessLimits& limits() const { return m_limits; }
    uint64_t page_table_root() const { return m_space->root(); }
    AddressSpace& address_space() { return *m_space; }
    uint32_t thread_count() const { return m_thread_slots; }
    ExitKind exit_kind() const { return m_exit_kind; }
    int64_t exit_code() const { return m_exit_code; }
    bool is_dead() const { return m_dead.load(std::memory_order_acquire); }

    // Called once, from the scheduler (interrupts off: keep it short), when
    // the last thread is gone and the memory is freed.
    void set_exit_callback(ExitCallback callback, void* context)
    {
        m_exit_callback = callback;
        m_exit_context = context;
    }

    // The module's permissions (owned by kernel/pkg, outlives the process).
    const rpk::Manifest* manifest { nullptr };
    // What serves this process's requests (kernel/pkg); opaque here.
    void* service { nullptr };

    // Reported by the module (service_status, metrics_publish syscalls).
    std::atomic<uint32_t> service_status { 0 };
    Spinlock metrics_lock;
    char* metrics_text { nullptr }; // heap, under metrics_lock
    size_t metrics_length { 0 };

    void ref() { m_references.fetch_add(1, std::memory_order_relaxed); }
    void unref();

private:
    friend void reap_thread(Thread&);
    friend void for_each_thread_impl(void (*)(void*, Thread&), void*);
    void tear_down();

    uint64_t m_id { 0 };
    char m_name[64] {};
    size_t m_name_length { 0 };
    ProcessLimits m_limits;
    AddressSpace* m_space { nullptr };

    Spinlock m_lock; // the thread list and counters
    Thread* m_threads { nullptr };
    Thread* m_main_thread { nullptr };
    uint32_t m_thread_slots { 0 }; // live threads plus zombies not yet joined
    uint32_t m_live_threads { 0 };
    WaitQueue m_join_queue;

    std::atomic<bool> m_killed { false };
    std::atomic<bool> m_dead { false };
    ExitKind m_exit_kind { ExitKind::Exited };
    int64_t m_exit_code { 0 };
    ExitCallback m_exit_callback { nullptr };
    void* m_exit_context { nullptr };
    std::atomic<uint32_t> m_references { 1 };

    Process* m_next { nullptr }; // the registry
};

// The scheduler's hooks.
void reap_thread(Thread&);           // a Dead thread left its CPU: free its stack
[[noreturn]] void exit_thread(Thread&, int64_t code);

void for_each_thread_impl(void (*visit)(void*, Thread&), void* context);
template<typename Visit>
void for_each_thread(Visit visit)
{
    for_each_thread_impl([](void* context, Thread& thread) { (*static_cast<Visit*>(context))(thread); }, &visit);
}

// A fault in user mode: the process is killed as crashed and the thread
// never returns. description names the exception.
[[noreturn]] void on_user_fault(const char* description, uint64_t rip, uint64_t address);

} // namespace aisos::proc
