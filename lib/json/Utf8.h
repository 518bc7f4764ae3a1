#pragma once

// UTF-8 validation (RFC 3629): no overlong forms, no surrogates (U+D800..
// U+DFFF), nothing above U+10FFFF. Utf8Validator works incrementally so a
// text can arrive in pieces (WebSocket fragments) and fail at the first bad
// byte; is_valid_utf8() checks a complete text.

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::json {

class Utf8Validator {
public:
    // Feeds bytes; false at the first byte that can never be part of valid
    // UTF-8 (the validator then stays failed).
    bool feed(std::span<const uint8_t> bytes);
    bool feed(std::string_view text) { return feed({ reinterpret_cast<const uint8_t*>(text.data()), text.size() }); }
    // True when everything fed so far is valid and no sequence is open.
    bool complete() const { return !m_failed && m_remaining == 0; }
    bool failed() const { return m_failed; }
    void reset() { *this = Utf8Validator {}; }

private:
    uint8_t m_remaining { 0 }; // continuation bytes still expected
    uint8_t m_lower { 0x80 };  // bounds of the next continuation byte
    uint8_t m_upper { 0xBF };
    bool m_failed { false };
};

bool is_valid_utf8(std::span<const uint8_t>);
inline bool is_valid_utf8(std::string_view text) { return is_valid_utf8({ reinterpret_cast<const uint8_t*>(text.data()), text.size() }); }

// Length of the valid UTF-8 sequence starting at text[0], or 0 when invalid
// or truncated.
size_t utf8_sequence_length(std::span<const uint8_t> text);

} // namespace aisos::json
