#pragma once

// Code point classification for the pre-tokenizers and UTF-8 helpers.

#include "engine/base/Types.h"

#include <string_view>

namespace aisos::engine {

bool unicode_is_letter(u32 cp);     // \p{L}
bool unicode_is_number(u32 cp);     // \p{N}
bool unicode_is_whitespace(u32 cp); // \s (White_Space)

// The entry of a table of sorted, disjoint [first, last] code-point ranges
// that holds cp, or null (binary search; the tables are generated).
template<typename Range, size_t N>
Range const* find_unicode_range(Range const (&ranges)[N], u32 cp)
{
    size_t lo = 0, hi = N;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < ranges[mid].first)
            hi = mid;
        else if (cp > ranges[mid].last)
            lo = mid + 1;
        else
            return &ranges[mid];
    }
    return nullptr;
}

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
