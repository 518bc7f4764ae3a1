#pragma once

// A WebSocket connection after the upgrade (RFC 6455), driven by
// HttpServer::poll(). The route's WebSocketFactory supplies a session
// object that receives whole messages; it sends through the WebSocket.
//
// Receiving: frames must be masked; fragments are reassembled up to
// HttpLimits::websocket_max_message (else close 1009); text is checked as
// UTF-8 across fragments as it arrives (else close 1007); protocol errors
// close with 1002; pings are answered with pongs; a Close is echoed and the
// connection ends. Sending: server frames are unmasked, one frame per
// message; messages that do not fit the connection's buffer wait in a
// bounded queue (HttpLimits::websocket_max_send_queue).

#include "lib/base/Allocator.h"
#include "lib/json/GrowableBuffer.h"
#include "lib/json/Utf8.h"
#include "lib/net/http/HttpLimits.h"
#include "lib/net/http/HttpRequest.h"
#include "lib/net/http/OutputQueue.h"
#include "lib/net/http/WebSocketFrame.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::http {

enum class WebSocketMessageType : uint8_t { Text, Binary };

class WebSocket;

class WebSocketSession {
public:
    virtual ~WebSocketSession() = default;
    virtual void on_open(WebSocket&) { }
    // A complete message; `payload` is valid only during the call.
    virtual void on_message(WebSocket&, WebSocketMessageType, std::span<const uint8_t> payload) = 0;
    // Every server poll while the connection is open: send what was produced meanwhile.
    virtual void on_poll(WebSocket&) { }
    // The session ends: the close code received or sent, 1006 when the
    // connection was lost. Called once; the session is destroyed afterwards.
    virtual void on_close(uint16_t) { }
};

class WebSocketFactory {
public:
    // Creates the session for a validated, authorized upgrade request
    // (allocator.create<...>()). An error answers 503 instead of 101. The
    // request's views are valid only during this call: copy what is needed.
    virtual ErrorOr<WebSocketSession*> create(Allocator&, const HttpRequest&) = 0;

protected:
    ~WebSocketFactory() = default;
};

// Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2): base64 of
// SHA-1(key + GUID). Fails when the key is not base64 of 16 bytes.
inline constexpr size_t websocket_accept_length = 28;
ErrorOr<std::string_view> websocket_accept_key(std::string_view key, char (&buffer)[websocket_accept_length + 1]);

class WebSocket {
public:
    enum class State : uint8_t {
        Open,
        CloseSent, // we sent Close and wait for the peer's
        Closed,    // done: the TCP connection should close after flushing
    };

    WebSocket(Allocator& allocator, OutputQueue& output, const HttpLimits& limits)
        : m_output(output)
        , m_limits(limits)
        , m_message(allocator, limits.websocket_max_message)
    {
    }

    ErrorOr<void> send_text(std::string_view);
    ErrorOr<void> send_binary(std::span<const uint8_t>);
    // Starts the closing handshake (code 1000 or 3000..4999 for applications).
    void close(uint16_t code = close_code::normal, std::string_view reason = {});
    // Whether a message of `size` bytes can be sent now.
    bool can_send(size_t size) const { return m_output.can_queue(size + max_websocket_header); }
    State state() const { return m_state; }
    bool is_open() const { return m_state == State::Open; }

    // --- for the server ---
    // Processes received bytes (unmasking them in place); returns how many
    // were consumed. Stops at an incomplete frame header or control frame.
    size_t receive(std::span<uint8_t> input, WebSocketSession&);
    // The close code to report to the session (valid once Closed).
    uint16_t close_code_value() const { return m_close_code; }
    // Fatal error without a close handshake (queue overflow): abort the TCP connection.
    bool needs_abort() const { return m_abort; }
    uint64_t messages_received() const { return m_messages_received; }
    void reset();

private:
    ErrorOr<void> send_frame(WebSocketOpcode, std::span<const uint8_t> payload);
    void fail(uint16_t code);
    void handle_control(WebSocketOpcode, std::span<const uint8_t> payload, WebSocketSession&);
    void deliver(WebSocketSession&, std::span<const uint8_t>);

    OutputQueue& m_output;
    const HttpLimits& m_limits;
    json::GrowableBuffer m_message;
    json::Utf8Validator m_utf8;
    State m_state { State::Open };
    uint16_t m_close_code { close_code::abnormal };
    bool m_abort { false };
    uint64_t m_messages_received { 0 };

    // The message being reassembled and the frame being received.
    bool m_in_message { false };
    WebSocketMessageType m_message_type { WebSocketMessageType::Text };
    uint64_t m_message_size { 0 };
    bool m_in_frame { false };
    WebSocketFrameHeader m_frame;
    uint64_t m_frame_offset { 0 };
};

} // namespace aisos::http
