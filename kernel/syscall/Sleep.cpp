// AISOS_SYS_SLEEP (nanoseconds): blocks the thread (the scheduler's timer
// scan wakes it within a tick of the deadline).
#include "kernel/cpu/Time.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/proc/WaitQueue.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

namespace {
proc::WaitQueue s_sleepers; // nobody wakes it: only deadlines end these waits
}

int64_t sys_sleep(const Arguments& arguments)
{
    auto duration = static_cast<int64_t>(arguments.a0);
    if (duration <= 0)
        return 0;
    proc::wait_until(s_sleepers, [] { return false; }, deadline_after(duration));
    return 0;
}

} // namespace aisos::syscall
