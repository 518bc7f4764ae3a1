#include "lib/base/Demangle.h"

namespace aisos {

namespace {

// Reads "<decimal length><identifier>" at position; false when malformed.
bool read_source_name(std::string_view text, size_t& position, std::string_view& name)
{
    size_t length = 0;
    size_t digits = 0;
    while (position < text.size() && text[position] >= '0' && text[position] <= '9') {
        length = length * 10 + static_cast<size_t>(text[position] - '0');
        ++position;
        if (++digits > 5)
            return false;
    }
    if (digits == 0 || length == 0 || position + length > text.size())
        return false;
    name = text.substr(position, length);
    position += length;
    return true;
}

class Writer {
public:
    Writer(char* buffer, size_t capacity)
        : m_buffer(buffer)
        , m_capacity(capacity)
    {
    }
    bool append(std::string_view text)
    {
        if (m_length + text.size() + 1 > m_capacity)
            return false;
        for (char c : text)
            m_buffer[m_length++] = c;
        m_buffer[m_length] = 0;
        return true;
    }
    std::string_view view() const { return { m_buffer, m_length }; }

private:
    char* m_buffer;
    size_t m_capacity;
    size_t m_length { 0 };
};

} // namespace

std::string_view demangle_simple(std::string_view mangled, char* buffer, size_t capacity)
{
    if (capacity == 0 || mangled.size() < 3 || mangled.substr(0, 2) != "_Z")
        return mangled;
    Writer writer(buffer, capacity);
    size_t position = 2;
    std::string_view name;
    if (mangled[position] != 'N') {
        if (!read_source_name(mangled, position, name) || !writer.append(name))
            return mangled;
        return writer.view();
    }
    ++position;
    // CV-qualifiers of member functions come before the names.
    while (position < mangled.size() && (mangled[position] == 'K' || mangled[position] == 'V'))
        ++position;
    bool first = true;
    while (position < mangled.size() && mangled[position] != 'E') {
        // Anonymous namespaces are spelled "12_GLOBAL__N_1".
        if (!read_source_name(mangled, position, name))
            return mangled;
        if (name == "_GLOBAL__N_1")
            name = "(anonymous namespace)";
        if ((!first && !writer.append("::")) || !writer.append(name))
            return mangled;
        first = false;
    }
    if (position >= mangled.size() || first)
        return mangled;
    return writer.view();
}

} // namespace aisos
