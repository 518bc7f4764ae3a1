#include "kernel/proc/WaitQueue.h"

#include "kernel/cpu/Time.h"
#include "kernel/proc/Process.h"
#include "kernel/proc/Scheduler.h"

namespace aisos::proc {

void WaitQueue::link_locked(Thread& thread, uint64_t key)
{
    thread.futex_key = key;
    thread.waiting_on = this;
    thread.next_waiting = nullptr;
    thread.previous_waiting = m_tail;
    if (m_tail)
        m_tail->next_waiting = &thread;
    else
        m_head = &thread;
    m_tail = &thread;
}

void WaitQueue::unlink_locked(Thread& thread)
{
    if (thread.waiting_on != this)
        return;
    if (thread.previous_waiting)
        thread.previous_waiting->next_waiting = thread.next_waiting;
    else
        m_head = thread.next_waiting;
    if (thread.next_waiting)
        thread.next_waiting->previous_waiting = thread.previous_waiting;
    else
        m_tail = thread.previous_waiting;
    thread.next_waiting = thread.previous_waiting = nullptr;
    thread.waiting_on = nullptr;
}

uint32_t WaitQueue::wake_locked(uint32_t count, uint64_t key)
{
    uint32_t woken = 0;
    Thread* thread = m_head;
    while (thread && woken < count) {
        Thread* next = thread->next_waiting;
        if (key == 0 || thread->futex_key == key) {
            unlink_locked(*thread);
            scheduler::wake(*thread);
            ++woken;
        }
        thread = next;
    }
    return woken;
}

uint32_t WaitQueue::wake_all() { return wake(~0u, 0); }

uint32_t WaitQueue::wake(uint32_t count, uint64_t key)
{
    SpinlockGuard guard(m_lock);
    return wake_locked(count, key);
}

WaitResult wait_until_impl(WaitQueue& queue, bool (*ready)(void*), void* context, uint64_t deadline_ns, uint64_t key)
{
    Thread& self = *scheduler::current();
    bool interrupts_were_enabled = cpu::interrupts_enabled();
    cpu::disable_interrupts();
    queue.lock().lock();
    WaitResult result;
    for (;;) {
        if (ready(context)) {
            result = WaitResult::Ready;
            break;
        }
        if (self.process->is_killed()) {
            result = WaitResult::Killed;
            break;
        }
        if (deadline_ns != 0 && time::uptime_ns() >= deadline_ns) {
            result = WaitResult::TimedOut;
            break;
        }
        queue.link_locked(self, key);
        scheduler::prepare_to_block(deadline_ns);
        queue.lock().unlock();
        scheduler::block();
        queue.lock().lock();
        queue.unlink_locked(self);
    }
    queue.lock().unlock();
    self.wake_deadline_ns.store(0, std::memory_order_relaxed);
    if (interrupts_were_enabled)
        cpu::enable_interrupts();
    return result;
}

} // namespace aisos::proc
