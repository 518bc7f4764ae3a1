#pragma once

// A fixed-capacity byte ring for TCP socket data: allocated once per
// connection, then only memcpy. Besides plain append/consume it can write
// past the end without committing (out-of-order TCP data lands directly in
// its final place in the free space) and peek at any offset (a
// retransmission reads data that has not been acknowledged yet).

#include "lib/base/Allocator.h"

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::net {

class ByteRing {
public:
    ErrorOr<void> allocate(Allocator&, size_t capacity);
    void release(Allocator&);
    bool is_allocated() const { return m_data != nullptr; }

    size_t capacity() const { return m_capacity; }
    size_t size() const { return m_size; }
    size_t free_space() const { return m_capacity - m_size; }

    // Appends as much as fits; returns the number of bytes taken.
    size_t write(std::span<const uint8_t>);
    // Writes at `offset` bytes past the end of the data without changing
    // the size; offset + length must not exceed free_space().
    void write_past_end(size_t offset, std::span<const uint8_t>);
    // Makes `count` bytes past the end (already written) part of the data.
    void commit(size_t count);
    // Copies out and consumes up to destination.size() bytes.
    size_t read(std::span<uint8_t> destination);
    // Copies bytes starting `offset` into the data without consuming them.
    size_t peek(size_t offset, std::span<uint8_t> destination) const;
    void discard(size_t count);

private:
    void copy_in(size_t position, const uint8_t* source, size_t length);
    void copy_out(size_t position, uint8_t* destination, size_t length) const;

    uint8_t* m_data { nullptr };
    size_t m_capacity { 0 };
    size_t m_head { 0 };
    size_t m_size { 0 };
};

} // namespace aisos::net
