#pragma once

// The two account roles of aiSOS (API.md §Auth and users).

#include "lib/net/http/Authenticator.h"

#include <optional>
#include <stdint.h>
#include <string_view>

namespace aisos::auth {

enum class UserRole : uint8_t { User = 1, Admin = 2 };

constexpr std::string_view user_role_name(UserRole role) { return role == UserRole::Admin ? "admin" : "user"; }

constexpr std::optional<UserRole> parse_user_role(std::string_view text)
{
    if (text == "admin")
        return UserRole::Admin;
    if (text == "user")
        return UserRole::User;
    return std::nullopt;
}

constexpr http::Role to_http_role(UserRole role) { return role == UserRole::Admin ? http::Role::Admin : http::Role::User; }

} // namespace aisos::auth
