// AISOS_SYS_RESPONSE_WRITE (request, data, length): appends to the answer's
// body. Blocks while the 64 KiB buffer toward the client is full; returns
// -AISOS_ECANCELED once the client went away (the module should stop).
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Requests.h"

namespace aisos::syscall {

int64_t sys_response_write(const Arguments& arguments)
{
    uint64_t source = arguments.a1, length = arguments.a2;
    if (!is_module_buffer(source, length, BufferAccess::Read))
        return error_result(AISOS_EFAULT);
    RequestReference reference(arguments.a0);
    pkg::ModuleRequest* request = reference.get();
    if (!request)
        return error_result(AISOS_ENOENT);
    {
        SpinlockGuard guard(request->lock);
        if (!request->started) {
            request->started = true; // an implicit 200 text/plain
            constexpr char type[] = "text/plain; charset=utf-8";
            __builtin_memcpy(request->content_type, type, sizeof(type) - 1);
            request->content_type_length = sizeof(type) - 1;
        }
        if (request->ended)
            return error_result(AISOS_EINVAL);
    }
    uint8_t chunk[1024];
    uint64_t done = 0;
    while (done < length) {
        size_t want = length - done < sizeof(chunk) ? length - done : sizeof(chunk);
        if (auto copied = proc::copy_from_user(chunk, source + done, want); copied.is_error())
            return error_result(copied.error());
        size_t offset = 0;
        while (offset < want) {
            bool gone = false;
            auto waited = proc::wait_until(request->writers, [&] {
                SpinlockGuard guard(request->lock);
                gone = request->client_gone || request->module_gone;
                return gone || request->ring_used() < pkg::ModuleRequest::ring_capacity;
            });
            if (waited != proc::WaitResult::Ready || gone)
                return error_result(AISOS_ECANCELED);
            SpinlockGuard guard(request->lock);
            size_t room = pkg::ModuleRequest::ring_capacity - request->ring_used();
            size_t take = want - offset < room ? want - offset : room;
            for (size_t i = 0; i < take; ++i)
                request->ring[(request->ring_write + i) % pkg::ModuleRequest::ring_capacity] = chunk[offset + i];
            request->ring_write += take;
            offset += take;
        }
        done += want;
    }
    return 0;
}

} // namespace aisos::syscall
