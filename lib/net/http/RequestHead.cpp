#include "lib/net/http/HttpLimits.h"
#include "lib/net/http/HttpRequest.h"
#include "lib/net/http/HttpSyntax.h"

namespace aisos::http {

static constexpr size_t max_leading_empty_lines = 8;

HeadScan RequestHeadScanner::scan(std::span<const uint8_t> buffer)
{
    auto error = [](uint16_t status, const char* reason) {
        HeadScan result { HeadScan::Kind::Error };
        result.error = { status, reason };
        return result;
    };
    const auto& limits = *m_limits;
    while (m_position < buffer.size()) {
        // Whole lines at a time: find the LF, then check the line's CRs.
        auto* start = buffer.data() + m_position;
        auto* line_feed = static_cast<const uint8_t*>(__builtin_memchr(start, '\n', buffer.size() - m_position));
        if (!line_feed) {
            m_position = buffer.size();
            break;
        }
        m_position = size_t(line_feed - buffer.data());
        if (m_position == m_line_start || buffer[m_position - 1] != '\r')
            return error(400, "bare LF in request head");
        // A CR anywhere else in the line is bare (RFC 9112 §2.2).
        if (__builtin_memchr(buffer.data() + m_line_start, '\r', m_position - 1 - m_line_start))
            return error(400, "bare CR in request head");
        size_t line_length = m_position - 1 - m_line_start;
        size_t next_line = m_position + 1;
        if (!m_request_line_done) {
            if (line_length == 0) {
                // Empty lines before the request line are ignored, a few of them.
                if (next_line / 2 > max_leading_empty_lines)
                    return error(400, "too many empty lines before the request");
                m_skipped = next_line;
            } else {
                if (line_length > limits.max_request_line)
                    return error(414, "request line too long");
                m_request_line_done = true;
                m_fields_start = next_line;
            }
        } else if (line_length == 0) {
            HeadScan result { HeadScan::Kind::Complete };
            result.head_length = next_line;
            result.skipped = m_skipped;
            m_position = next_line;
            return result;
        } else {
            if (++m_field_count > limits.max_header_fields)
                return error(431, "too many header fields");
            if (next_line - m_fields_start > limits.max_header_bytes)
                return error(431, "header section too large");
        }
        m_line_start = next_line;
        m_position = next_line;
    }
    if (!m_request_line_done && m_position - m_line_start > limits.max_request_line)
        return error(414, "request line too long");
    if (m_request_line_done && m_position - m_fields_start > limits.max_header_bytes)
        return error(431, "header section too large");
    return { HeadScan::Kind::NeedMore };
}

static bool parse_content_length(std::string_view value, uint64_t& length)
{
    // 1*DIGIT only: no sign, no whitespace inside, no hex (RFC 9110 §8.6).
    if (value.empty() || value.size() > 19)
        return false;
    uint64_t result = 0;
    for (char c : value) {
        if (c < '0' || c > '9')
            return false;
        result = result * 10 + uint64_t(c - '0');
    }
    length = result;
    return true;
}

static bool is_target_char(uint8_t c)
{
    // Visible ASCII only; '#' (fragment) is never sent in a request.
    return c > 0x20 && c < 0x7F && c != '#';
}

HeadParseResult parse_request_head(std::span<const uint8_t> head_bytes, std::span<HttpHeader> storage, const HttpLimits& limits, HttpRequest& request)
{
    std::string_view head(reinterpret_cast<const char*>(head_bytes.data()), head_bytes.size());
    auto bad = [](const char* reason) { return HeadParseResult { 400, reason }; };

    // request-line = method SP request-target SP HTTP-version CRLF
    size_t line_end = head.find("\r\n");
    if (line_end == std::string_view::npos)
        return bad("incomplete request line");
    auto line = head.substr(0, line_end);
    if (line.size() > limits.max_request_line)
        return { 414, "request line too long" };
    size_t first_space = line.find(' ');
    if (first_space == std::string_view::npos)
        return bad("malformed request line");
    size_t second_space = line.find(' ', first_space + 1);
    if (second_space == std::string_view::npos || line.find(' ', second_space + 1) != std::string_view::npos)
        return bad("malformed request line");
    auto method = line.substr(0, first_space);
    auto target = line.substr(first_space + 1, second_space - first_space - 1);
    auto version = line.substr(second_space + 1);
    if (!is_token(method))
        return bad("invalid method");
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[5] < '0' || version[5] > '9' || version[6] != '.' || version[7] < '0' || version[7] > '9')
        return bad("invalid HTTP version");
    if (version == "HTTP/1.1")
        request.version = HttpVersion::Http11;
    else if (version == "HTTP/1.0")
        request.version = HttpVersion::Http10;
    else
        return { 505, "HTTP version not supported" };
    if (!parse_http_method(method, request.method))
        return { 501, "method not implemented" };
    if (target.empty())
        return bad("empty request target");
    for (char c : target) {
        if (!is_target_char(static_cast<uint8_t>(c)))
            return bad("invalid character in request target");
    }
    request.target = target;
    std::string_view origin = target;
    if (target.front() != '/') {
        if (target == "*") {
            if (request.method != HttpMethod::Options)
                return bad("asterisk-form only for OPTIONS");
            origin = "*";
        } else {
            // absolute-form (RFC 9112 §3.2.2): http://authority/path
            constexpr std::string_view http_prefix = "http://";
            if (target.size() < http_prefix.size() || !equals_ignoring_case(target.substr(0, http_prefix.size()), http_prefix))
                return bad("unsupported request target form");
            auto rest = target.substr(http_prefix.size());
            size_t slash = rest.find_first_of("/?");
            if (slash == 0 || rest.empty())
                return bad("absolute-form without authority");
            origin = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
            if (origin.front() == '?')
                return bad("absolute-form without path");
        }
    }
    size_t question = origin.find('?');
    request.path = origin.substr(0, question);
    request.query = question == std::string_view::npos ? std::string_view {} : origin.substr(question + 1);

