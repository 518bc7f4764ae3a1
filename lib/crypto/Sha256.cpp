#include "lib/crypto/Sha256.h"

#include <bit>

namespace aisos::crypto {

// FIPS 180-4 §4.2.2: first 32 bits of the fractional parts of the cube
// roots of the first 64 primes.
static constexpr uint32_t s_round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

void Sha256::reset()
{
    // FIPS 180-4 §5.3.3 initial hash value.
    m_state[0] = 0x6a09e667;
    m_state[1] = 0xbb67ae85;
    m_state[2] = 0x3c6ef372;
    m_state[3] = 0xa54ff53a;
    m_state[4] = 0x510e527f;
    m_state[5] = 0x9b05688c;
    m_state[6] = 0x1f83d9ab;
    m_state[7] = 0x5be0cd19;
    m_buffered = 0;
    m_total_bytes = 0;
}

void Sha256::process_block(const uint8_t* block)
{
    // FIPS 180-4 §6.2.2, with the 64-word schedule kept in a 16-word ring.
    uint32_t w[16];
    for (int i = 0; i < 16; ++i)
        w[i] = (uint32_t(block[4 * i]) << 24) | (uint32_t(block[4 * i + 1]) << 16) | (uint32_t(block[4 * i + 2]) << 8) | uint32_t(block[4 * i + 3]);

    uint32_t a = m_state[0], b = m_state[1], c = m_state[2], d = m_state[3];
    uint32_t e = m_state[4], f = m_state[5], g = m_state[6], h = m_state[7];
    for (int t = 0; t < 64; ++t) {
        uint32_t word;
        if (t < 16) {
            word = w[t];
        } else {
            uint32_t w15 = w[(t - 15) & 15];
            uint32_t w2 = w[(t - 2) & 15];
            uint32_t sigma0 = std::rotr(w15, 7) ^ std::rotr(w15, 18) ^ (w15 >> 3);
            uint32_t sigma1 = std::rotr(w2, 17) ^ std::rotr(w2, 19) ^ (w2 >> 10);
            word = sigma1 + w[(t - 7) & 15] + sigma0 + w[t & 15];
            w[t & 15] = word;
        }
        uint32_t big_sigma1 = std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25);
        uint32_t choose = (e & f) ^ (~e & g);
        uint32_t t1 = h + big_sigma1 + choose + s_round_constants[t] + word;
        uint32_t big_sigma0 = std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22);
        uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = big_sigma0 + majority;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    m_state[0] += a;
    m_state[1] += b;
    m_state[2] += c;
    m_state[3] += d;
    m_state[4] += e;
    m_state[5] += f;
    m_state[6] += g;
    m_state[7] += h;
}

void Sha256::update(std::span<const uint8_t> data)
{
    m_total_bytes += data.size();
    size_t offset = 0;
    if (m_buffered > 0) {
        size_t take = block_size - m_buffered;
        if (take > data.size())
            take = data.size();
        __builtin_memcpy(m_buffer + m_buffered, data.data(), take);
        m_buffered += take;
        offset = take;
        if (m_buffered < block_size)
            return;
        process_block(m_buffer);
        m_buffered = 0;
    }
    while (data.size() - offset >= block_size) {
        process_block(data.data() + offset);
        offset += block_size;
    }
    size_t rest = data.size() - offset;
    if (rest > 0) {
        __builtin_memcpy(m_buffer, data.data() + offset, rest);
        m_buffered = rest;
    }
}

Sha256::Digest Sha256::finish()
{
    // FIPS 180-4 §5.1.1 padding: 0x80, zeros, then the length in bits (big endian).
    uint64_t bit_length = m_total_bytes * 8;
    m_buffer[m_buffered++] = 0x80;
    if (m_buffered > block_size - 8) {
        __builtin_memset(m_buffer + m_buffered, 0, block_size - m_buffered);
        process_block(m_buffer);
        m_buffered = 0;
    }
    __builtin_memset(m_buffer + m_buffered, 0, block_size - 8 - m_buffered);
    for (int i = 0; i < 8; ++i)
        m_buffer[block_size - 1 - i] = uint8_t(bit_length >> (8 * i));
    process_block(m_buffer);

    Digest digest;
    for (int i = 0; i < 8; ++i) {
        digest[4 * i] = uint8_t(m_state[i] >> 24);
        digest[4 * i + 1] = uint8_t(m_state[i] >> 16);
        digest[4 * i + 2] = uint8_t(m_state[i] >> 8);
        digest[4 * i + 3] = uint8_t(m_state[i]);
    }
    __builtin_memset(m_buffer, 0, sizeof(m_buffer));
    m_buffered = 0;
    return digest;
}

} // namespace aisos::crypto
