#pragma once

#include <stdint.h>
#include <string_view>

namespace aisos::http {

// Reason phrase for a status code (RFC 9110 §15); "Unknown" for others.
std::string_view http_status_reason(uint16_t status);

// Whether a response with this status carries no body (RFC 9110 §6.4.1).
constexpr bool http_status_has_no_body(uint16_t status) { return status < 200 || status == 204 || status == 304; }

} // namespace aisos::http
