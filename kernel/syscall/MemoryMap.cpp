// AISOS_SYS_MEMORY_MAP (length, flags): zeroed, page-aligned memory,
// charged to the module's max_memory.
#include "kernel/proc/Process.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_memory_map(const Arguments& arguments)
{
    uint64_t flags = arguments.a1;
    if ((flags & ~uint64_t(AISOS_MAP_READ | AISOS_MAP_WRITE)) != 0 || arguments.a0 == 0)
        return error_result(AISOS_EINVAL);
    bool writable = (flags & AISOS_MAP_WRITE) != 0;
    auto address = current_process().address_space().map_anonymous(arguments.a0, writable, proc::RegionKind::Anonymous);
    if (address.is_error())
        return error_result(address.error());
    return static_cast<int64_t>(address.value());
}

} // namespace aisos::syscall
