#pragma once

// A growable array whose growth can fail. The engine's replacement for
// std::vector: every allocation goes through the platform and reports
// failure as an Error instead of throwing. Storage is 64-byte aligned so
// SIMD kernels can use it directly.

#include "engine/platform/Platform.h"

#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

namespace aisos::engine {

template<typename T>
class Vector {
public:
    Vector() = default;
    Vector(Vector const&) = delete;
    Vector& operator=(Vector const&) = delete;
    Vector(Vector&& other)
        : m_data(other.m_data)
        , m_size(other.m_size)
        , m_capacity(other.m_capacity)
    {
        other.m_data = nullptr;
        other.m_size = other.m_capacity = 0;
    }
    Vector& operator=(Vector&& other)
    {
        if (this != &other) {
            clear_and_free();
            m_data = other.m_data;
            m_size = other.m_size;
            m_capacity = other.m_capacity;
            other.m_data = nullptr;
            other.m_size = other.m_capacity = 0;
        }
        return *this;
    }
    ~Vector() { clear_and_free(); }

    size_t size() const { return m_size; }
    bool is_empty() const { return m_size == 0; }
    size_t capacity() const { return m_capacity; }
    T* data() { return m_data; }
    T const* data() const { return m_data; }
    T& operator[](size_t i) { return m_data[i]; }
    T const& operator[](size_t i) const { return m_data[i]; }
    T* begin() { return m_data; }
    T* end() { return m_data + m_size; }
    T const* begin() const { return m_data; }
    T const* end() const { return m_data + m_size; }
    T& last() { return m_data[m_size - 1]; }

    ErrorOr<void> try_reserve(size_t wanted)
    {
        if (wanted <= m_capacity)
            return {};
        if (wanted > SIZE_MAX / sizeof(T))
            return Error::no_memory();
        auto* fresh = static_cast<T*>(platform_allocate(wanted * sizeof(T), alignof(T) > 64 ? alignof(T) : 64));
        if (!fresh)
            return Error::no_memory();
        if constexpr (std::is_trivially_copyable_v<T>) {
            if (m_size)
                std::memcpy(static_cast<void*>(fresh), m_data, m_size * sizeof(T));
        } else {
            for (size_t i = 0; i < m_size; ++i) {
                new (&fresh[i]) T(std::move(m_data[i]));
                m_data[i].~T();
            }
        }
        if (m_data)
            platform_free(m_data);
        m_data = fresh;
        m_capacity = wanted;
        return {};
    }

    ErrorOr<void> try_append(T value)
    {
        if (m_size == m_capacity)
            TRY(try_reserve(m_capacity < 8 ? 8 : m_capacity * 2));
        new (&m_data[m_size]) T(std::move(value));
        ++m_size;
        return {};
    }

    ErrorOr<void> try_append(T const* values, size_t count) requires std::is_trivially_copyable_v<T>
    {
        if (count > SIZE_MAX - m_size)
            return Error::no_memory();
        if (m_size + count > m_capacity) {
            size_t grown = m_capacity * 2;
            TRY(try_reserve(grown > m_size + count ? grown : m_size + count));
        }
        if (count)
            std::memcpy(static_cast<void*>(m_data + m_size), values, count * sizeof(T));
        m_size += count;
        return {};
    }

    // Resizes; new elements are value-initialized (zero for numbers).
    ErrorOr<void> try_resize(size_t count)
    {
        TRY(try_reserve(count));
        while (m_size < count)
            new (&m_data[m_size++]) T();
        while (m_size > count)
            m_data[--m_size].~T();
        return {};
    }

    // Grows without initializing the new elements (plain data only), so
    // large buffers are committed page by page as they are written.
    ErrorOr<void> try_resize_uninitialized(size_t count) requires std::is_trivially_copyable_v<T>
    {
        TRY(try_reserve(count));
        m_size = count;
        return {};
    }

    void shrink_size(size_t count)
    {
        while (m_size > count)
            m_data[--m_size].~T();
    }
    void clear() { shrink_size(0); }

private:
    void clear_and_free()
    {
        clear();
        if (m_data)
            platform_free(m_data);
        m_data = nullptr;
        m_capacity = 0;
    }

    T* m_data { nullptr };
    size_t m_size { 0 };
    size_t m_capacity { 0 };
};

} // namespace aisos::engine
