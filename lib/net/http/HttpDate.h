#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::http {

// IMF-fixdate (RFC 9110 §5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
inline constexpr size_t http_date_length = 29;

// Writes exactly http_date_length characters for `unix_seconds` into buffer.
std::string_view format_http_date(uint64_t unix_seconds, char (&buffer)[http_date_length + 1]);

} // namespace aisos::http
