#include "lib/net/http/OutputQueue.h"

namespace aisos::http {

bool OutputQueue::append(std::span<const uint8_t> bytes)
{
    if (bytes.size() > space())
        return false;
    if (!bytes.empty())
        __builtin_memcpy(m_buffer + m_used, bytes.data(), bytes.size());
    m_used += bytes.size();
    return true;
}

bool OutputQueue::append_or_queue(std::span<const uint8_t> bytes)
{
    if (append(bytes))
        return true;
    return m_overflow.append(bytes);
}

size_t OutputQueue::write_through(std::span<const uint8_t> bytes)
{
    size_t taken = 0;
    if (used() == 0 && m_stream) {
        taken = m_stream->write(bytes);
        bytes = bytes.subspan(taken);
    }
    size_t room = space();
    size_t buffered = bytes.size() < room ? bytes.size() : room;
    if (buffered > 0)
        append(bytes.first(buffered));
    return taken + buffered;
}

size_t OutputQueue::flush()
{
    if (!m_stream)
        return 0;
    size_t total = 0;
    if (m_used > 0) {
        size_t written = m_stream->write({ m_buffer, m_used });
        total += written;
        if (written > 0 && written < m_used)
            __builtin_memmove(m_buffer, m_buffer + written, m_used - written);
        m_used -= written;
    }
    // Refill the fixed buffer from the overflow queue, keeping the order.
    while (m_used == 0 && m_overflow.size() > 0) {
        size_t written = m_stream->write(m_overflow.bytes());
        total += written;
        m_overflow.consume_front(written);
        if (m_overflow.size() == 0) {
            m_overflow.release();
            break;
        }
        if (written == 0)
            break;
    }
    return total;
}

} // namespace aisos::http
