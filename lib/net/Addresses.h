#pragma once

// Link and network addresses. Ipv4Address keeps the address as a host-order
// integer (10.0.2.15 is 0x0a00020f) so masks and comparisons are plain
// integer operations; it is converted to wire order only in packet code.

#include "lib/base/ErrorOr.h"

#include <array>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::net {

struct MacAddress {
    std::array<uint8_t, 6> bytes {};

    static constexpr MacAddress broadcast() { return { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } }; }
    static MacAddress from(const uint8_t* wire)
    {
        MacAddress mac;
        __builtin_memcpy(mac.bytes.data(), wire, 6);
        return mac;
    }
    void store(uint8_t* wire) const { __builtin_memcpy(wire, bytes.data(), 6); }
    constexpr bool is_broadcast() const { return *this == broadcast(); }
    // The group bit: broadcast and multicast destinations.
    constexpr bool is_group() const { return (bytes[0] & 1) != 0; }
    constexpr bool is_zero() const { return *this == MacAddress {}; }
    constexpr bool operator==(const MacAddress&) const = default;
};

struct Ipv4Address {
    uint32_t value { 0 };

    static constexpr Ipv4Address from_octets(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
    {
        return { (static_cast<uint32_t>(a) << 24) | (static_cast<uint32_t>(b) << 16) | (static_cast<uint32_t>(c) << 8) | d };
    }
    static constexpr Ipv4Address broadcast() { return { 0xffffffffu }; }
    static constexpr Ipv4Address any() { return { 0 }; }
    constexpr uint8_t octet(size_t index) const { return static_cast<uint8_t>(value >> (24 - 8 * index)); }
    constexpr bool is_zero() const { return value == 0; }
    constexpr bool is_broadcast() const { return value == 0xffffffffu; }
    constexpr bool is_multicast() const { return (value >> 28) == 0xe; }
    constexpr bool is_loopback() const { return (value >> 24) == 127; }
    constexpr bool operator==(const Ipv4Address&) const = default;
};

// Netmask for a prefix length 0..32 (host order).
constexpr uint32_t prefix_mask(uint8_t prefix_length)
{
    if (prefix_length == 0)
        return 0;
    if (prefix_length >= 32)
        return 0xffffffffu;
    return ~((1u << (32 - prefix_length)) - 1);
}

// Parses dotted decimal "a.b.c.d" (each 0..255, no leading '+', no leading
// zeros beyond a single "0", exactly four parts).
ErrorOr<Ipv4Address> parse_ipv4(std::string_view);

// Formats into buffer and returns the text (NUL-terminated when capacity
// allows; "255.255.255.255" needs 16 bytes with the NUL).
std::string_view format_ipv4(Ipv4Address, char* buffer, size_t capacity);
// "52:54:00:12:34:56" (18 bytes with the NUL).
std::string_view format_mac(const MacAddress&, char* buffer, size_t capacity);
// Accepts "52:54:00:12:34:56" or with '-' separators.
ErrorOr<MacAddress> parse_mac(std::string_view);

} // namespace aisos::net
