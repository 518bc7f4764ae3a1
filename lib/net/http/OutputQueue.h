#pragma once

// A connection's outgoing bytes: a fixed buffer in front of the ByteStream,
// plus an optional overflow queue (bounded, allocated on demand) for
// WebSocket messages larger than the free space. Order is kept: while the
// overflow holds data, new bytes go behind it.

#include "lib/base/Allocator.h"
#include "lib/json/GrowableBuffer.h"
#include "lib/net/http/ByteStream.h"

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::http {

class OutputQueue {
public:
    OutputQueue(Allocator& allocator, uint8_t* buffer, size_t capacity, size_t overflow_limit)
        : m_buffer(buffer)
        , m_capacity(capacity)
        , m_overflow(allocator, overflow_limit)
    {
    }

    void set_stream(ByteStream* stream) { m_stream = stream; }

    // Free space in the fixed buffer (after compaction); 0 while overflow is used.
    size_t space() const { return m_overflow.size() > 0 ? 0 : m_capacity - m_used; }
    size_t used() const { return m_used + m_overflow.size(); }
    size_t capacity() const { return m_capacity; }
    bool empty() const { return used() == 0; }

    // Whether append_or_queue() would take `count` bytes now.
    bool can_queue(size_t count) const { return count <= space() || count <= m_overflow.limit() - m_overflow.size(); }

    // Appends all bytes or nothing (false when they do not fit the fixed buffer).
    bool append(std::span<const uint8_t> bytes);
    bool append(std::string_view text) { return append({ reinterpret_cast<const uint8_t*>(text.data()), text.size() }); }
    // Appends into the fixed buffer or, when full, the overflow queue;
    // false when the overflow limit or memory is exhausted.
    bool append_or_queue(std::span<const uint8_t> bytes);
    // Writes body bytes straight to the stream when nothing is queued (one
    // copy less for large bodies), else buffers what fits. Returns bytes taken.
    size_t write_through(std::span<const uint8_t> bytes);

    // Moves queued bytes into the stream; returns how many it accepted.
    size_t flush();
    // Direct access for the writers that format into the buffer.
    uint8_t* tail() { return m_buffer + m_used; }
    void commit(size_t count) { m_used += count; }
    void release_overflow() { m_overflow.release(); }
    void clear()
    {
        m_used = 0;
        m_overflow.release();
    }

private:
    ByteStream* m_stream { nullptr };
    uint8_t* m_buffer;
    size_t m_capacity;
    size_t m_used { 0 };
    json::GrowableBuffer m_overflow;
};

} // namespace aisos::http
