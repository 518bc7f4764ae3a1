// AISOS_SYS_CLOCK_MONOTONIC (): nanoseconds since boot (TSC).
#include "kernel/cpu/Time.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_clock_monotonic(const Arguments&) { return static_cast<int64_t>(time::uptime_ns()); }

} // namespace aisos::syscall
