#include "kernel/pkg/ModuleRequest.h"

#include "kernel/mm/Heap.h"

namespace aisos::pkg {

namespace {
std::atomic<uint64_t> s_next_id { 1 };
}

ErrorOr<ModuleRequest*> ModuleRequest::create(std::span<const uint8_t> body)
{
    auto* request = TRY(heap::create<ModuleRequest>());
    auto ring = heap::allocate(ring_capacity);
    if (ring.is_error()) {
        heap::destroy(request);
        return ring.error();
    }
    request->ring = static_cast<uint8_t*>(ring.value());
    if (!body.empty()) {
        auto copy = heap::allocate(body.size());
        if (copy.is_error()) {
            heap::free(request->ring);
            heap::destroy(request);
            return copy.error();
        }
        request->body = static_cast<uint8_t*>(copy.value());
        __builtin_memcpy(request->body, body.data(), body.size());
        request->body_length = body.size();
    }
    request->id = s_next_id.fetch_add(1);
    request->info.id = request->id;
    request->info.connection = request->id;
    request->info.body_length = body.size();
    return request;
}

void ModuleRequest::release()
{
    if (references.fetch_sub(1, std::memory_order_acq_rel) != 1)
        return;
    if (body)
        heap::free(body);
    heap::free(ring);
    heap::destroy(this);
}

} // namespace aisos::pkg
