// AISOS_SYS_RESPONSE_END (request): the answer is complete; the id is gone.
#include "kernel/syscall/Requests.h"

namespace aisos::syscall {

int64_t sys_response_end(const Arguments& arguments)
{
    RequestReference reference(arguments.a0);
    pkg::ModuleRequest* request = reference.get();
    if (!request)
        return error_result(AISOS_ENOENT);
    {
        SpinlockGuard guard(request->lock);
        if (!request->started) {
            request->started = true; // an empty 200
            request->status = 200;
        }
        request->ended = true;
    }
    current_service()->finish_active(arguments.a0);
    return 0;
}

} // namespace aisos::syscall
