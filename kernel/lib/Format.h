#pragma once

// Kernel shorthand for lib/base/Format.h.

#include "lib/base/Format.h"

namespace aisos {

template<typename... Args>
std::string_view kformat(char* buffer, size_t capacity, std::string_view format_string, const Args&... args)
{
    return format_to(buffer, capacity, format_string, args...);
}

} // namespace aisos
