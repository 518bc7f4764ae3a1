#pragma once

// The Internet checksum (RFC 1071): one's complement sum of 16-bit words.
// ChecksumAccumulator takes the data in pieces of any length (a header,
// then payload from two halves of a ring buffer) and keeps track of an odd
// byte boundary, so the pieces need not be word-aligned.

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::net {

class ChecksumAccumulator {
public:
    void add(std::span<const uint8_t>);
    void add_be16(uint16_t);
    void add_be32(uint32_t value)
    {
        add_be16(static_cast<uint16_t>(value >> 16));
        add_be16(static_cast<uint16_t>(value));
    }
    // The checksum field value (already complemented), in host order: store
    // it with store_be16.
    uint16_t finish() const;

private:
    uint64_t m_sum { 0 }; // big-endian 16-bit words, unfolded
    bool m_odd { false }; // an odd number of bytes has been added
};

uint16_t internet_checksum(std::span<const uint8_t>);

// TCP/UDP pseudo header (RFC 9293 3.1, RFC 768) in host-order addresses.
void add_pseudo_header(ChecksumAccumulator&, uint32_t source, uint32_t destination, uint8_t protocol, uint16_t length);

} // namespace aisos::net
