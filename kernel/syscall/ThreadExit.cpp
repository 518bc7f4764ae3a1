// AISOS_SYS_THREAD_EXIT (code): ends the calling thread; the module ends
// when its last thread does.
#include "kernel/proc/Process.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_thread_exit(const Arguments& arguments) { proc::exit_thread(current_thread(), static_cast<int64_t>(arguments.a0)); }

} // namespace aisos::syscall
