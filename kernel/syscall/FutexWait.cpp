// AISOS_SYS_FUTEX_WAIT (address, expected, timeout_ns): sleeps while
// *address == expected, until futex_wake on the same address, the timeout,
// or the module's end. The compare and the sleep are one step under the
// bucket lock, so a wake between them is not lost.
#include "kernel/proc/Process.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/cpu/Time.h"
#include "kernel/syscall/Futex.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

namespace futex {

namespace {
proc::WaitQueue s_buckets[bucket_count];
}

uint64_t key(uint64_t process_id, uint64_t address) { return address | (process_id << 48); }

proc::WaitQueue& bucket(uint64_t key) { return s_buckets[(key >> 2) % bucket_count]; }

} // namespace futex

int64_t sys_futex_wait(const Arguments& arguments)
{
    uint64_t address = arguments.a0;
    auto expected = static_cast<uint32_t>(arguments.a1);
    if (address % 4 != 0 || !proc::is_user_range(address, 4))
        return error_result(AISOS_EINVAL);
    uint64_t deadline = deadline_after(static_cast<int64_t>(arguments.a2));
    proc::Thread& self = current_thread();
    uint64_t key = futex::key(self.process->id(), address);
    proc::WaitQueue& queue = futex::bucket(key);

    bool interrupts_were_enabled = cpu::interrupts_enabled();
    cpu::disable_interrupts();
    queue.lock().lock();
    int64_t result = 0;
    auto value = proc::read_user<uint32_t>(address);
    if (value.is_error()) {
        result = error_result(value.error());
    } else if (value.value() != expected) {
        result = error_result(AISOS_EAGAIN);
    } else if (!self.process->is_killed()) {
        queue.link_locked(self, key);
        proc::scheduler::prepare_to_block(deadline);
        queue.lock().unlock();
        proc::scheduler::block();
        queue.lock().lock();
        bool woken_by_wake = self.waiting_on == nullptr;
        queue.unlink_locked(self);
        self.wake_deadline_ns.store(0, std::memory_order_relaxed);
        if (!woken_by_wake && deadline != 0 && time::uptime_ns() >= deadline)
            result = error_result(AISOS_ETIMEDOUT);
    }
    queue.lock().unlock();
    if (interrupts_were_enabled)
        cpu::enable_interrupts();
    return result;
}

} // namespace aisos::syscall
