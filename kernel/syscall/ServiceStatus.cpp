// AISOS_SYS_SERVICE_STATUS (status): READY or LOADING; GET /health answers
// 503 "loading" while any module says LOADING (a model being mapped).
#include "kernel/proc/Process.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

int64_t sys_service_status(const Arguments& arguments)
{
    if (arguments.a0 != AISOS_SERVICE_READY && arguments.a0 != AISOS_SERVICE_LOADING)
        return error_result(AISOS_EINVAL);
    current_process().service_status.store(static_cast<uint32_t>(arguments.a0), std::memory_order_release);
    return 0;
}

} // namespace aisos::syscall
