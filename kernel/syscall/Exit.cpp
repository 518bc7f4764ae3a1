// AISOS_SYS_EXIT (code): ends every thread of the module.
#include "kernel/proc/Process.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_exit(const Arguments& arguments)
{
    auto code = static_cast<int64_t>(arguments.a0);
    current_process().kill(proc::ExitKind::Exited, code);
    proc::exit_thread(current_thread(), code);
}

} // namespace aisos::syscall
