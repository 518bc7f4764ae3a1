#pragma once

// Shared by the request/response calls: the calling module's service and
// an active request of it by id.

#include "kernel/pkg/ModuleService.h"
#include "kernel/proc/Process.h"
#include "kernel/syscall/Syscall.h"

namespace aisos::syscall {

inline pkg::ModuleService* current_service() { return static_cast<pkg::ModuleService*>(current_process().service); }

// An active request of the calling module, held for the duration of a call
// (another thread may end it meanwhile).
class RequestReference {
public:
    explicit RequestReference(uint64_t id)
    {
        pkg::ModuleService* service = current_service();
        m_request = service ? service->find_active(id) : nullptr;
    }
    ~RequestReference()
    {
        if (m_request)
            m_request->release();
    }
    RequestReference(const RequestReference&) = delete;
    RequestReference& operator=(const RequestReference&) = delete;
    pkg::ModuleRequest* get() const { return m_request; }

private:
    pkg::ModuleRequest* m_request;
};

} // namespace aisos::syscall
