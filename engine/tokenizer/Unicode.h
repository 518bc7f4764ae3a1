#pragma once

// Code point classification for the pre-tokenizers and UTF-8 helpers.

#include "engine/base/Types.h"

#include <string_view>

namespace aisos::engine {

bool unicode_is_letter(u32 cp);     // \p{L}
bool unicode_is_number(u32 cp);     // \p{N}
bool unicode_is_whitespace(u32 cp); // \s (White_Space)

// Decodes the code point at text[pos]. Invalid UTF-8 yields one byte with
// code point 0xFFFD, so every input can be walked to its end.
struct DecodedChar {
    u32 code_point;
    u32 length;
};
DecodedChar utf8_decode_at(std::string_view text, size_t pos);

// Length of the longest prefix of bytes[0..size) that ends on a character
// boundary, assuming the bytes before were complete (used by streaming decode).
size_t utf8_complete_prefix(char const* bytes, size_t size);

} // namespace aisos::engine
