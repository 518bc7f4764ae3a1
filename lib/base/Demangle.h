#pragma once

// A small, bounded reader for the common shapes of Itanium C++ mangled names,
// enough to make panic backtraces readable: "_ZN5aisos3foo3barEv" becomes
// "aisos::foo::bar", "_Z4mainv" becomes "main". Parameters, templates and
// other shapes are left out or leave the name as it was: a backtrace line
// must never be wrong, only less detailed.

#include <stddef.h>
#include <string_view>

namespace aisos {

// Writes the readable name into buffer (NUL-terminated) and returns it; on
// any shape it does not understand, returns the mangled name unchanged.
std::string_view demangle_simple(std::string_view mangled, char* buffer, size_t capacity);

} // namespace aisos
