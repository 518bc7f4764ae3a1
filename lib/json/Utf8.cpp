#include "lib/json/Utf8.h"

namespace aisos::json {

bool Utf8Validator::feed(std::span<const uint8_t> bytes)
{
    if (m_failed)
        return false;
    size_t i = 0;
    size_t size = bytes.size();
    while (i < size) {
        if (m_remaining == 0) {
            // Fast path: runs of ASCII.
            while (i < size && bytes[i] < 0x80)
                ++i;
            if (i == size)
                break;
            uint8_t lead = bytes[i++];
            // Table 3-7 of the Unicode standard: the second byte's range
            // depends on the lead byte (excludes overlongs and surrogates).
            if (lead >= 0xC2 && lead <= 0xDF) {
                m_remaining = 1;
                m_lower = 0x80, m_upper = 0xBF;
            } else if (lead == 0xE0) {
                m_remaining = 2;
                m_lower = 0xA0, m_upper = 0xBF;
            } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
                m_remaining = 2;
                m_lower = 0x80, m_upper = 0xBF;
            } else if (lead == 0xED) {
                m_remaining = 2;
                m_lower = 0x80, m_upper = 0x9F;
            } else if (lead == 0xF0) {
                m_remaining = 3;
                m_lower = 0x90, m_upper = 0xBF;
            } else if (lead >= 0xF1 && lead <= 0xF3) {
                m_remaining = 3;
                m_lower = 0x80, m_upper = 0xBF;
            } else if (lead == 0xF4) {
                m_remaining = 3;
                m_lower = 0x80, m_upper = 0x8F;
            } else {
                m_failed = true;
                return false;
            }
            continue;
        }
        uint8_t byte = bytes[i++];
        if (byte < m_lower || byte > m_upper) {
            m_failed = true;
            return false;
        }
        --m_remaining;
        m_lower = 0x80, m_upper = 0xBF;
    }
    return true;
}

bool is_valid_utf8(std::span<const uint8_t> bytes)
{
    Utf8Validator validator;
    return validator.feed(bytes) && validator.complete();
}

size_t utf8_sequence_length(std::span<const uint8_t> text)
{
    if (text.empty())
        return 0;
    if (text[0] < 0x80)
        return 1;
    Utf8Validator validator;
    for (size_t i = 0; i < text.size() && i < 4; ++i) {
        if (!validator.feed(text.subspan(i, 1)))
            return 0;
        if (validator.complete())
            return i + 1;
    }
    return 0;
}

} // namespace aisos::json
