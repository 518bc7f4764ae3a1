#pragma once

// TCP header parsing and building (RFC 9293 section 3.1) with the options
// this stack uses: MSS (RFC 9293 3.7.1) and window scale (RFC 7323 2).
// SACK-permitted and timestamps are recognised and ignored (never
// negotiated, since our SYN-ACK does not offer them).

#include "lib/base/ErrorOr.h"

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::net {

namespace TcpFlag {
constexpr uint8_t Fin = 0x01;
constexpr uint8_t Syn = 0x02;
constexpr uint8_t Rst = 0x04;
constexpr uint8_t Psh = 0x08;
constexpr uint8_t Ack = 0x10;
constexpr uint8_t Urg = 0x20;
}

struct TcpOptions {
    bool has_mss { false };
    uint16_t mss { 0 };
    bool has_window_scale { false };
    uint8_t window_scale { 0 }; // as received; RFC 7323: values above 14 are used as 14
    bool sack_permitted { false };
};

struct TcpSegment {
    uint16_t source_port { 0 };
    uint16_t destination_port { 0 };
    uint32_t sequence { 0 };
    uint32_t acknowledgment { 0 };
    uint8_t flags { 0 };
    uint16_t window { 0 };
    TcpOptions options;
    std::span<const uint8_t> payload;

    bool has(uint8_t flag) const { return (flags & flag) != 0; }
    // SEG.LEN: payload plus one for each of SYN and FIN.
    uint32_t length() const { return static_cast<uint32_t>(payload.size()) + (has(TcpFlag::Syn) ? 1 : 0) + (has(TcpFlag::Fin) ? 1 : 0); }
};

constexpr size_t tcp_header_size = 20;

// Parses a TCP header and options (the checksum is checked by the caller,
// which knows the pseudo header). Malformed options are an error.
ErrorOr<TcpSegment> parse_tcp_segment(std::span<const uint8_t> bytes);

// Writes a 20-byte header plus options into `out` (which must have room for
// 20 + options_size bytes); returns the header length. The checksum field
// is left zero.
struct TcpHeaderFields {
    uint16_t source_port;
    uint16_t destination_port;
    uint32_t sequence;
    uint32_t acknowledgment;
    uint8_t flags;
    uint16_t window;
    bool include_mss { false };
    uint16_t mss { 0 };
    bool include_window_scale { false };
    uint8_t window_scale { 0 };
};
size_t write_tcp_header(uint8_t* out, const TcpHeaderFields&);

} // namespace aisos::net
