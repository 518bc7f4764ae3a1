#pragma once

// A parsed request head. Every view points into the connection's input
// buffer and stays valid until the response is finished.

#include "lib/net/http/Authenticator.h"
#include "lib/net/http/HttpMethod.h"

#include <optional>
#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::http {

struct HttpHeader {
    std::string_view name;
    std::string_view value; // without surrounding whitespace
};

struct ClientInfo {
    uint32_t ipv4 { 0 };
    uint16_t port { 0 };
};

enum class BodyFraming : uint8_t { None, ContentLength, Chunked };

struct RouteParameter {
    std::string_view name;
    std::string_view value; // raw (still percent-encoded)
};

class HttpRequest {
public:
    static constexpr size_t max_route_parameters = 8;

    HttpMethod method { HttpMethod::Get };
    HttpVersion version { HttpVersion::Http11 };
    std::string_view target; // as sent
    std::string_view path;   // origin path, raw (percent-encoded)
    std::string_view query;  // after '?', raw; empty when none
    std::span<const HttpHeader> headers;

    BodyFraming body_framing { BodyFraming::None };
    uint64_t content_length { 0 };
    bool keep_alive { true };
    bool expect_continue { false };
    bool upgrade_websocket { false }; // Upgrade: websocket + Connection: upgrade

    ClientInfo client;
    AuthResult identity;
    RouteParameter parameters[max_route_parameters];
    size_t parameter_count { 0 };

    // First field with this name (case-insensitive); empty optional when absent.
    std::optional<std::string_view> header(std::string_view name) const;
    size_t header_count(std::string_view name) const;
    // Route parameter (":name" or "*name"), raw; empty when absent.
    std::string_view parameter(std::string_view name) const;
    bool has_body() const { return body_framing == BodyFraming::Chunked || (body_framing == BodyFraming::ContentLength && content_length > 0); }
};

// The result of parsing a request head: status 0 when valid, else the
// error status to answer (400, 414, 431, 501, 505, 417) and why.
struct HeadParseResult {
    uint16_t status { 0 };
    const char* reason { nullptr };
    bool ok() const { return status == 0; }
};

struct HttpLimits;

// Finds the end of a request head in the bytes received so far while
// enforcing the limits that can be checked before it is complete (414 for
// the request line, 431 for the field section, 400 for a bare LF or CR).
// It keeps its progress, so a head trickling in byte by byte costs linear
// time. Call reset() before each request; the buffer passed must always
// start at the same request start and only grow.
struct HeadScan {
    enum class Kind : uint8_t { NeedMore, Complete, Error } kind;
    size_t head_length { 0 }; // Complete: bytes up to and including the empty line
    size_t skipped { 0 };     // leading empty lines to ignore (RFC 9112 §2.2)
    HeadParseResult error {};
};

class RequestHeadScanner {
public:
    explicit RequestHeadScanner(const HttpLimits& limits)
        : m_limits(&limits)
    {
    }
    HeadScan scan(std::span<const uint8_t> buffer);
    void reset()
    {
        auto* limits = m_limits;
        *this = RequestHeadScanner(*limits);
    }
    // True once any byte of a request has been seen (not just empty lines).
    bool started() const { return m_position > m_skipped; }

private:
    const HttpLimits* m_limits;
    size_t m_position { 0 };
    size_t m_line_start { 0 };
    size_t m_skipped { 0 };
    size_t m_fields_start { 0 };
    size_t m_field_count { 0 };
    bool m_request_line_done { false };
};

// Parses a complete head (as found by scan_request_head, without the
// skipped leading empty lines) into `request`, storing fields in `storage`.
HeadParseResult parse_request_head(std::span<const uint8_t> head, std::span<HttpHeader> storage, const HttpLimits&, HttpRequest& request);

} // namespace aisos::http
