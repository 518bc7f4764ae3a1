#pragma once

// The bridge between an HTTP request on the network core and the module
// that serves its route. The network core's handler collects the request
// (body up to AISOS_REQUEST_BODY_MAX), queues it on the module's
// ModuleService, and then, from on_poll, streams out whatever the module
// wrote (chunked). The module takes requests with request_receive and
// answers with response_start/write/end. Either side may go away first:
//   client gone  -> the module's response_write returns -ECANCELED
//   module gone  -> 503 if nothing was sent yet, else the connection is cut
//                   (so the client sees a truncated chunked body, not a
//                   silently short answer)
// A ModuleRequest is reference counted: one reference for the handler,
// one for the service while the module holds it.

#include "kernel/lib/Spinlock.h"
#include "kernel/proc/WaitQueue.h"
#include "lib/base/ErrorOr.h"
#include "rpk/sdk/include/aisos/abi.h"

#include <atomic>
#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::pkg {

struct ModuleRequest {
    static constexpr size_t ring_capacity = 64 * 1024;

    uint64_t id { 0 };
    std::atomic<uint32_t> references { 2 };

    // The request, fixed once queued.
    aisos_request info {};
    uint8_t* body { nullptr };
    size_t body_length { 0 };

    // The response, under lock.
    Spinlock lock;
    bool started { false };
    bool ended { false };
    bool client_gone { false };
    bool module_gone { false };
    uint32_t status { 200 };
    char content_type[AISOS_REQUEST_CONTENT_TYPE_MAX] {};
    size_t content_type_length { 0 };
    uint8_t* ring { nullptr }; // ring_capacity bytes
    uint64_t ring_read { 0 };  // counters; used = ring_write - ring_read
    uint64_t ring_write { 0 };
    proc::WaitQueue writers; // module threads waiting for room

    ModuleRequest* next { nullptr }; // the service's pending queue

    static ErrorOr<ModuleRequest*> create(std::span<const uint8_t> body);
    void release(); // drops one reference; the last frees it
    size_t ring_used() const { return ring_write - ring_read; }
};

} // namespace aisos::pkg
