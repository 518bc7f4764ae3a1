// AISOS_SYS_FUTEX_WAKE (address, count): wakes up to count threads of the
// calling module waiting on address; returns how many.
#include "kernel/proc/Process.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Futex.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_futex_wake(const Arguments& arguments)
{
    uint64_t address = arguments.a0;
    if (address % 4 != 0 || !proc::is_user_range(address, 4))
        return error_result(AISOS_EINVAL);
    // The word must be the module's memory, as for futex_wait.
    if (auto readable = proc::read_user<uint32_t>(address); readable.is_error())
        return error_result(readable.error());
    auto count = static_cast<uint32_t>(arguments.a1);
    uint64_t key = futex::key(current_process().id(), address);
    return futex::bucket(key).wake(count, key);
}

} // namespace aisos::syscall
