// AISOS_SYS_REQUEST_RECEIVE (struct aisos_request*, body, body_capacity,
// timeout_ns): waits for the next request to one of the module's routes.
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Requests.h"

namespace aisos::syscall {

int64_t sys_request_receive(const Arguments& arguments)
{
    uint64_t info_address = arguments.a0, body_address = arguments.a1, body_capacity = arguments.a2;
    if (!is_module_buffer(info_address, sizeof(aisos_request), BufferAccess::Write) || !is_module_buffer(body_address, body_capacity, BufferAccess::Write))
        return error_result(AISOS_EFAULT);
    // Prove both buffers writable before a request is taken off the queue,
    // so a bad pointer never loses a request.
    if (auto checked = proc::write_user<uint64_t>(info_address, 0); checked.is_error())
        return error_result(checked.error());
    if (body_capacity > 0) {
        if (auto checked = proc::write_user<uint8_t>(body_address + body_capacity - 1, 0); checked.is_error())
            return error_result(checked.error());
        if (auto checked = proc::write_user<uint8_t>(body_address, 0); checked.is_error())
            return error_result(checked.error());
    }
    pkg::ModuleService* service = current_service();
    if (!service)
        return error_result(AISOS_ENOENT);
    pkg::ModuleRequest* request = nullptr;
    bool body_too_big = false;
    auto received = service->receive(request, deadline_after(static_cast<int64_t>(arguments.a3)), body_capacity, body_too_big);
    if (body_too_big)
        return error_result(AISOS_E2BIG);
    switch (received) {
    case pkg::ModuleService::Receive::Got: break;
    case pkg::ModuleService::Receive::TimedOut: return error_result(AISOS_ETIMEDOUT);
    case pkg::ModuleService::Receive::TooManyActive: return error_result(AISOS_EBUSY);
    case pkg::ModuleService::Receive::Killed: return error_result(AISOS_ECANCELED);
    }
    // The buffers were checked above; another thread could have unmapped
    // them since: then the request is answered 500 rather than lost silently.
    auto copied = proc::copy_to_user(body_address, request->body, request->body_length);
    if (!copied.is_error())
        copied = proc::write_user(info_address, request->info);
    bool delivered_only = request->info.kind == AISOS_REQUEST_WEBSOCKET_MESSAGE || request->info.kind == AISOS_REQUEST_WEBSOCKET_CLOSE;
    if (delivered_only) {
        request->release();
        return result_or_error(copied);
    }
    if (copied.is_error()) {
        {
            SpinlockGuard guard(request->lock);
            request->status = 500;
            request->started = request->ended = true;
        }
        service->finish_active(request->id);
        return error_result(copied.error());
    }
    return 0;
}

} // namespace aisos::syscall
