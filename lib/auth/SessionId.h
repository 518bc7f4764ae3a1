#pragma once

// A session's identity: 128 random bits, carried in a token as the JWT
// "jti" claim (22 base64url characters).

#include "lib/base/ErrorOr.h"

#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::auth {

struct SessionId {
    static constexpr size_t size = 16;
    static constexpr size_t text_length = 22;

    uint8_t bytes[size] {};

    bool operator==(const SessionId&) const = default;
    // The base64url text (buffer of text_length + 1).
    std::string_view to_text(char (&buffer)[text_length + 1]) const;
    static ErrorOr<SessionId> parse(std::string_view text);
};

} // namespace aisos::auth
