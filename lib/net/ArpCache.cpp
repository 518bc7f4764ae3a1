#include "lib/net/ArpCache.h"

namespace aisos::net {

ArpCache::Entry* ArpCache::find(Ipv4Address address)
{
    for (auto& entry : m_entries) {
        if (entry.state != State::Free && entry.address == address)
            return &entry;
    }
    return nullptr;
}

const MacAddress* ArpCache::lookup(Ipv4Address address, uint64_t now_ns, bool& refresh)
{
    refresh = false;
    Entry* entry = find(address);
    if (!entry || entry->state != State::Reachable)
        return nullptr;
    if (now_ns >= entry->expires_ns && entry->requests_sent == 0)
        refresh = true;
    entry->last_used_ns = now_ns;
    return &entry->mac;
}

ArpCache::Entry& ArpCache::allocate(uint64_t now_ns, bool& evicted)
{
    evicted = false;
    Entry* victim = nullptr;
    for (auto& entry : m_entries) {
        if (entry.state == State::Free)
            return entry;
        // Prefer evicting reachable entries: an incomplete one has packets waiting.
        if (!victim || (victim->state == State::Incomplete && entry.state == State::Reachable)
            || (victim->state == entry.state && entry.last_used_ns < victim->last_used_ns))
            victim = &entry;
    }
    evicted = true;
    *victim = Entry {};
    return *victim;
}

bool ArpCache::learn(Ipv4Address address, const MacAddress& mac, Merge merge, uint64_t now_ns, bool& evicted)
{
    evicted = false;
    Entry* entry = find(address);
    if (!entry) {
        if (merge == Merge::UpdateOnly)
            return false;
        entry = &allocate(now_ns, evicted);
        entry->last_used_ns = now_ns;
    }
    bool was_incomplete = entry->state == State::Incomplete;
    entry->address = address;
    entry->mac = mac;
    entry->state = State::Reachable;
    entry->requests_sent = 0;
    entry->retry_ns = 0;
    entry->expires_ns = now_ns + reachable_ns;
    return was_incomplete;
}

ArpCache::Entry& ArpCache::start_resolution(Ipv4Address address, uint64_t now_ns, bool& evicted)
{
    evicted = false;
    if (Entry* existing = find(address))
        return *existing;
    Entry& entry = allocate(now_ns, evicted);
    entry.address = address;
    entry.state = State::Incomplete;
    entry.requests_sent = 0;
    entry.expires_ns = now_ns; // due now: the caller sends the first request
    entry.last_used_ns = now_ns;
    return entry;
}

} // namespace aisos::net
