#pragma once

// How a handler answers. One HttpResponse per connection, reused for every
// request. Either a whole response at once:
//
//   response.send(200, "application/json", R"({"status":"ok"})");
//   response.send_error(404, "no such file");      // JSON error body
//   JsonWriter json(response.body_buffer()); ...; response.send_buffer(200, "application/json");
//
// or a streamed one, produced over time from the handler's on_poll():
//
//   response.start(200, "text/plain", ResponseLength::unknown()); // chunked
//   response.write(piece);  // returns the bytes taken; 0 = full, try later
//   response.finish();
//
// Only the first answer counts: send*() after the response started is
// ignored. Extra fields go in with header() before send/start. Date, Server,
// Content-Length or Transfer-Encoding and Connection are written by the
// response itself. For HEAD requests the body is dropped, the fields stay.

#include "lib/base/Allocator.h"
#include "lib/json/GrowableBuffer.h"
#include "lib/net/http/HttpMethod.h"
#include "lib/net/http/OutputQueue.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::http {

struct ResponseLength {
    bool known_length { false };
    uint64_t length { 0 };
    static ResponseLength known(uint64_t length) { return { true, length }; }
    // Chunked for HTTP/1.1 clients; for HTTP/1.0 the end is marked by closing.
    static ResponseLength unknown() { return { false, 0 }; }
};

class HttpResponse {
public:
    static constexpr size_t max_extra_headers = 1024;
    static constexpr size_t max_head_size = 2048 + max_extra_headers;
    // Bodies made by send()/body_buffer() larger than this fail with 500.
    static constexpr size_t max_buffered_body = 64 * 1024 * 1024;

    HttpResponse(Allocator& allocator, OutputQueue& output)
        : m_output(output)
        , m_owned_body(allocator, max_buffered_body)
    {
    }

    // Adds a field to the coming response. Names must be tokens, values
    // free of CR, LF and other controls; at most max_extra_headers bytes.
    ErrorOr<void> header(std::string_view name, std::string_view value);

    void send(uint16_t status, std::string_view content_type, std::span<const uint8_t> body);
    void send(uint16_t status, std::string_view content_type, std::string_view body)
    {
        send(status, content_type, { reinterpret_cast<const uint8_t*>(body.data()), body.size() });
    }
    // Like send(), but `body` is not copied: it must stay valid until the
    // response is finished (static data, or memory the handler owns).
    void send_static(uint16_t status, std::string_view content_type, std::span<const uint8_t> body);
    // {"error": {"code": status, "message": message}}
    void send_error(uint16_t status, std::string_view message);
    // A response without a body (e.g. 204, or 201 without content).
    void send_empty(uint16_t status);
    // A buffer (allocated on first use) to build a body in, then send_buffer().
    json::GrowableBuffer& body_buffer() { return m_owned_body; }
    void send_buffer(uint16_t status, std::string_view content_type);

    ErrorOr<void> start(uint16_t status, std::string_view content_type, ResponseLength);
    size_t write(std::span<const uint8_t>);
    size_t write(std::string_view text) { return write({ reinterpret_cast<const uint8_t*>(text.data()), text.size() }); }
    void finish();
    // Bytes write() can take now (before chunk framing).
    size_t writable() const;

    // Closes the connection after this response (adds Connection: close).
    void close_connection() { m_close_after = true; }

    bool started() const { return m_state != State::Idle; }
    bool finished() const { return m_state == State::Finished; }
    uint16_t status() const { return m_status; }
    bool will_close() const { return m_close_after; }
    // Set when the response could not be produced; the server aborts the connection.
    bool failed() const { return m_failed; }
    // Gives up on a started response: the connection is aborted, so a
    // streamed body that cannot be completed never looks complete.
    void abandon() { fail(); }

    // --- for the server ---
    struct Context {
        HttpMethod method { HttpMethod::Get };
        HttpVersion version { HttpVersion::Http11 };
        bool keep_alive { true };
        std::string_view date;
        std::string_view server;
    };
    void begin_request(const Context&);
    void set_context(const Context& context) { m_context = context; }
    // While the request body is not fully read, a response must close the
    // connection (the rest of the body cannot be told from the next request).
    void set_body_unread(bool unread) { m_body_unread = unread; }
    // Sends what is waiting (a static or buffered body); true when all of it is out.
    bool pump();
    void reset();
    uint64_t body_bytes() const { return m_body_bytes; }
    bool body_complete() const { return !m_pending_body.size(); }
    // A 101 Switching Protocols head written by the WebSocket upgrade.
    ErrorOr<void> start_switching_protocols();

private:
    enum class State : uint8_t { Idle, Streaming, Sending, Finished };
    enum class Framing : uint8_t { Length, Chunked, Close, None };

    ErrorOr<void> write_head(uint16_t status, std::string_view content_type, ResponseLength, bool has_body);
    void fail();

    OutputQueue& m_output;
    json::GrowableBuffer m_owned_body;
    Context m_context;
    State m_state { State::Idle };
    Framing m_framing { Framing::Length };
    uint16_t m_status { 0 };
    uint64_t m_remaining { 0 };
    uint64_t m_body_bytes { 0 };
    std::span<const uint8_t> m_pending_body;
    char m_extra_headers[max_extra_headers];
    size_t m_extra_length { 0 };
    bool m_close_after { false };
    bool m_body_unread { false };
    bool m_failed { false };
};

} // namespace aisos::http
