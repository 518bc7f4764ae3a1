// AISOS_SYS_YIELD (): lets another runnable thread run first.
#include "kernel/proc/Scheduler.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_yield(const Arguments&)
{
    proc::scheduler::yield();
    return 0;
}

} // namespace aisos::syscall
