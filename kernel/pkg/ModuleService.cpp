#include "kernel/pkg/ModuleService.h"

namespace aisos::pkg {

ErrorOr<void> ModuleService::submit(ModuleRequest& request)
{
    SpinlockGuard guard(m_waiters.lock());
    if (m_dead)
        return Error::not_found("module is not running");
    if (m_pending >= max_pending)
        return Error { ErrorCode::Busy, "module request queue is full" };
    request.next = nullptr;
    if (m_tail)
        m_tail->next = &request;
    else
        m_head = &request;
    m_tail = &request;
    ++m_pending;
    m_waiters.wake_locked(1, 0);
    return {};
}

ModuleService::Receive ModuleService::receive(ModuleRequest*& out, uint64_t deadline_ns, size_t body_capacity, bool& body_too_big)
{
    out = nullptr;
    body_too_big = false;
    bool too_many = false;
    // Taking the request inside the predicate (under the queue lock) makes
    // the check and the take one step when several threads receive.
    auto result = proc::wait_until(m_waiters, [&] {
        if (m_dead || !m_head)
            return m_dead;
        if (m_head->body_length > body_capacity) {
            body_too_big = true;
            return true;
        }
        ModuleRequest* request = m_head;
        // HTTP requests and WebSocket connections stay active until
        // response_end; WebSocket messages and close notices are delivered
        // and done.
        bool stays_active = request->info.kind == AISOS_REQUEST_HTTP || request->info.kind == AISOS_REQUEST_WEBSOCKET_OPEN;
        if (stays_active) {
            SpinlockGuard guard(m_lock);
            size_t slot = 0;
            while (slot < max_active && m_active[slot])
                ++slot;
            if (slot == max_active) {
                too_many = true;
                return true;
            }
            m_active[slot] = request;
        }
        m_head = request->next;
        if (!m_head)
            m_tail = nullptr;
        --m_pending;
        request->next = nullptr;
        out = request;
        return true;
    }, deadline_ns);
    if (out)
        return Receive::Got;
    if (too_many)
        return Receive::TooManyActive;
    if (result == proc::WaitResult::TimedOut)
        return Receive::TimedOut;
    return Receive::Killed; // killed, or the service shut down
}

ModuleRequest* ModuleService::find_active(uint64_t id)
{
    SpinlockGuard guard(m_lock);
    for (ModuleRequest* request : m_active) {
        if (request && request->id == id) {
            request->references.fetch_add(1, std::memory_order_relaxed);
            return request;
        }
    }
    return nullptr;
}

void ModuleService::finish_active(uint64_t id)
{
    ModuleRequest* found = nullptr;
    {
        SpinlockGuard guard(m_lock);
        for (ModuleRequest*& request : m_active) {
            if (request && request->id == id) {
                found = request;
                request = nullptr;
                break;
            }
        }
    }
    if (found)
        found->release();
}

void ModuleService::shut_down()
{
    ModuleRequest* pending;
    {
        SpinlockGuard guard(m_waiters.lock());
        m_dead = true;
        pending = m_head;
        m_head = m_tail = nullptr;
        m_pending = 0;
        m_waiters.wake_locked(~0u, 0);
    }
    ModuleRequest* active[max_active];
    {
        SpinlockGuard guard(m_lock);
        for (size_t i = 0; i < max_active; ++i) {
            active[i] = m_active[i];
            m_active[i] = nullptr;
        }
    }
    auto abandon = [](ModuleRequest& request) {
        {
            SpinlockGuard guard(request.lock);
            request.module_gone = true;
        }
        request.writers.wake_all();
        request.release();
    };
    while (pending) {
        ModuleRequest* next = pending->next;
        abandon(*pending);
        pending = next;
    }
    for (ModuleRequest* request : active) {
        if (request)
            abandon(*request);
    }
}

} // namespace aisos::pkg
