#pragma once

// A validated account name: 1..32 characters from [a-z0-9_.-], starting
// with a letter. Lower case only, so two names never differ by case alone,
// and safe to print in logs and JSON without escaping.

#include "lib/base/ErrorOr.h"

#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::auth {

class UserName {
public:
    static constexpr size_t max_length = 32;

    UserName() = default;
    static ErrorOr<UserName> create(std::string_view);

    std::string_view view() const { return { m_data, m_length }; }
    bool empty() const { return m_length == 0; }
    bool operator==(const UserName& other) const { return view() == other.view(); }
    bool operator==(std::string_view other) const { return view() == other; }

private:
    char m_data[max_length] {};
    uint8_t m_length { 0 };
};

// Why a name is not acceptable (InvalidArgument with a reason fit for a 400 body).
ErrorOr<void> validate_user_name(std::string_view);

// Password policy: 8..256 bytes of valid UTF-8 without control characters,
// not equal to the user name. The reason says what is wrong.
inline constexpr size_t min_password_length = 8;
inline constexpr size_t max_password_length = 256;
ErrorOr<void> validate_password(std::string_view password, std::string_view user_name);

} // namespace aisos::auth
