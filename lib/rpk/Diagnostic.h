#pragma once

// The detailed reason for a refused package or manifest.
//
// Error reasons are static strings (they must survive out-of-memory), so
// they cannot name the offending field value or number. The parsers of
// outside data in lib/rpk therefore also fill an optional Diagnostic: a
// fixed buffer with the full sentence ("unsupported package format version
// 2", "unknown manifest key \"foo\""), which the kernel puts into its 400
// body and the packer prints. When nothing more specific is known the
// diagnostic holds the Error's reason, so callers can always print it.

#include "lib/base/Error.h"
#include "lib/base/Format.h"

#include <stddef.h>
#include <string_view>

namespace aisos::rpk {

class Diagnostic {
public:
    static constexpr size_t capacity = 256;

    std::string_view view() const { return { m_text, m_length }; }
    const char* c_str() const { return m_text; }
    bool empty() const { return m_length == 0; }

    template<typename... Args>
    void set(std::string_view format_string, const Args&... args)
    {
        m_length = format_to(m_text, sizeof(m_text), format_string, args...).size();
    }

private:
    char m_text[capacity + 1] {};
    size_t m_length { 0 };
};

// Records the detailed text (when the caller asked for it) and returns the
// error, so a failure reads `return fail(diagnostic, error, "...", ...);`.
template<typename... Args>
Error fail(Diagnostic* diagnostic, Error error, std::string_view format_string, const Args&... args)
{
    if (diagnostic)
        diagnostic->set(format_string, args...);
    return error;
}

inline Error fail(Diagnostic* diagnostic, Error error)
{
    if (diagnostic)
        diagnostic->set("{}", error.reason());
    return error;
}

} // namespace aisos::rpk
