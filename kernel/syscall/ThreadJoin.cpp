// AISOS_SYS_THREAD_JOIN (thread id, int64* code or NULL): waits for the
// thread to end and frees it.
#include "kernel/proc/Process.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_thread_join(const Arguments& arguments)
{
    // Check the output first: after the join the thread is gone for good.
    if (arguments.a1 != 0) {
        if (auto checked = proc::write_user<int64_t>(arguments.a1, 0); checked.is_error())
            return error_result(checked.error());
    }
    auto code = current_process().join_thread(arguments.a0);
    if (code.is_error())
        return error_result(code.error());
    if (arguments.a1 != 0) {
        if (auto written = proc::write_user<int64_t>(arguments.a1, code.value()); written.is_error())
            return error_result(written.error());
    }
    return 0;
}

} // namespace aisos::syscall
