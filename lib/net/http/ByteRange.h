#pragma once

// `Range: bytes=...` for handlers that serve files (RFC 9110 §14).
// Only a single range is honoured; a header the server may ignore (other
// units, several ranges, bad syntax) yields Ignore, and the handler answers
// 200 with the whole representation, as RFC 9110 §14.2 allows.

#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::http {

struct ByteRange {
    enum class Kind : uint8_t { Ignore, Satisfiable, Unsatisfiable };
    Kind kind { Kind::Ignore };
    uint64_t first { 0 }; // inclusive
    uint64_t last { 0 };  // inclusive
    uint64_t length() const { return last - first + 1; }
};

// `header` is the Range field value (empty when absent); `size` the
// representation's length.
ByteRange parse_byte_range(std::string_view header, uint64_t size);

// "bytes first-last/size" for 206, or "bytes */size" for 416.
inline constexpr size_t content_range_max_length = 64;
std::string_view format_content_range(const ByteRange&, uint64_t size, char (&buffer)[content_range_max_length]);

} // namespace aisos::http
