#pragma once

// Base64 (RFC 4648 §4, standard alphabet, '=' padding) and base64url
// (RFC 4648 §5, URL-safe alphabet, no padding, as JWT uses it, RFC 7515 §2).
//
// Encoders write into a caller buffer sized with *_encoded_length(). Decoders
// are strict: characters outside the alphabet, whitespace, wrong padding and
// non-zero unused bits are errors, so every accepted text has exactly one
// decoding and one encoding.

#include "lib/base/ErrorOr.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::crypto {

constexpr size_t base64_encoded_length(size_t input_length) { return (input_length + 2) / 3 * 4; }
constexpr size_t base64url_encoded_length(size_t input_length) { return input_length / 3 * 4 + (input_length % 3 == 0 ? 0 : input_length % 3 + 1); }
// Upper bound of the decoded size of `encoded_length` characters.
constexpr size_t base64_decoded_max_length(size_t encoded_length) { return encoded_length / 4 * 3 + (encoded_length % 4 == 0 ? 0 : 3); }

// Both return the text written (a view into output) or an error when output
// is too small.
ErrorOr<std::string_view> base64_encode(std::span<const uint8_t> input, std::span<char> output);
ErrorOr<std::string_view> base64url_encode(std::span<const uint8_t> input, std::span<char> output);

// Both return the number of bytes written into output.
ErrorOr<size_t> base64_decode(std::string_view input, std::span<uint8_t> output);
ErrorOr<size_t> base64url_decode(std::string_view input, std::span<uint8_t> output);

} // namespace aisos::crypto
