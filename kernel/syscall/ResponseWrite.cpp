// AISOS_SYS_RESPONSE_WRITE (request, data, length): appends to the answer's
// body. Blocks while the 64 KiB buffer toward the client is full; returns
// -AISOS_ECANCELED once the client went away (the module should stop).
#include "kernel/mm/Heap.h"
#include "lib/json/Utf8.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Requests.h"

namespace aisos::syscall {

namespace {

// A WebSocket connection: each call is one text message, kept whole in the
// ring as a 4-byte length and the bytes, so the network core sends it as
// one frame.
int64_t write_message(pkg::ModuleRequest& request, uint64_t source, uint64_t length)
{
    constexpr size_t header = 4;
    if (length > pkg::ModuleRequest::ring_capacity - header)
        return error_result(AISOS_E2BIG);
    auto allocated = heap::allocate(length > 0 ? length : 1);
    if (allocated.is_error())
        return error_result(AISOS_ENOMEM);
    auto* message = static_cast<uint8_t*>(allocated.value());
    int64_t result = 0;
    if (auto copied = proc::copy_from_user(message, source, length); copied.is_error()) {
        result = error_result(copied.error());
    } else if (!json::is_valid_utf8({ reinterpret_cast<const char*>(message), length })) {
        result = error_result(AISOS_EINVAL); // a text frame must be UTF-8 (RFC 6455 §5.6)
    } else {
        bool gone = false;
        auto waited = proc::wait_until(request.writers, [&] {
            SpinlockGuard guard(request.lock);
            gone = request.client_gone || request.module_gone || request.ended;
            return gone || pkg::ModuleRequest::ring_capacity - request.ring_used() >= header + length;
        });
        if (waited != proc::WaitResult::Ready || gone) {
            result = error_result(AISOS_ECANCELED);
        } else {
            SpinlockGuard guard(request.lock);
            auto put = [&](uint8_t byte) { request.ring[request.ring_write++ % pkg::ModuleRequest::ring_capacity] = byte; };
            for (size_t i = 0; i < header; ++i)
                put(static_cast<uint8_t>(length >> (8 * i)));
            for (size_t i = 0; i < length; ++i)
                put(message[i]);
        }
    }
    heap::free(message);
    return result;
}

} // namespace

int64_t sys_response_write(const Arguments& arguments)
{
    uint64_t source = arguments.a1, length = arguments.a2;
    if (!is_module_buffer(source, length, BufferAccess::Read))
        return error_result(AISOS_EFAULT);
    RequestReference reference(arguments.a0);
    pkg::ModuleRequest* request = reference.get();
    if (!request)
        return error_result(AISOS_ENOENT);
    if (request->info.kind == AISOS_REQUEST_WEBSOCKET_OPEN)
        return write_message(*request, source, length);
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
