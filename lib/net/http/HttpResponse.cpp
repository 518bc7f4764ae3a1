#include "lib/net/http/HttpResponse.h"
#include "lib/base/Format.h"
#include "lib/json/JsonWriter.h"
#include "lib/net/http/HttpStatus.h"
#include "lib/net/http/HttpSyntax.h"

namespace aisos::http {

namespace {

class HeadWriter {
public:
    HeadWriter(char* buffer, size_t capacity)
        : m_buffer(buffer)
        , m_capacity(capacity)
    {
    }
    void append(std::string_view text)
    {
        if (text.size() > m_capacity - m_length) {
            m_overflowed = true;
            return;
        }
        __builtin_memcpy(m_buffer + m_length, text.data(), text.size());
        m_length += text.size();
    }
    void append_number(uint64_t value)
    {
        char digits[20];
        size_t count = 0;
        do {
            digits[sizeof(digits) - 1 - count++] = char('0' + value % 10);
            value /= 10;
        } while (value);
        append({ digits + sizeof(digits) - count, count });
    }
    size_t length() const { return m_length; }
    bool overflowed() const { return m_overflowed; }

private:
    char* m_buffer;
    size_t m_capacity;
    size_t m_length { 0 };
    bool m_overflowed { false };
};

} // namespace

void HttpResponse::begin_request(const Context& context)
{
    reset();
    m_context = context;
}

void HttpResponse::reset()
{
    m_state = State::Idle;
    m_framing = Framing::Length;
    m_status = 0;
    m_remaining = 0;
    m_body_bytes = 0;
    m_pending_body = {};
    m_extra_length = 0;
    m_close_after = false;
    m_body_unread = false;
    m_failed = false;
    m_owned_body.release();
}

void HttpResponse::fail()
{
    m_failed = true;
    m_close_after = true;
    m_state = State::Finished;
    m_pending_body = {};
}

ErrorOr<void> HttpResponse::header(std::string_view name, std::string_view value)
{
    if (m_state != State::Idle)
        return Error::invalid("response already started");
    if (!is_token(name))
        return Error::invalid("invalid response field name");
    for (char c : value) {
        if (!is_field_value_char(static_cast<uint8_t>(c)))
            return Error::invalid("control character in response field value");
    }
    size_t needed = name.size() + 2 + value.size() + 2;
    if (needed > max_extra_headers - m_extra_length)
        return Error { ErrorCode::Overflow, "too many response fields" };
    char* out = m_extra_headers + m_extra_length;
    __builtin_memcpy(out, name.data(), name.size());
    out += name.size();
    *out++ = ':';
    *out++ = ' ';
    __builtin_memcpy(out, value.data(), value.size());
    out += value.size();
    *out++ = '\r';
    *out++ = '\n';
    m_extra_length += needed;
    return {};
}

ErrorOr<void> HttpResponse::write_head(uint16_t status, std::string_view content_type, ResponseLength length, bool has_body)
{
    if (m_state != State::Idle)
        return Error::invalid("response already started");
    if (status < 200 || status > 599)
        return Error::invalid("invalid response status");
    for (char c : content_type) {
        if (!is_field_value_char(static_cast<uint8_t>(c)))
            return Error::invalid("control character in content type");
    }
    m_status = status;
    bool head_only = m_context.method == HttpMethod::Head;
    if (!has_body || http_status_has_no_body(status)) {
        m_framing = Framing::None;
        length = ResponseLength::known(0);
    } else if (length.known_length) {
        m_framing = head_only ? Framing::None : Framing::Length;
        m_remaining = length.length;
    } else if (m_context.version == HttpVersion::Http11) {
        m_framing = head_only ? Framing::None : Framing::Chunked;
    } else {
        m_framing = head_only ? Framing::None : Framing::Close;
        m_close_after = true;
    }
    bool keep_alive = m_context.keep_alive && !m_close_after && !m_body_unread;

    // Appended piece by piece rather than through format(): this runs for
    // every response.
    HeadWriter head(reinterpret_cast<char*>(m_output.tail()), m_output.space());
    head.append("HTTP/1.1 ");
    head.append_number(status);
    head.append(" ");
    head.append(http_status_reason(status));
    head.append("\r\nDate: ");
    head.append(m_context.date);
    head.append("\r\nServer: ");
    head.append(m_context.server);
    head.append("\r\n");
    if (!content_type.empty() && has_body && !http_status_has_no_body(status)) {
        head.append("Content-Type: ");
        head.append(content_type);
        head.append("\r\n");
    }
    if (!http_status_has_no_body(status)) {
        if (length.known_length) {
            head.append("Content-Length: ");
            head.append_number(length.length);
            head.append("\r\n");
        } else if (m_context.version == HttpVersion::Http11) {
            head.append("Transfer-Encoding: chunked\r\n");
        }
    }
    if (!keep_alive)
        head.append("Connection: close\r\n");
    else if (m_context.version == HttpVersion::Http10)
        head.append("Connection: keep-alive\r\n");
    head.append({ m_extra_headers, m_extra_length });
    head.append("\r\n");
    if (head.overflowed())
        return Error { ErrorCode::Overflow, "no room for the response head" };
    m_output.commit(head.length());
    m_close_after = !keep_alive;
    return {};
}

void HttpResponse::send(uint16_t status, std::string_view content_type, std::span<const uint8_t> body)
{
    if (m_state != State::Idle)
        return; // a second answer to one request is a handler bug: ignored
    if (write_head(status, content_type, ResponseLength::known(body.size()), true).is_error()) {
        fail();
        return;
    }
    m_state = State::Sending;
    if (m_framing == Framing::None) {
        m_state = State::Finished;
        return;
    }
    size_t taken = m_output.write_through(body);
    m_body_bytes += taken;
    body = body.subspan(taken);
    if (body.empty()) {
        m_state = State::Finished;
        return;
    }
    // The rest is copied, so the caller's memory may go away now.
    m_owned_body.clear();
    if (!m_owned_body.append(body)) {
        fail();
        return;
    }
    m_pending_body = m_owned_body.bytes();
}

void HttpResponse::send_static(uint16_t status, std::string_view content_type, std::span<const uint8_t> body)
{
    if (m_state != State::Idle)
        return; // a second answer to one request is a handler bug: ignored
    if (write_head(status, content_type, ResponseLength::known(body.size()), true).is_error()) {
        fail();
        return;
    }
    m_state = State::Sending;
    if (m_framing == Framing::None) {
        m_state = State::Finished;
        return;
    }
    m_pending_body = body;
    pump();
}

void HttpResponse::send_buffer(uint16_t status, std::string_view content_type)
{
    if (m_state != State::Idle)
        return; // a second answer to one request is a handler bug: ignored
    if (m_owned_body.failed()) {
        m_owned_body.release();
        send_error(500, "response body could not be built");
        return;
    }
    send_static(status, content_type, m_owned_body.bytes());
}

void HttpResponse::send_error(uint16_t status, std::string_view message)
{
    if (m_state != State::Idle)
        return; // a second answer to one request is a handler bug: ignored
    if (message.size() > 160)
        message = message.substr(0, 160);
    char buffer[1200];
    BufferSink sink(buffer, sizeof(buffer));
    json::JsonWriter json(sink);
    json.begin_object();
    json.key("error");
    json.begin_object();
    json.member("code", uint32_t(status));
    json.member("message", message);
    json.end_object();
    json.end_object();
    send(status, "application/json", sink.view());
}

void HttpResponse::send_empty(uint16_t status)
{
    if (m_state != State::Idle)
        return; // a second answer to one request is a handler bug: ignored
    if (write_head(status, {}, ResponseLength::known(0), false).is_error()) {
        fail();
        return;
    }
    m_state = State::Finished;
}

ErrorOr<void> HttpResponse::start(uint16_t status, std::string_view content_type, ResponseLength length)
{
    TRY(write_head(status, content_type, length, true));
    m_state = State::Streaming;
    return {};
}

size_t HttpResponse::writable() const
{
    if (m_state != State::Streaming)
        return 0;
    switch (m_framing) {
    case Framing::None:
        return ~size_t(0) >> 1;
    case Framing::Chunked: {
        size_t space = m_output.space();
        return space > 24 ? space - 24 : 0;
    }
    case Framing::Length:
    case Framing::Close:
        return m_output.space();
    }
    return 0;
}

size_t HttpResponse::write(std::span<const uint8_t> data)
{
    if (m_state != State::Streaming)
        return 0;
    switch (m_framing) {
    case Framing::None:
        return data.size();
    case Framing::Length: {
        // Bytes beyond the declared length are a handler bug: dropped.
        size_t allowed = data.size() < m_remaining ? data.size() : size_t(m_remaining);
        size_t taken = m_output.write_through(data.first(allowed));
        m_remaining -= taken;
        m_body_bytes += taken;
        return taken == allowed ? data.size() : taken;
    }
    case Framing::Close: {
        size_t taken = m_output.write_through(data);
        m_body_bytes += taken;
        return taken;
    }
    case Framing::Chunked: {
        size_t room = writable();
        size_t length = data.size() < room ? data.size() : room;
        if (length == 0)
            return 0;
        char line[24];
        auto size_line = format_to(line, sizeof(line), "{:x}\r\n", length);
        m_output.append(size_line);
        m_output.append(data.first(length));
        m_output.append(std::string_view("\r\n"));
        m_body_bytes += length;
        return length;
    }
    }
    return 0;
}

void HttpResponse::finish()
{
    if (m_state != State::Streaming)
        return;
    if (m_framing == Framing::Length && m_remaining > 0) {
        // Fewer bytes than announced: only closing tells the client.
        m_close_after = true;
    }
    m_state = State::Sending;
    pump();
}

bool HttpResponse::pump()
{
    if (m_state == State::Finished)
        return true;
    if (m_state != State::Sending)
        return false;
    while (!m_pending_body.empty()) {
        size_t taken = m_output.write_through(m_pending_body);
        if (taken == 0)
            return false;
        m_body_bytes += taken;
        m_pending_body = m_pending_body.subspan(taken);
    }
    if (m_framing == Framing::Chunked) {
        if (!m_output.append(std::string_view("0\r\n\r\n")))
            return false;
        m_framing = Framing::Length;
    }
    m_state = State::Finished;
    return true;
}

ErrorOr<void> HttpResponse::start_switching_protocols()
{
    if (m_state != State::Idle)
        return Error::invalid("response already started");
    BufferSink sink(reinterpret_cast<char*>(m_output.tail()), m_output.space());
    format(sink, "HTTP/1.1 101 Switching Protocols\r\nDate: {}\r\nServer: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", m_context.date, m_context.server);
    sink.write(m_extra_headers, m_extra_length);
    sink.write("\r\n", 2);
    if (sink.truncated())
        return Error { ErrorCode::Overflow, "no room for the response head" };
    m_output.commit(sink.length());
    m_status = 101;
    m_state = State::Finished;
    return {};
}

} // namespace aisos::http
