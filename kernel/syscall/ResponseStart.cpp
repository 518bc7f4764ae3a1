// AISOS_SYS_RESPONSE_START (request, status, content_type, length): the
// status line and type of the answer; the body follows with response_write.
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Requests.h"

namespace aisos::syscall {

int64_t sys_response_start(const Arguments& arguments)
{
    uint64_t status = arguments.a1, type_length = arguments.a3;
    if (status < 100 || status > 599 || type_length >= AISOS_REQUEST_CONTENT_TYPE_MAX)
        return error_result(AISOS_EINVAL);
    char type[AISOS_REQUEST_CONTENT_TYPE_MAX];
    if (auto copied = proc::copy_from_user(type, arguments.a2, type_length); copied.is_error())
        return error_result(copied.error());
    for (size_t i = 0; i < type_length; ++i) {
        if (static_cast<unsigned char>(type[i]) < 0x20 || type[i] == 0x7f)
            return error_result(AISOS_EINVAL); // no header injection
    }
    RequestReference reference(arguments.a0);
    pkg::ModuleRequest* request = reference.get();
    if (!request)
        return error_result(AISOS_ENOENT);
    SpinlockGuard guard(request->lock);
    if (request->started)
        return error_result(AISOS_EINVAL);
    request->status = static_cast<uint32_t>(status);
    __builtin_memcpy(request->content_type, type, type_length);
    request->content_type_length = type_length;
    request->started = true;
    return request->client_gone ? error_result(AISOS_ECANCELED) : 0;
}

} // namespace aisos::syscall
