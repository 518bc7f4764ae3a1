#include "engine/tokenizer/Unicode.h"
#include "engine/format/Json.h"
#include "engine/tokenizer/UnicodeTables.h"

namespace aisos::engine {

template<size_t N>
static bool in_ranges(UnicodeRange const (&ranges)[N], u32 cp)
{
    return find_unicode_range(ranges, cp) != nullptr;
}

bool unicode_is_letter(u32 cp)
{
    if (cp < 0x80)
        return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    return in_ranges(s_letter_ranges, cp);
}

bool unicode_is_number(u32 cp)
{
    if (cp < 0x80)
        return cp >= '0' && cp <= '9';
    return in_ranges(s_number_ranges, cp);
}

bool unicode_is_whitespace(u32 cp)
{
    switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20:
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

DecodedChar utf8_decode_at(std::string_view text, size_t pos)
{
    std::string_view rest = text.substr(pos);
    size_t length = utf8_sequence_length(rest);
    if (length == 0)
        return { 0xFFFD, 1 };
    auto b = [&](size_t i) { return static_cast<u32>(static_cast<u8>(rest[i])); };
    switch (length) {
    case 1: return { b(0), 1 };
    case 2: return { ((b(0) & 0x1F) << 6) | (b(1) & 0x3F), 2 };
    case 3: return { ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F), 3 };
    default: return { ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F), 4 };
    }
}

size_t utf8_complete_prefix(char const* bytes, size_t size)
{
    // Look back at most 3 bytes for the start of a sequence that is cut off.
    for (size_t back = 1; back <= 3 && back <= size; ++back) {
        u8 c = static_cast<u8>(bytes[size - back]);
        if ((c & 0xC0) == 0x80)
            continue; // continuation byte, keep looking for the lead byte
        size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        if (need > back)
            return size - back; // incomplete: hold it back
        return size;
    }
    return size;
}

} // namespace aisos::engine
