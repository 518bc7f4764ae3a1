#pragma once

// The engine's thread pool protocol, shared by every platform (POSIX and
// the aiSOS module SDK); each platform supplies only its primitives.
//
// Job word: [generation:32][closed:1][joined:31]. run() publishes a new
// generation and wakes sleeping workers; workers join the current
// generation with a CAS while it is open; run() does its own share, closes
// the job and then waits only for the workers that joined. A worker that
// was descheduled and missed the job simply finds it closed (see
// ThreadPool in Platform.h: tasks claim work dynamically).
//
// Host must provide:
//   using Thread = ...;                                  a thread handle
//   static bool spawn(Thread&, void (*entry)(void*), void* argument);
//   static void join(Thread&);
//   static void futex_wait(std::atomic<u32>&, u32 expected);
//   static void futex_wake_all(std::atomic<u32>&);
//   static void cpu_relax();                             one spin-wait step
//   static void yield();                                 give the CPU away

#include "engine/platform/Platform.h"

#include <atomic>
#include <new>
#include <stdlib.h>

namespace aisos::engine {

template<typename Host>
class JobThreadPool final : public ThreadPool {
public:
    static ErrorOr<ThreadPool*> create(unsigned thread_count)
    {
        if (thread_count == 0 || thread_count > 1024)
            return Error::invalid("thread count must be 1..1024");
        auto* pool = new (std::nothrow) JobThreadPool(thread_count);
        if (!pool)
            return Error::no_memory();
        if (auto result = pool->start(); result.is_error()) {
            delete pool;
            return result.error();
        }
        return static_cast<ThreadPool*>(pool);
    }

    ~JobThreadPool() override
    {
        m_stopping.store(true);
        m_generation.fetch_add(1);
        Host::futex_wake_all(m_generation);
        for (unsigned i = 0; i < m_started; ++i)
            Host::join(m_threads[i]);
        free(m_threads);
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
            Host::futex_wake_all(m_generation);
        task(context, 0, m_count);
        u64 closed = m_job.fetch_or(s_closed, std::memory_order_acq_rel);
        u32 joined = static_cast<u32>(closed & s_joined_mask);
        u32 rounds = 0;
        while (m_finished.load(std::memory_order_acquire) != joined) {
            // Spin briefly, then give the CPU away: on a loaded host (or
            // vCPU) spinning on a preempted peer only burns its time.
            if (++rounds < 2000)
                Host::cpu_relax();
            else
                Host::yield();
        }
    }

private:
    static constexpr u64 s_closed = u64(1) << 31;
    static constexpr u64 s_joined_mask = s_closed - 1;

    explicit JobThreadPool(unsigned count)
        : m_count(count)
    {
    }

    ErrorOr<void> start()
    {
        if (m_count <= 1)
            return {};
        m_threads = static_cast<typename Host::Thread*>(calloc(m_count - 1, sizeof(typename Host::Thread)));
        if (!m_threads)
            return Error::no_memory();
        for (unsigned i = 0; i + 1 < m_count; ++i) {
            if (!Host::spawn(m_threads[i], &worker_entry, this))
                return Error { ErrorCode::Busy, "cannot create an engine thread" };
            ++m_started;
        }
        return {};
    }

    static void worker_entry(void* raw) { static_cast<JobThreadPool*>(raw)->worker_loop(); }

    void worker_loop()
    {
        u32 seen = 0;
        for (;;) {
            u32 now = seen;
            for (int spin = 0; spin < 20000; ++spin) {
                now = m_generation.load(std::memory_order_acquire);
                if (now != seen)
                    break;
                Host::cpu_relax();
            }
            while (now == seen) {
                m_sleepers.fetch_add(1, std::memory_order_seq_cst);
                Host::futex_wait(m_generation, seen);
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
    typename Host::Thread* m_threads { nullptr };
    Task m_task { nullptr };
    void* m_context { nullptr };
    alignas(64) std::atomic<u32> m_generation { 0 };
    alignas(64) std::atomic<u64> m_job { 0 };
    alignas(64) std::atomic<u32> m_finished { 0 };
    alignas(64) std::atomic<u32> m_sleepers { 0 };
    std::atomic<bool> m_stopping { false };
};

} // namespace aisos::engine