    // field-line = field-name ":" OWS field-value OWS CRLF
    size_t count = 0;
    size_t position = line_end + 2;
    while (true) {
        size_t end = head.find("\r\n", position);
        if (end == std::string_view::npos)
            return bad("incomplete header section");
        if (end == position)
            break;
        auto field = head.substr(position, end - position);
        position = end + 2;
        if (field.front() == ' ' || field.front() == '\t')
            return bad("obs-fold in header section");
        size_t colon = field.find(':');
        if (colon == std::string_view::npos)
            return bad("header field without ':'");
        auto name = field.substr(0, colon);
        if (!is_token(name))
            return bad("invalid header field name"); // includes whitespace before ':'
        auto value = field.substr(colon + 1);
        for (char c : value) {
            if (!is_field_value_char(static_cast<uint8_t>(c)))
                return bad("control character in header field value");
        }
        if (count >= storage.size() || count >= limits.max_header_fields)
            return { 431, "too many header fields" };
        storage[count++] = { name, trim_whitespace(value) };
    }
    if (position - (line_end + 2) > limits.max_header_bytes + 2)
        return { 431, "header section too large" };
    request.headers = storage.first(count);

    // Host (RFC 9112 §3.2): exactly one for HTTP/1.1.
    size_t hosts = request.header_count("host");
    if (hosts > 1)
        return bad("more than one Host field");
    if (hosts == 0 && request.version == HttpVersion::Http11)
        return bad("missing Host field");
    if (hosts == 1) {
        auto host = *request.header("host");
        for (char c : host) {
            if (c == ' ' || c == '\t' || c == '/' || c == '@' || c == '\\')
                return bad("invalid Host field");
        }
    }

