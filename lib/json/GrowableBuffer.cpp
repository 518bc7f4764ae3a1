#include "lib/json/GrowableBuffer.h"

namespace aisos::json {

ErrorOr<void> GrowableBuffer::ensure_capacity(size_t wanted)
{
    if (wanted <= m_capacity)
        return {};
    if (wanted > m_limit)
        return Error { ErrorCode::Overflow, "buffer limit reached" };
    // Grow geometrically so appending n bytes costs O(n) copies overall.
    size_t capacity = m_capacity < 256 ? 256 : m_capacity;
    while (capacity < wanted) {
        if (capacity > ~size_t(0) / 2) {
            capacity = wanted;
            break;
        }
        capacity *= 2;
    }
    if (capacity > m_limit)
        capacity = m_limit;
    void* memory = TRY(m_allocator.allocate(capacity, 16));
    auto* data = static_cast<uint8_t*>(memory);
    if (m_size > 0)
        __builtin_memcpy(data, m_data, m_size);
    m_allocator.free(m_data);
    m_data = data;
    m_capacity = capacity;
    return {};
}

bool GrowableBuffer::append(std::span<const uint8_t> bytes)
{
    if (m_failed)
        return false;
    if (bytes.empty())
        return true;
    if (bytes.size() > m_limit - m_size) {
        m_failed = true;
        m_error = Error { ErrorCode::Overflow, "buffer limit reached" };
        return false;
    }
    auto result = ensure_capacity(m_size + bytes.size());
    if (result.is_error()) {
        m_failed = true;
        m_error = result.error();
        return false;
    }
    __builtin_memcpy(m_data + m_size, bytes.data(), bytes.size());
    m_size += bytes.size();
    return true;
}

} // namespace aisos::json
