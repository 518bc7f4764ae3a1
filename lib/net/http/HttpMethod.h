#pragma once

#include <stdint.h>
#include <string_view>

namespace aisos::http {

// The methods aiSOS serves; any other token is answered 501.
enum class HttpMethod : uint8_t { Get, Head, Post, Put, Delete, Options };
inline constexpr size_t http_method_count = 6;

constexpr std::string_view http_method_name(HttpMethod method)
{
    switch (method) {
    case HttpMethod::Get: return "GET";
    case HttpMethod::Head: return "HEAD";
    case HttpMethod::Post: return "POST";
    case HttpMethod::Put: return "PUT";
    case HttpMethod::Delete: return "DELETE";
    case HttpMethod::Options: return "OPTIONS";
    }
    return "?";
}

// Methods are case-sensitive (RFC 9110 §9.1).
constexpr bool parse_http_method(std::string_view text, HttpMethod& method)
{
    for (size_t i = 0; i < http_method_count; ++i) {
        auto candidate = static_cast<HttpMethod>(i);
        if (text == http_method_name(candidate)) {
            method = candidate;
            return true;
        }
    }
    return false;
}

enum class HttpVersion : uint8_t { Http10, Http11 };

} // namespace aisos::http
