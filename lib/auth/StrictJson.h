#pragma once

// The checks lib/json leaves to its users, for the objects auth accepts
// (JWT header and claims, request bodies): every member name appears once
// and is one of those expected. Duplicate names are how "alg" smuggling and
// parser-differential attacks work, so they are refused outright.

#include "lib/base/ErrorOr.h"
#include "lib/json/JsonDocument.h"

#include <span>
#include <string_view>

namespace aisos::auth {

ErrorOr<void> check_object_members(json::JsonValue object, std::span<const std::string_view> allowed);

} // namespace aisos::auth
