#pragma once

// WebSocket frame header parsing and writing (RFC 6455 §5.2).

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::http {

enum class WebSocketOpcode : uint8_t {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

// Close codes (RFC 6455 §7.4.1).
namespace close_code {
inline constexpr uint16_t normal = 1000;
inline constexpr uint16_t going_away = 1001;
inline constexpr uint16_t protocol_error = 1002;
inline constexpr uint16_t unsupported_data = 1003;
inline constexpr uint16_t no_status = 1005;  // never sent
inline constexpr uint16_t abnormal = 1006;   // never sent
inline constexpr uint16_t invalid_payload = 1007;
inline constexpr uint16_t policy_violation = 1008;
inline constexpr uint16_t message_too_big = 1009;
inline constexpr uint16_t internal_error = 1011;
} // namespace close_code

// Whether a close code received from a peer is allowed on the wire.
constexpr bool is_valid_close_code(uint16_t code)
{
    if (code >= 3000 && code <= 4999)
        return true;
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

struct WebSocketFrameHeader {
    bool fin { false };
    WebSocketOpcode opcode { WebSocketOpcode::Continuation };
    bool masked { false };
    uint8_t mask[4] {};
    uint64_t payload_length { 0 };
    size_t header_length { 0 };
};

struct WebSocketFrameParse {
    enum class Kind : uint8_t { NeedMore, Frame, Error } kind { Kind::NeedMore };
    WebSocketFrameHeader header;
    uint16_t close_code { 0 }; // Error: the code to close with
    const char* reason { nullptr };
};

// Parses a frame header from the start of `input` as a server receives it:
// RSV bits must be 0 (no extensions are negotiated), the opcode known,
// frames masked, control frames final and at most 125 bytes, the length in
// its minimal encoding with the top bit of a 64-bit length clear.
WebSocketFrameParse parse_websocket_frame_header(std::span<const uint8_t> input);

// XORs payload bytes with the mask; `offset` is the position of data[0]
// within the frame payload (so a payload can be unmasked in pieces).
void apply_websocket_mask(std::span<uint8_t> data, const uint8_t (&mask)[4], uint64_t offset);

// Writes an unmasked (server) frame header; returns its length (2..10).
inline constexpr size_t max_websocket_header = 10;
size_t write_websocket_frame_header(uint8_t (&out)[max_websocket_header], bool fin, WebSocketOpcode, uint64_t payload_length);

} // namespace aisos::http
