// AISOS_SYS_THREAD_CREATE (entry, argument, stack_top): a new thread of the
// calling module, started at entry with RDI = argument and RSP = stack_top.
#include "kernel/proc/Process.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_thread_create(const Arguments& arguments)
{
    auto thread = current_process().create_thread(arguments.a0, arguments.a2, arguments.a1);
    if (thread.is_error())
        return error_result(thread.error());
    return static_cast<int64_t>(thread.value()->id);
}

} // namespace aisos::syscall
