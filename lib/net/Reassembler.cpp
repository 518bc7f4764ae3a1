#include "lib/net/Reassembler.h"

namespace aisos::net {

ErrorOr<void> Reassembler::initialize(Allocator& allocator, size_t slot_count)
{
    auto* slots = static_cast<Slot*>(TRY(allocator.allocate(sizeof(Slot) * slot_count, alignof(Slot))));
    for (size_t i = 0; i < slot_count; ++i)
        new (&slots[i]) Slot();
    m_slots = slots;
    m_slot_count = slot_count;
    for (size_t i = 0; i < slot_count; ++i) {
        auto data = allocator.allocate(max_payload + 8);
        if (data.is_error()) {
            release(allocator);
            return data.error();
        }
        m_slots[i].data = static_cast<uint8_t*>(data.value());
    }
    return {};
}

void Reassembler::release(Allocator& allocator)
{
    if (!m_slots)
        return;
    for (size_t i = 0; i < m_slot_count; ++i)
        allocator.free(m_slots[i].data);
    allocator.free(m_slots);
    m_slots = nullptr;
    m_slot_count = 0;
}

size_t Reassembler::datagrams_in_progress() const
{
    size_t count = 0;
    for (size_t i = 0; i < m_slot_count; ++i)
        count += m_slots[i].in_use ? 1 : 0;
    return count;
}

void Reassembler::expire(uint64_t now_ns, NetCounters& counters)
{
    for (size_t i = 0; i < m_slot_count; ++i) {
        Slot& slot = m_slots[i];
        if (slot.in_use && now_ns - slot.started_ns >= lifetime_ns) {
            slot.in_use = false;
            ++counters.reassembly_timeouts;
        }
    }
}

std::optional<std::span<const uint8_t>> Reassembler::add(const Key& key, size_t offset, bool more_fragments, std::span<const uint8_t> payload, uint64_t now_ns, NetCounters& counters)
{
    ++counters.fragments_in;
    expire(now_ns, counters);
    // RFC 791: every fragment but the last carries a multiple of 8 bytes.
    if (payload.empty() || (more_fragments && payload.size() % 8 != 0) || offset + payload.size() > max_payload || m_slot_count == 0) {
        ++counters.fragments_dropped;
        return std::nullopt;
    }

    Slot* slot = nullptr;
    Slot* free_slot = nullptr;
    Slot* oldest = nullptr;
    for (size_t i = 0; i < m_slot_count; ++i) {
        Slot& candidate = m_slots[i];
        if (!candidate.in_use) {
            if (!free_slot)
                free_slot = &candidate;
            continue;
        }
        if (candidate.key == key) {
            slot = &candidate;
            break;
        }
        if (!oldest || candidate.generation < oldest->generation)
            oldest = &candidate;
    }
    if (!slot) {
        slot = free_slot;
        if (!slot) {
            slot = oldest;
            ++counters.reassembly_evictions;
        }
        slot->in_use = true;
        slot->key = key;
        slot->started_ns = now_ns;
        slot->generation = ++m_generation;
        slot->total_length = 0;
        slot->have_last = false;
        slot->blocks_received = 0;
        __builtin_memset(slot->bitmap, 0, sizeof(slot->bitmap));
    }

    size_t end = offset + payload.size();
    if (!more_fragments) {
        // Two different "last" fragments, or data beyond the end: malformed.
        if ((slot->have_last && slot->total_length != end)) {
            slot->in_use = false;
            ++counters.fragments_dropped;
            return std::nullopt;
        }
        slot->have_last = true;
        slot->total_length = end;
    }
    if (slot->have_last && end > slot->total_length) {
        slot->in_use = false;
        ++counters.fragments_dropped;
        return std::nullopt;
    }

    __builtin_memcpy(slot->data + offset, payload.data(), payload.size());
    for (size_t block = offset / 8; block < (end + 7) / 8; ++block) {
        uint64_t bit = 1ull << (block % 64);
        if (!(slot->bitmap[block / 64] & bit)) {
            slot->bitmap[block / 64] |= bit;
            ++slot->blocks_received;
        }
    }
    if (!slot->have_last || slot->blocks_received != (slot->total_length + 7) / 8)
        return std::nullopt;
    slot->in_use = false;
    ++counters.fragments_reassembled;
    return std::span<const uint8_t>(slot->data, slot->total_length);
}

} // namespace aisos::net
