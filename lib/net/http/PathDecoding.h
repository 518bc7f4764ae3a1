#pragma once

// Percent-decoding (RFC 3986 §2.1) and the /fs path rules of API.md.

#include "lib/base/ErrorOr.h"

#include <span>
#include <stddef.h>
#include <string_view>

namespace aisos::http {

enum class PlusHandling : uint8_t { Literal, AsSpace };

// Decodes %XX escapes into output (output.size() >= input.size() always
// suffices). A '%' not followed by two hex digits is an error.
ErrorOr<std::string_view> percent_decode(std::string_view input, std::span<char> output, PlusHandling = PlusHandling::Literal);

struct FsPath {
    std::string_view path; // decoded, without a trailing '/'; empty for the root
    bool trailing_slash { false };
};

// `raw` is the part of the request path after "/fs/" (still percent-encoded);
// "" is the root. After decoding it must be UTF-8, segments separated by '/',
// none of them empty (except one trailing '/'), "." or "..", longer than 255
// bytes, or holding NUL, a backslash or another control character.
// Every violation is an InvalidArgument error whose reason suits a 400 body.
ErrorOr<FsPath> decode_fs_path(std::string_view raw, std::span<char> buffer);

// Value of a query parameter (first occurrence), percent-decoded with '+'
// as space; NotFound when absent.
ErrorOr<std::string_view> query_parameter(std::string_view query, std::string_view name, std::span<char> buffer);

} // namespace aisos::http
