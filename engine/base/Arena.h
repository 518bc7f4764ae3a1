#pragma once

// Append-only byte storage in chunks that never move, so views into it stay
// valid while more is added. Used for decoded JSON strings and token texts.

#include "engine/base/Vector.h"

#include <string_view>

namespace aisos::engine {

class Arena {
public:
    Arena() = default;
    Arena(Arena&& other)
        : m_chunks(static_cast<Vector<char*>&&>(other.m_chunks))
        , m_next(other.m_next)
        , m_left(other.m_left)
    {
        other.m_next = nullptr;
        other.m_left = 0;
    }
    // Frees what this arena held (a defaulted one leaked it), then takes the
    // other's chunks; the other is left empty, not pointing into them.
    Arena& operator=(Arena&& other)
    {
        if (this == &other)
            return *this;
        free_chunks();
        m_chunks = static_cast<Vector<char*>&&>(other.m_chunks);
        m_next = other.m_next;
        m_left = other.m_left;
        other.m_next = nullptr;
        other.m_left = 0;
        return *this;
    }
    ~Arena() { free_chunks(); }

    ErrorOr<char*> allocate(size_t size)
    {
        if (size > m_left) {
            size_t chunk_size = size > s_chunk_size ? size : s_chunk_size;
            auto* chunk = static_cast<char*>(platform_allocate(chunk_size, 16));
            if (!chunk)
                return Error::no_memory();
            if (auto result = m_chunks.try_append(chunk); result.is_error()) {
                platform_free(chunk);
                return result.error();
            }
            m_next = chunk;
            m_left = chunk_size;
        }
        char* result = m_next;
        m_next += size;
        m_left -= size;
        return result;
    }

    ErrorOr<std::string_view> copy(std::string_view text)
    {
        char* storage = TRY(allocate(text.size()));
        if (!text.empty())
            std::memcpy(storage, text.data(), text.size());
        return std::string_view(storage, text.size());
    }

private:
    void free_chunks()
    {
        for (auto* chunk : m_chunks)
            platform_free(chunk);
        m_chunks.clear();
    }

    static constexpr size_t s_chunk_size = 1 << 20;
    Vector<char*> m_chunks;
    char* m_next { nullptr };
    size_t m_left { 0 };
};

} // namespace aisos::engine
