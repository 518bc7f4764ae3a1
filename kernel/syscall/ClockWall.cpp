// AISOS_SYS_CLOCK_WALL (): nanoseconds since 1970 UTC. The RTC counts
// seconds; the TSC supplies the fraction so the clock moves smoothly.
#include "kernel/cpu/Rtc.h"
#include "kernel/cpu/Time.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_clock_wall(const Arguments&)
{
    uint64_t seconds = rtc::unix_seconds();
    return static_cast<int64_t>(seconds * 1'000'000'000ull + time::uptime_ns() % 1'000'000'000ull);
}

} // namespace aisos::syscall
