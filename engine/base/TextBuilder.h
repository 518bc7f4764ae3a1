#pragma once

// Builds short texts (tensor names, paths, summaries) in a caller buffer
// without the C library's printf. Overflow truncates and is reported.

#include "engine/base/Types.h"

#include <string_view>

namespace aisos::engine {

class TextBuilder {
public:
    TextBuilder(char* buffer, size_t capacity)
        : m_buffer(buffer)
        , m_capacity(capacity)
    {
        if (m_capacity)
            m_buffer[0] = 0;
    }

    TextBuilder& append(std::string_view text)
    {
        for (char c : text) {
            if (m_length + 1 >= m_capacity) {
                m_overflow = true;
                break;
            }
            m_buffer[m_length++] = c;
        }
        if (m_capacity)
            m_buffer[m_length] = 0;
        return *this;
    }

    TextBuilder& append(u64 number)
    {
        char digits[24];
        size_t n = 0;
        do {
            digits[n++] = static_cast<char>('0' + number % 10);
            number /= 10;
        } while (number);
        char reversed[24];
        for (size_t i = 0; i < n; ++i)
            reversed[i] = digits[n - 1 - i];
        return append(std::string_view(reversed, n));
    }

    std::string_view view() const { return { m_buffer, m_length }; }
    char const* c_str() const { return m_buffer; }
    bool overflowed() const { return m_overflow; }
    size_t length() const { return m_length; }

private:
    char* m_buffer;
    size_t m_capacity;
    size_t m_length { 0 };
    bool m_overflow { false };
};

} // namespace aisos::engine
