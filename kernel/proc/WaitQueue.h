#pragma once

// Threads waiting for something: an intrusive list behind a spinlock. The
// waiting side checks its condition under lock(), and if it must wait,
// wait_until() links it and blocks it in one step, so a wake that happens
// after the check is never lost.
//
//   bool ready = proc::wait_until(queue, [&] { return something_arrived; }, deadline_ns);
//   // the waker, after making something_arrived true:
//   queue.wake_all();

#include "kernel/lib/Spinlock.h"
#include "kernel/proc/Thread.h"

#include <stdint.h>

namespace aisos::proc {

class WaitQueue {
public:
    Spinlock& lock() { return m_lock; }

    // With lock() held and interrupts off.
    void link_locked(Thread&, uint64_t key);
    void unlink_locked(Thread&); // no-op when not linked here
    uint32_t wake_locked(uint32_t count, uint64_t key); // key 0 = any
    bool empty_locked() const { return m_head == nullptr; }

    uint32_t wake_all();
    uint32_t wake(uint32_t count, uint64_t key = 0);

private:
    Spinlock m_lock;
    Thread* m_head { nullptr };
    Thread* m_tail { nullptr };
};

enum class WaitResult : uint8_t { Ready, TimedOut, Killed };

// Blocks the current thread until ready() (called with the queue's lock
// held, interrupts off) is true, its process is being killed, or
// deadline_ns (monotonic; 0 = none) passes. key is what wake(count, key)
// matches (futex address); 0 for plain queues.
WaitResult wait_until_impl(WaitQueue&, bool (*ready)(void*), void* context, uint64_t deadline_ns, uint64_t key);

template<typename Ready>
WaitResult wait_until(WaitQueue& queue, Ready ready, uint64_t deadline_ns = 0, uint64_t key = 0)
{
    return wait_until_impl(queue, [](void* context) { return (*static_cast<Ready*>(context))(); }, &ready, deadline_ns, key);
}

} // namespace aisos::proc
