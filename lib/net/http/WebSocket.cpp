#include "lib/net/http/WebSocket.h"
#include "lib/crypto/Base64.h"
#include "lib/crypto/Sha1.h"

namespace aisos::http {

ErrorOr<std::string_view> websocket_accept_key(std::string_view key, char (&buffer)[websocket_accept_length + 1])
{
    uint8_t nonce[18];
    if (key.size() != 24)
        return Error::invalid("Sec-WebSocket-Key is not 16 bytes in base64");
    size_t decoded = TRY(crypto::base64_decode(key, nonce));
    if (decoded != 16)
        return Error::invalid("Sec-WebSocket-Key is not 16 bytes in base64");
    crypto::Sha1 sha;
    sha.update(key);
    sha.update("258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    auto digest = sha.finish();
    auto text = TRY(crypto::base64_encode(digest, { buffer, websocket_accept_length }));
    buffer[websocket_accept_length] = 0;
    return text;
}

void WebSocket::reset()
{
    m_message.release();
    m_utf8.reset();
    m_state = State::Open;
    m_close_code = close_code::abnormal;
    m_abort = false;
    m_in_message = false;
    m_message_size = 0;
    m_in_frame = false;
    m_frame_offset = 0;
}

ErrorOr<void> WebSocket::send_frame(WebSocketOpcode opcode, std::span<const uint8_t> payload)
{
    uint8_t header[max_websocket_header];
    size_t header_length = write_websocket_frame_header(header, true, opcode, payload.size());
    if (!m_output.can_queue(header_length + payload.size()))
        return Error { ErrorCode::WouldBlock, "WebSocket send queue full" };
    // Header and payload go into the queue together so a frame is never split by a failure.
    if (header_length + payload.size() <= m_output.space()) {
        m_output.append({ header, header_length });
        m_output.append(payload);
        return {};
    }
    if (!m_output.append_or_queue({ header, header_length }) || !m_output.append_or_queue(payload)) {
        m_abort = true;
        m_state = State::Closed;
        return Error::no_memory();
    }
    return {};
}

ErrorOr<void> WebSocket::send_text(std::string_view text)
{
    if (m_state != State::Open)
        return Error::invalid("WebSocket is closing");
    return send_frame(WebSocketOpcode::Text, { reinterpret_cast<const uint8_t*>(text.data()), text.size() });
}

ErrorOr<void> WebSocket::send_binary(std::span<const uint8_t> data)
{
    if (m_state != State::Open)
        return Error::invalid("WebSocket is closing");
    return send_frame(WebSocketOpcode::Binary, data);
}

void WebSocket::close(uint16_t code, std::string_view reason)
{
    if (m_state != State::Open)
        return;
    uint8_t payload[125];
    payload[0] = uint8_t(code >> 8);
    payload[1] = uint8_t(code);
    size_t reason_length = reason.size() < 123 ? reason.size() : 123;
    __builtin_memcpy(payload + 2, reason.data(), reason_length);
    m_close_code = code;
    if (send_frame(WebSocketOpcode::Close, { payload, 2 + reason_length }).is_error()) {
        m_abort = true;
        m_state = State::Closed;
        return;
    }
    m_state = State::CloseSent;
}

void WebSocket::fail(uint16_t code)
{
    // _Fail the WebSocket Connection_ (RFC 6455 §7.1.7): send Close with the
    // reason code if we still may, then close without waiting for a reply.
    if (m_state == State::Open) {
        uint8_t payload[2] = { uint8_t(code >> 8), uint8_t(code) };
        if (send_frame(WebSocketOpcode::Close, payload).is_error())
            m_abort = true;
    }
    m_close_code = code;
    m_state = State::Closed;
    m_message.release();
}

void WebSocket::deliver(WebSocketSession& session, std::span<const uint8_t> payload)
{
    if (m_state != State::Open)
        return; // after our Close, data is discarded (RFC 6455 §5.5.1)
    ++m_messages_received;
    session.on_message(*this, m_message_type, payload);
}

void WebSocket::handle_control(WebSocketOpcode opcode, std::span<const uint8_t> payload, WebSocketSession&)
{
    switch (opcode) {
    case WebSocketOpcode::Ping:
        if (m_state == State::Open && send_frame(WebSocketOpcode::Pong, payload).is_error())
            fail(close_code::policy_violation);
        return;
    case WebSocketOpcode::Pong:
        return;
    case WebSocketOpcode::Close: {
        uint16_t code = close_code::no_status;
        if (payload.size() == 1) {
            fail(close_code::protocol_error);
            return;
        }
        if (payload.size() >= 2) {
            code = uint16_t((payload[0] << 8) | payload[1]);
            if (!is_valid_close_code(code)) {
                fail(close_code::protocol_error);
                return;
            }
            if (!json::is_valid_utf8(payload.subspan(2))) {
                fail(close_code::invalid_payload);
                return;
            }
        }
        if (m_state == State::Open) {
            // Echo the code (RFC 6455 §5.5.1); an empty Close gets an empty one.
            if (send_frame(WebSocketOpcode::Close, payload.first(payload.size() >= 2 ? 2 : 0)).is_error())
                m_abort = true;
            m_close_code = code;
        }
        m_state = State::Closed;
        m_message.release();
        return;
    }
    default:
        return;
    }
}

size_t WebSocket::receive(std::span<uint8_t> input, WebSocketSession& session)
{
    size_t position = 0;
    while (m_state != State::Closed) {
        if (m_in_frame) {
            // Payload of a data frame that streams into the message buffer.
            uint64_t remaining = m_frame.payload_length - m_frame_offset;
            size_t available = input.size() - position;
            size_t take = remaining < available ? size_t(remaining) : available;
            if (take == 0 && remaining > 0)
                break;
            auto piece = input.subspan(position, take);
            apply_websocket_mask(piece, m_frame.mask, m_frame_offset);
            if (m_message_type == WebSocketMessageType::Text && !m_utf8.feed(piece)) {
                fail(close_code::invalid_payload);
                break;
            }
            if (m_state == State::Open && !m_message.append(piece)) {
                fail(m_message.error().code() == ErrorCode::Overflow ? close_code::message_too_big : close_code::internal_error);
                break;
            }
            position += take;
            m_frame_offset += take;
            if (m_frame_offset < m_frame.payload_length)
                break;
            m_in_frame = false;
            if (m_frame.fin) {
                if (m_message_type == WebSocketMessageType::Text && !m_utf8.complete()) {
                    fail(close_code::invalid_payload);
                    break;
                }
                m_in_message = false;
                deliver(session, m_message.bytes());
                if (m_message.size() > 64 * 1024)
                    m_message.release(); // big buffers are kept only while in use
                else
                    m_message.clear();
            }
            continue;
        }

        auto parse = parse_websocket_frame_header(input.subspan(position));
        if (parse.kind == WebSocketFrameParse::Kind::NeedMore)
            break;
        if (parse.kind == WebSocketFrameParse::Kind::Error) {
            fail(parse.close_code);
            break;
        }
        auto& header = parse.header;
        bool control = uint8_t(header.opcode) & 0x8;
        if (control) {
            if (input.size() - position < header.header_length + header.payload_length)
                break; // control frames (<= 125 bytes) are handled whole
            auto payload = input.subspan(position + header.header_length, size_t(header.payload_length));
            apply_websocket_mask(payload, header.mask, 0);
            position += header.header_length + size_t(header.payload_length);
            handle_control(header.opcode, payload, session);
            continue;
        }
        if (header.opcode == WebSocketOpcode::Continuation) {
            if (!m_in_message) {
                fail(close_code::protocol_error);
                break;
            }
        } else {
            if (m_in_message) {
                fail(close_code::protocol_error);
                break;
            }
            m_in_message = true;
            m_message_type = header.opcode == WebSocketOpcode::Text ? WebSocketMessageType::Text : WebSocketMessageType::Binary;
            m_message_size = 0;
            m_utf8.reset();
            m_message.clear();
        }
        if (header.payload_length > m_limits.websocket_max_message - m_message_size) {
            fail(close_code::message_too_big);
            break;
        }
        m_message_size += header.payload_length;
        size_t frame_end = position + header.header_length + size_t(header.payload_length);
        if (header.fin && header.opcode != WebSocketOpcode::Continuation && frame_end <= input.size()) {
            // A whole unfragmented message in the buffer: delivered in place.
            auto payload = input.subspan(position + header.header_length, size_t(header.payload_length));
            apply_websocket_mask(payload, header.mask, 0);
            position = frame_end;
            m_in_message = false;
            if (m_message_type == WebSocketMessageType::Text && !json::is_valid_utf8(payload)) {
                fail(close_code::invalid_payload);
                break;
            }
            deliver(session, payload);
            continue;
        }
        m_frame = header;
        m_frame_offset = 0;
        m_in_frame = true;
        position += header.header_length;
    }
    if (m_state == State::Closed)
        return input.size(); // nothing after the end is ever read
    return position;
}

} // namespace aisos::http
