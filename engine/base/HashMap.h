#pragma once

// Open-addressing hash maps for the two lookups the tokenizer needs in its
// hot path: text -> token id and (left id, right id) -> merge. Keys of the
// string map are views into storage the caller keeps alive.

#include "engine/base/Vector.h"

#include <string_view>

namespace aisos::engine {

inline u64 hash_bytes(std::string_view text)
{
    // FNV-1a, then a final mix so the low bits used for slots are spread.
    u64 h = 1469598103934665603ull;
    for (char c : text) {
        h ^= static_cast<u8>(c);
        h *= 1099511628211ull;
    }
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h;
}

inline u64 hash_u64(u64 x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

template<typename Value>
class StringMap {
public:
    ErrorOr<void> try_reserve(size_t count)
    {
        size_t wanted = 16;
        while (wanted < count * 2)
            wanted *= 2;
        if (wanted <= m_slots.size())
            return {};
        Vector<Slot> old = std::move(m_slots);
        TRY(m_slots.try_resize(wanted));
        m_count = 0;
        for (auto& slot : old) {
            if (slot.used)
                insert_unchecked(slot.key, slot.value, slot.hash);
        }
        return {};
    }

    // Inserts or overwrites.
    ErrorOr<void> set(std::string_view key, Value value)
    {
        if ((m_count + 1) * 2 > m_slots.size())
            TRY(try_reserve(m_count + 1 < 8 ? 8 : (m_count + 1) * 2));
        insert_unchecked(key, value, hash_bytes(key));
        return {};
    }

    Value const* get(std::string_view key) const
    {
        if (m_slots.is_empty())
            return nullptr;
        u64 h = hash_bytes(key);
        size_t mask = m_slots.size() - 1;
        for (size_t i = h & mask;; i = (i + 1) & mask) {
            auto const& slot = m_slots[i];
            if (!slot.used)
                return nullptr;
            if (slot.hash == h && slot.key == key)
                return &slot.value;
        }
    }

    size_t size() const { return m_count; }

private:
    struct Slot {
        std::string_view key;
        u64 hash { 0 };
        Value value {};
        bool used { false };
    };

    void insert_unchecked(std::string_view key, Value value, u64 h)
    {
        size_t mask = m_slots.size() - 1;
        for (size_t i = h & mask;; i = (i + 1) & mask) {
            auto& slot = m_slots[i];
            if (!slot.used) {
                slot = { key, h, value, true };
                ++m_count;
                return;
            }
            if (slot.hash == h && slot.key == key) {
                slot.value = value;
                return;
            }
        }
    }

    Vector<Slot> m_slots;
    size_t m_count { 0 };
};

template<typename Value>
class U64Map {
public:
    ErrorOr<void> try_reserve(size_t count)
    {
        size_t wanted = 16;
        while (wanted < count * 2)
            wanted *= 2;
        if (wanted <= m_slots.size())
            return {};
        Vector<Slot> old = std::move(m_slots);
        TRY(m_slots.try_resize(wanted));
        m_count = 0;
        for (auto& slot : old) {
            if (slot.used)
                insert_unchecked(slot.key, slot.value);
        }
        return {};
    }

    // Inserts unless the key exists; returns true when inserted.
    ErrorOr<bool> insert_if_absent(u64 key, Value value)
    {
        if ((m_count + 1) * 2 > m_slots.size())
            TRY(try_reserve(m_count + 1 < 8 ? 8 : (m_count + 1) * 2));
        return insert_unchecked(key, value);
    }

    Value const* get(u64 key) const
    {
        if (m_slots.is_empty())
            return nullptr;
        size_t mask = m_slots.size() - 1;
        for (size_t i = hash_u64(key) & mask;; i = (i + 1) & mask) {
            auto const& slot = m_slots[i];
            if (!slot.used)
                return nullptr;
            if (slot.key == key)
                return &slot.value;
        }
    }

    size_t size() const { return m_count; }

private:
    struct Slot {
        u64 key { 0 };
        Value value {};
        bool used { false };
    };

    bool insert_unchecked(u64 key, Value value)
    {
        size_t mask = m_slots.size() - 1;
        for (size_t i = hash_u64(key) & mask;; i = (i + 1) & mask) {
            auto& slot = m_slots[i];
            if (!slot.used) {
                slot = { key, value, true };
                ++m_count;
                return true;
            }
            if (slot.key == key)
                return false;
        }
    }

    Vector<Slot> m_slots;
    size_t m_count { 0 };
};

} // namespace aisos::engine
