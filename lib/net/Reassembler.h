#pragma once

// IPv4 fragment reassembly (RFC 791 section 3.2, RFC 815 for the idea of
// tracking holes). Each datagram in progress has a preallocated 64 KiB
// buffer and a bitmap of received 8-byte blocks, so overlapping and
// duplicated fragments need no special cases (later bytes win) and nothing
// is allocated per packet. Limits: a fixed number of concurrent datagrams
// (the oldest is evicted for a new one), 64 KiB each, and a lifetime
// (RFC 791 suggests 15 s) after which an incomplete datagram is dropped.

#include "lib/base/Allocator.h"
#include "lib/net/NetCounters.h"

#include <optional>
#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::net {

class Reassembler {
public:
    static constexpr size_t max_payload = 65535 - 20;
    static constexpr uint64_t lifetime_ns = 15'000'000'000ull;

    struct Key {
        uint32_t source { 0 };
        uint32_t destination { 0 };
        uint16_t identification { 0 };
        uint8_t protocol { 0 };
        bool operator==(const Key&) const = default;
    };

    ErrorOr<void> initialize(Allocator&, size_t slot_count);
    void release(Allocator&);

    // Adds one fragment (offset in bytes, payload after the IP header).
    // Returns the whole payload when this fragment completes the datagram;
    // the span stays valid until the next call.
    std::optional<std::span<const uint8_t>> add(const Key&, size_t offset, bool more_fragments, std::span<const uint8_t> payload, uint64_t now_ns, NetCounters&);
    void expire(uint64_t now_ns, NetCounters&);
    size_t datagrams_in_progress() const;

private:
    static constexpr size_t block_count = (max_payload + 7) / 8;
    struct Slot {
        bool in_use { false };
        Key key;
        uint64_t started_ns { 0 };
        uint64_t generation { 0 }; // creation order, for evicting the oldest
        size_t total_length { 0 }; // known once the last fragment arrived
        bool have_last { false };
        size_t blocks_received { 0 };
        uint8_t* data { nullptr };
        uint64_t bitmap[(block_count + 63) / 64] {};
    };
    Slot* m_slots { nullptr };
    size_t m_slot_count { 0 };
    uint64_t m_generation { 0 };
};

} // namespace aisos::net
