#pragma once

// Character classes of RFC 9110 §5.6.

#include <stdint.h>
#include <string_view>

namespace aisos::http {

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
constexpr bool is_token_char(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

constexpr bool is_token(std::string_view text)
{
    if (text.empty())
        return false;
    for (char c : text) {
        if (!is_token_char(static_cast<uint8_t>(c)))
            return false;
    }
    return true;
}

// field-value bytes: VCHAR, obs-text, SP and HTAB (no other controls).
constexpr bool is_field_value_char(uint8_t c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

constexpr bool equals_ignoring_case(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    }
    return true;
}

constexpr std::string_view trim_whitespace(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

// Calls `callback(element)` for each non-empty element of a comma-separated
// list (RFC 9110 §5.6.1), trimmed. Stops early when the callback returns false.
template<typename Callback>
constexpr void for_each_list_element(std::string_view list, Callback callback)
{
    while (true) {
        size_t comma = list.find(',');
        auto element = trim_whitespace(list.substr(0, comma));
        if (!element.empty() && !callback(element))
            return;
        if (comma == std::string_view::npos)
            return;
        list.remove_prefix(comma + 1);
    }
}

} // namespace aisos::http
