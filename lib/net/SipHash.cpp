#include "lib/net/SipHash.h"

namespace aisos::net {

static inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

namespace {
struct SipState {
    uint64_t v0, v1, v2, v3;
    void round()
    {
        v0 += v1;
        v1 = rotl(v1, 13);
        v1 ^= v0;
        v0 = rotl(v0, 32);
        v2 += v3;
        v3 = rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = rotl(v1, 17);
        v1 ^= v2;
        v2 = rotl(v2, 32);
    }
    void compress(uint64_t m)
    {
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }
};
}

static uint64_t load_le64(const uint8_t* p, size_t n)
{
    uint64_t value = 0;
    for (size_t i = 0; i < n; ++i)
        value |= static_cast<uint64_t>(p[i]) << (8 * i);
    return value;
}

uint64_t siphash24(const SipKey& key, std::span<const uint8_t> data)
{
    SipState s {
        key.k0 ^ 0x736f6d6570736575ull,
        key.k1 ^ 0x646f72616e646f6dull,
        key.k0 ^ 0x6c7967656e657261ull,
        key.k1 ^ 0x7465646279746573ull,
    };
    size_t length = data.size();
    const uint8_t* p = data.data();
    size_t full = length & ~size_t(7);
    for (size_t i = 0; i < full; i += 8)
        s.compress(load_le64(p + i, 8));
    uint64_t last = load_le64(p + full, length - full) | (static_cast<uint64_t>(length & 0xff) << 56);
    s.compress(last);
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; ++i)
        s.round();
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

} // namespace aisos::net
