#pragma once

// A growable array of trivially copyable values whose memory comes from an
// aisos::Allocator. Growth can fail and says so; nothing here allocates
// behind the caller's back.

#include "lib/base/Allocator.h"

#include <stddef.h>
#include <type_traits>

namespace aisos::fs {

template<typename T>
class Array {
    static_assert(std::is_trivially_copyable_v<T>);

public:
    explicit Array(Allocator& allocator)
        : m_allocator(&allocator)
    {
    }
    Array(const Array&) = delete;
    Array& operator=(const Array&) = delete;
    Array(Array&& other)
        : m_allocator(other.m_allocator)
        , m_data(other.m_data)
        , m_size(other.m_size)
        , m_capacity(other.m_capacity)
    {
        other.m_data = nullptr;
        other.m_size = other.m_capacity = 0;
    }
    ~Array() { m_allocator->free(m_data); }

    size_t size() const { return m_size; }
    bool is_empty() const { return m_size == 0; }
    T* data() { return m_data; }
    const T* data() const { return m_data; }
    T& operator[](size_t index) { return m_data[index]; }
    const T& operator[](size_t index) const { return m_data[index]; }
    T& last() { return m_data[m_size - 1]; }
    T* begin() { return m_data; }
    T* end() { return m_data + m_size; }
    const T* begin() const { return m_data; }
    const T* end() const { return m_data + m_size; }

    ErrorOr<void> ensure_capacity(size_t capacity)
    {
        if (capacity <= m_capacity)
            return {};
        size_t new_capacity = m_capacity ? m_capacity * 2 : 8;
        if (new_capacity < capacity)
            new_capacity = capacity;
        if (new_capacity > static_cast<size_t>(-1) / sizeof(T))
            return Error { ErrorCode::Overflow, "array too large" };
        auto* data = static_cast<T*>(TRY(m_allocator->allocate(new_capacity * sizeof(T), alignof(T) < 16 ? 16 : alignof(T))));
        if (m_size)
            __builtin_memcpy(static_cast<void*>(data), m_data, m_size * sizeof(T));
        m_allocator->free(m_data);
        m_data = data;
        m_capacity = new_capacity;
        return {};
    }
    ErrorOr<void> append(const T& value)
    {
        TRY(ensure_capacity(m_size + 1));
        m_data[m_size++] = value;
        return {};
    }
    ErrorOr<void> insert(size_t index, const T& value)
    {
        TRY(ensure_capacity(m_size + 1));
        if (index < m_size)
            __builtin_memmove(static_cast<void*>(m_data + index + 1), m_data + index, (m_size - index) * sizeof(T));
        m_data[index] = value;
        ++m_size;
        return {};
    }
    void remove(size_t index)
    {
        if (index + 1 < m_size)
            __builtin_memmove(static_cast<void*>(m_data + index), m_data + index + 1, (m_size - index - 1) * sizeof(T));
        --m_size;
    }
    void clear() { m_size = 0; }

private:
    Allocator* m_allocator;
    T* m_data { nullptr };
    size_t m_size { 0 };
    size_t m_capacity { 0 };
};

} // namespace aisos::fs
