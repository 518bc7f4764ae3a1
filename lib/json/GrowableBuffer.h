#pragma once

// A byte buffer that grows through an Allocator up to a hard limit. It is a
// FormatSink, so JsonWriter and format() can write into it. Write failures
// (out of memory, limit reached) are sticky: the buffer remembers them in
// error() and ignores further writes, so a writer can run to the end and be
// checked once.

#include "lib/base/Allocator.h"
#include "lib/base/Format.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::json {

class GrowableBuffer final : public FormatSink {
public:
    static constexpr size_t unlimited = ~size_t(0);

    explicit GrowableBuffer(Allocator& allocator, size_t limit = unlimited)
        : m_allocator(allocator)
        , m_limit(limit)
    {
    }
    ~GrowableBuffer() { m_allocator.free(m_data); }
    GrowableBuffer(const GrowableBuffer&) = delete;
    GrowableBuffer& operator=(const GrowableBuffer&) = delete;

    void write(const char* data, size_t length) override { append({ reinterpret_cast<const uint8_t*>(data), length }); }
    // Returns false (and records the error) when the bytes cannot be added.
    bool append(std::span<const uint8_t>);
    bool append(std::string_view text) { return append({ reinterpret_cast<const uint8_t*>(text.data()), text.size() }); }
    ErrorOr<void> ensure_capacity(size_t);

    std::span<const uint8_t> bytes() const { return { m_data, m_size }; }
    std::string_view view() const { return { reinterpret_cast<const char*>(m_data), m_size }; }
    size_t size() const { return m_size; }
    size_t limit() const { return m_limit; }
    bool failed() const { return m_failed; }
    Error error() const { return m_error; }
    void clear()
    {
        m_size = 0;
        m_failed = false;
    }
    // Gives the memory back to the allocator.
    void release()
    {
        m_allocator.free(m_data);
        m_data = nullptr;
        m_size = 0;
        m_capacity = 0;
        m_failed = false;
    }
    // Removes the first `count` bytes (moving the rest to the front).
    void consume_front(size_t count)
    {
        if (count >= m_size) {
            m_size = 0;
            return;
        }
        __builtin_memmove(m_data, m_data + count, m_size - count);
        m_size -= count;
    }
    uint8_t* data() { return m_data; }
    void set_limit(size_t limit) { m_limit = limit; }

private:
    Allocator& m_allocator;
    size_t m_limit;
    uint8_t* m_data { nullptr };
    size_t m_size { 0 };
    size_t m_capacity { 0 };
    bool m_failed { false };
    Error m_error { ErrorCode::InvalidArgument, "" };
};

} // namespace aisos::json
