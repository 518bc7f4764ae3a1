// AISOS_SYS_MEMORY_UNMAP (address, length): removes a whole mapping that
// memory_map or file_map returned.
#include "kernel/proc/Process.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_memory_unmap(const Arguments& arguments)
{
    return result_or_error(current_process().address_space().unmap(arguments.a0, arguments.a1));
}

} // namespace aisos::syscall
