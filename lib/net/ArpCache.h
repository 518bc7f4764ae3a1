#pragma once

// The ARP cache (RFC 826): IPv4 address -> MAC, with a lifetime per entry,
// a bounded size (least recently used entry evicted), and incomplete
// entries for addresses being resolved (request retried each second, given
// up after a few tries). The packets waiting for a resolution live in the
// Stack's pending queue, not here.

#include "lib/net/Addresses.h"

#include <stddef.h>
#include <stdint.h>

namespace aisos::net {

class ArpCache {
public:
    static constexpr size_t capacity = 64;
    static constexpr uint64_t reachable_ns = 120'000'000'000ull; // 2 minutes
    static constexpr uint64_t retry_ns = 1'000'000'000ull;
    static constexpr uint8_t max_requests = 3;

    enum class State : uint8_t { Free, Incomplete, Reachable };
    struct Entry {
        Ipv4Address address;
        MacAddress mac;
        State state { State::Free };
        uint8_t requests_sent { 0 }; // Incomplete, or Reachable being refreshed
        uint64_t expires_ns { 0 }; // Reachable: end of life; Incomplete: next retry
        uint64_t retry_ns { 0 }; // Reachable being refreshed: next request
        uint64_t last_used_ns { 0 };
    };

    // The MAC for a reachable entry. An expired entry is still used (a
    // neighbour rarely changes its MAC, and dropping traffic every few
    // minutes would stall TCP) but `refresh` tells the caller to confirm it
    // with a new request; the entry goes away when that gets no answer.
    const MacAddress* lookup(Ipv4Address, uint64_t now_ns, bool& refresh);
    Entry* find(Ipv4Address);
    // Records a mapping learnt from an ARP packet. Returns true when the
    // entry was incomplete (packets may be waiting for it).
    enum class Merge { UpdateOnly, CreateIfMissing };
    bool learn(Ipv4Address, const MacAddress&, Merge, uint64_t now_ns, bool& evicted);
    // Starts resolving an address: returns the (new or existing) incomplete
    // entry; evicts the least recently used entry when full.
    Entry& start_resolution(Ipv4Address, uint64_t now_ns, bool& evicted);
    void remove(Entry& entry) { entry = Entry {}; }

    Entry* begin() { return m_entries; }
    Entry* end() { return m_entries + capacity; }

private:
    Entry& allocate(uint64_t now_ns, bool& evicted);

    Entry m_entries[capacity] {};
};

} // namespace aisos::net
