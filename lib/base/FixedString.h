#pragma once

// A string stored inline in a fixed array (NUL-terminated), so a struct
// holding it can be copied by value and outlives the text it was parsed
// from (configuration values, manifest fields).

#include <stddef.h>
#include <string_view>

namespace aisos {

template<size_t Capacity>
class FixedString {
public:
    static constexpr size_t capacity = Capacity;

    // False (and unchanged) when the text does not fit.
    bool assign(std::string_view text)
    {
        if (text.size() > Capacity)
            return false;
        if (!text.empty())
            __builtin_memcpy(m_data, text.data(), text.size());
        m_length = text.size();
        m_data[m_length] = 0;
        return true;
    }
    std::string_view view() const { return { m_data, m_length }; }
    const char* c_str() const { return m_data; }
    size_t size() const { return m_length; }
    bool empty() const { return m_length == 0; }
    bool operator==(std::string_view other) const { return view() == other; }

private:
    char m_data[Capacity + 1] {};
    size_t m_length { 0 };
};

} // namespace aisos