    // Body framing (RFC 9112 §6). Content-Length together with
    // Transfer-Encoding is a smuggling shape: refused, not resolved.
    bool has_length = false;
    uint64_t length = 0;
    bool has_transfer_encoding = false;
    bool chunked = false;
    bool unknown_coding = false;
    size_t codings = 0;
    bool connection_close = false;
    bool connection_keep_alive = false;
    bool connection_upgrade = false;
    bool upgrade_websocket = false;
    bool expect_continue = false;
    bool bad_length = false;
    bool conflicting_length = false;
    bool bad_expect = false;
    for (auto& header : request.headers) {
        if (equals_ignoring_case(header.name, "content-length")) {
            for_each_list_element(header.value, [&](std::string_view element) {
                uint64_t value;
                if (!parse_content_length(element, value)) {
                    bad_length = true;
                    return false;
                }
                if (has_length && value != length)
                    conflicting_length = true;
                has_length = true;
                length = value;
                return true;
            });
            if (header.value.empty())
                bad_length = true;
        } else if (equals_ignoring_case(header.name, "transfer-encoding")) {
            has_transfer_encoding = true;
            for_each_list_element(header.value, [&](std::string_view coding) {
                ++codings;
                if (chunked) {
                    chunked = false; // chunked must be the final coding
                    unknown_coding = true;
                }
                if (equals_ignoring_case(coding, "chunked"))
                    chunked = true;
                else
                    unknown_coding = true;
                return true;
            });
        } else if (equals_ignoring_case(header.name, "connection")) {
            for_each_list_element(header.value, [&](std::string_view option) {
                if (equals_ignoring_case(option, "close"))
                    connection_close = true;
                else if (equals_ignoring_case(option, "keep-alive"))
                    connection_keep_alive = true;
                else if (equals_ignoring_case(option, "upgrade"))
                    connection_upgrade = true;
                return true;
            });
        } else if (equals_ignoring_case(header.name, "upgrade")) {
            for_each_list_element(header.value, [&](std::string_view protocol) {
                if (equals_ignoring_case(protocol, "websocket"))
                    upgrade_websocket = true;
                return true;
            });
        } else if (equals_ignoring_case(header.name, "expect")) {
            if (equals_ignoring_case(header.value, "100-continue"))
                expect_continue = true;
            else
                bad_expect = true;
        }
    }
    if (bad_length)
        return bad("invalid Content-Length");
    if (conflicting_length)
        return bad("conflicting Content-Length values");
    if (has_transfer_encoding) {
        if (has_length)
            return bad("both Content-Length and Transfer-Encoding");
        if (request.version == HttpVersion::Http10)
            return bad("Transfer-Encoding in an HTTP/1.0 request");
        if (codings == 0)
            return bad("empty Transfer-Encoding");
        if (!chunked)
            return bad("chunked is not the final transfer coding");
        if (unknown_coding)
            return { 501, "transfer coding not implemented" };
        request.body_framing = BodyFraming::Chunked;
    } else if (has_length) {
        request.body_framing = BodyFraming::ContentLength;
        request.content_length = length;
    } else {
        request.body_framing = BodyFraming::None;
    }
    if (bad_expect)
        return { 417, "unsupported expectation" };
    request.expect_continue = expect_continue && request.version == HttpVersion::Http11;
    if (request.version == HttpVersion::Http11)
        request.keep_alive = !connection_close;
    else
        request.keep_alive = connection_keep_alive && !connection_close;
    request.upgrade_websocket = upgrade_websocket && connection_upgrade;
    return {};
}

std::optional<std::string_view> HttpRequest::header(std::string_view name) const
{
    for (auto& header : headers) {
        if (equals_ignoring_case(header.name, name))
            return header.value;
    }
    return {};
}

size_t HttpRequest::header_count(std::string_view name) const
{
    size_t count = 0;
    for (auto& header : headers) {
        if (equals_ignoring_case(header.name, name))
            ++count;
    }
    return count;
}

std::string_view HttpRequest::parameter(std::string_view name) const
{
    for (size_t i = 0; i < parameter_count; ++i) {
        if (parameters[i].name == name)
            return parameters[i].value;
    }
    return {};
}

} // namespace aisos::http
