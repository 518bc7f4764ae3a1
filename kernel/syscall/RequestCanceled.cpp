// AISOS_SYS_REQUEST_CANCELED (request): 1 when the client went away, so a
// long generation can stop without waiting for its next write to fail.
#include "kernel/syscall/Requests.h"

namespace aisos::syscall {

int64_t sys_request_canceled(const Arguments& arguments)
{
    RequestReference reference(arguments.a0);
    pkg::ModuleRequest* request = reference.get();
    if (!request)
        return error_result(AISOS_ENOENT);
    SpinlockGuard guard(request->lock);
    return request->client_gone ? 1 : 0;
}

} // namespace aisos::syscall
