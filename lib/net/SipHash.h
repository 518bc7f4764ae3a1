#pragma once

// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed hash used where an
// attacker must not predict or collide values: TCP initial sequence
// numbers (RFC 6528's F()) and the connection hash table.

#include <span>
#include <stdint.h>

namespace aisos::net {

struct SipKey {
    uint64_t k0 { 0 };
    uint64_t k1 { 0 };
};

uint64_t siphash24(const SipKey&, std::span<const uint8_t>);

} // namespace aisos::net
