#include "lib/net/ByteRing.h"

namespace aisos::net {

ErrorOr<void> ByteRing::allocate(Allocator& allocator, size_t capacity)
{
    if (capacity == 0)
        return Error::invalid("ring capacity is zero");
    m_data = static_cast<uint8_t*>(TRY(allocator.allocate(capacity, 64)));
    m_capacity = capacity;
    m_head = 0;
    m_size = 0;
    return {};
}

void ByteRing::release(Allocator& allocator)
{
    allocator.free(m_data);
    m_data = nullptr;
    m_capacity = 0;
    m_head = 0;
    m_size = 0;
}

void ByteRing::copy_in(size_t position, const uint8_t* source, size_t length)
{
    // position is an absolute offset from m_head, already < capacity.
    size_t index = m_head + position;
    if (index >= m_capacity)
        index -= m_capacity;
    size_t first = m_capacity - index;
    if (first > length)
        first = length;
    __builtin_memcpy(m_data + index, source, first);
    if (length > first)
        __builtin_memcpy(m_data, source + first, length - first);
}

void ByteRing::copy_out(size_t position, uint8_t* destination, size_t length) const
{
    size_t index = m_head + position;
    if (index >= m_capacity)
        index -= m_capacity;
    size_t first = m_capacity - index;
    if (first > length)
        first = length;
    __builtin_memcpy(destination, m_data + index, first);
    if (length > first)
        __builtin_memcpy(destination + first, m_data, length - first);
}

size_t ByteRing::write(std::span<const uint8_t> source)
{
    size_t length = source.size() < free_space() ? source.size() : free_space();
    if (length == 0)
        return 0;
    copy_in(m_size, source.data(), length);
    m_size += length;
    return length;
}

void ByteRing::write_past_end(size_t offset, std::span<const uint8_t> source)
{
    if (source.empty() || offset >= free_space())
        return;
    size_t length = source.size();
    if (length > free_space() - offset)
        length = free_space() - offset;
    copy_in(m_size + offset, source.data(), length);
}

void ByteRing::commit(size_t count)
{
    if (count > free_space())
        count = free_space();
    m_size += count;
}

size_t ByteRing::read(std::span<uint8_t> destination)
{
    size_t length = peek(0, destination);
    discard(length);
    return length;
}

size_t ByteRing::peek(size_t offset, std::span<uint8_t> destination) const
{
    if (offset >= m_size)
        return 0;
    size_t length = m_size - offset;
    if (length > destination.size())
        length = destination.size();
    if (length)
        copy_out(offset, destination.data(), length);
    return length;
}

void ByteRing::discard(size_t count)
{
    if (count > m_size)
        count = m_size;
    m_size -= count;
    m_head += count;
    if (m_head >= m_capacity)
        m_head -= m_capacity;
    // The head is never reset when the ring drains: out-of-order data may
    // already sit past the end, at positions relative to head + size.
}

} // namespace aisos::net
