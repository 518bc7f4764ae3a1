#include "lib/crypto/Blake2b.h"
#include "lib/crypto/ConstantTime.h"

#include <bit>

namespace aisos::crypto {

// RFC 7693 §2.6: the SHA-512 initial values.
static constexpr uint64_t s_iv[8] = {
    0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull,
    0x510e527fade682d1ull, 0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull,
};

// RFC 7693 §2.7: message word permutations (rounds 10 and 11 reuse 0 and 1).
static constexpr uint8_t s_sigma[12][16] = {
    { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
    { 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
    { 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
    { 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
    { 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
    { 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
    { 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
    { 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
    { 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
    { 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
    { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
    { 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
};

static inline uint64_t load64_le(const uint8_t* p)
{
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i)
        value = (value << 8) | p[i];
    return value;
}

static inline void mix(uint64_t* v, int a, int b, int c, int d, uint64_t x, uint64_t y)
{
    // RFC 7693 §3.1, rotations 32, 24, 16, 63.
    v[a] = v[a] + v[b] + x;
    v[d] = std::rotr(v[d] ^ v[a], 32);
    v[c] = v[c] + v[d];
    v[b] = std::rotr(v[b] ^ v[c], 24);
    v[a] = v[a] + v[b] + y;
    v[d] = std::rotr(v[d] ^ v[a], 16);
    v[c] = v[c] + v[d];
    v[b] = std::rotr(v[b] ^ v[c], 63);
}

Blake2b::Blake2b(size_t digest_size, std::span<const uint8_t> key)
{
    if (digest_size < 1)
        digest_size = 1;
    if (digest_size > max_digest_size)
        digest_size = max_digest_size;
    size_t key_size = key.size() > max_key_size ? max_key_size : key.size();
    m_digest_size = digest_size;
    for (int i = 0; i < 8; ++i)
        m_state[i] = s_iv[i];
    // Parameter block: digest length, key length, fanout 1, depth 1.
    m_state[0] ^= 0x01010000ull ^ (uint64_t(key_size) << 8) ^ uint64_t(digest_size);
    if (key_size > 0) {
        // A key is processed as a first block padded with zeros (RFC 7693 §3.3).
        __builtin_memset(m_buffer, 0, block_size);
        __builtin_memcpy(m_buffer, key.data(), key_size);
        m_buffered = block_size;
    }
}

Blake2b::~Blake2b()
{
    secure_zero(m_buffer, sizeof(m_buffer));
    secure_zero(m_state, sizeof(m_state));
}

void Blake2b::compress(const uint8_t* block, bool last)
{
    uint64_t m[16];
    for (int i = 0; i < 16; ++i)
        m[i] = load64_le(block + 8 * i);
    uint64_t v[16];
    for (int i = 0; i < 8; ++i) {
        v[i] = m_state[i];
        v[i + 8] = s_iv[i];
    }
    v[12] ^= m_counter[0];
    v[13] ^= m_counter[1];
    if (last)
        v[14] = ~v[14];
    for (int round = 0; round < 12; ++round) {
        const uint8_t* s = s_sigma[round];
        mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
        mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
        mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
        mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
        mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
        mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
        mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
        mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for (int i = 0; i < 8; ++i)
        m_state[i] ^= v[i] ^ v[i + 8];
}

void Blake2b::update(std::span<const uint8_t> data)
{
    size_t offset = 0;
    while (offset < data.size()) {
        // The last block must be compressed with the final flag, so a full
        // buffer is only compressed once more input is known to follow.
        if (m_buffered == block_size) {
            m_counter[0] += block_size;
            if (m_counter[0] < block_size)
                ++m_counter[1];
            compress(m_buffer, false);
            m_buffered = 0;
        }
        size_t take = block_size - m_buffered;
        if (take > data.size() - offset)
            take = data.size() - offset;
        __builtin_memcpy(m_buffer + m_buffered, data.data() + offset, take);
        m_buffered += take;
        offset += take;
    }
}

void Blake2b::finish(uint8_t* out)
{
    m_counter[0] += m_buffered;
    if (m_counter[0] < m_buffered)
        ++m_counter[1];
    __builtin_memset(m_buffer + m_buffered, 0, block_size - m_buffered);
    compress(m_buffer, true);
    for (size_t i = 0; i < m_digest_size; ++i)
        out[i] = uint8_t(m_state[i / 8] >> (8 * (i % 8)));
}

} // namespace aisos::crypto
