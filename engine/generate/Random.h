#pragma once

// xoshiro256** seeded through splitmix64: a small, fast PRNG whose output
// depends only on the seed, so sampling with a seed is reproducible.

#include "engine/base/Types.h"

namespace aisos::engine {

class Random {
public:
    explicit Random(u64 seed)
    {
        for (auto& word : m_state) {
            seed += 0x9e3779b97f4a7c15ull;
            u64 z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            word = z ^ (z >> 31);
        }
    }

    u64 next()
    {
        u64 result = rotl(m_state[1] * 5, 7) * 9;
        u64 t = m_state[1] << 17;
        m_state[2] ^= m_state[0];
        m_state[3] ^= m_state[1];
        m_state[1] ^= m_state[2];
        m_state[0] ^= m_state[3];
        m_state[2] ^= t;
        m_state[3] = rotl(m_state[3], 45);
        return result;
    }

    // Uniform in [0, 1).
    double next_unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
    static u64 rotl(u64 x, int k) { return (x << k) | (x >> (64 - k)); }
    u64 m_state[4];
};

} // namespace aisos::engine
