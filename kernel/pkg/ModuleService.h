#pragma once

// One per running module process: the queue of requests waiting for the
// module (request_receive) and the table of requests it is answering.
// Requests come from the network core; module threads take and answer them
// through the request/response syscalls.

#include "kernel/pkg/ModuleRequest.h"
#include "kernel/proc/WaitQueue.h"

namespace aisos::pkg {

class ModuleService {
public:
    static constexpr size_t max_pending = 64;
    static constexpr size_t max_active = 64;

    // Network core: queue a request (takes the service's reference). Busy
    // when the queue is full, NotFound when the module is gone.
    ErrorOr<void> submit(ModuleRequest&);

    // Module side. receive() blocks until a request is queued (or the
    // deadline passes / the process is killed). HTTP requests and WebSocket
    // connections then become active under their id; for WebSocket messages
    // and close notices the caller owns the service's reference and
    // releases it once delivered.
    enum class Receive : uint8_t { Got, TimedOut, Killed, TooManyActive };
    Receive receive(ModuleRequest*& out, uint64_t deadline_ns, size_t body_capacity, bool& body_too_big);
    ModuleRequest* find_active(uint64_t id); // with a reference for the caller to release()
    void finish_active(uint64_t id); // response_end: drops the service's reference

    // The process died: every queued and active request learns it.
    void shut_down();

private:
    Spinlock m_lock; // m_active and m_dead (the pending queue is under m_waiters' lock)
    proc::WaitQueue m_waiters;
    ModuleRequest* m_head { nullptr };
    ModuleRequest* m_tail { nullptr };
    size_t m_pending { 0 };
    ModuleRequest* m_active[max_active] {};
    bool m_dead { false };
};

} // namespace aisos::pkg
