#include "lib/crypto/Sha1.h"

#include <bit>

namespace aisos::crypto {

void Sha1::reset()
{
    // FIPS 180-4 §5.3.1 initial hash value.
    m_state[0] = 0x67452301;
    m_state[1] = 0xEFCDAB89;
    m_state[2] = 0x98BADCFE;
    m_state[3] = 0x10325476;
    m_state[4] = 0xC3D2E1F0;
    m_buffered = 0;
    m_total_bytes = 0;
}

void Sha1::process_block(const uint8_t* block)
{
    // FIPS 180-4 §6.1.2, with the 80-word schedule kept in a 16-word ring.
    uint32_t w[16];
    for (int i = 0; i < 16; ++i)
        w[i] = (uint32_t(block[4 * i]) << 24) | (uint32_t(block[4 * i + 1]) << 16) | (uint32_t(block[4 * i + 2]) << 8) | uint32_t(block[4 * i + 3]);

    uint32_t a = m_state[0], b = m_state[1], c = m_state[2], d = m_state[3], e = m_state[4];
    for (int t = 0; t < 80; ++t) {
        uint32_t word;
        if (t < 16) {
            word = w[t];
        } else {
            word = std::rotl(w[(t - 3) & 15] ^ w[(t - 8) & 15] ^ w[(t - 14) & 15] ^ w[t & 15], 1);
            w[t & 15] = word;
        }
        uint32_t f, k;
        if (t < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999;
        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6;
        }
        uint32_t temp = std::rotl(a, 5) + f + e + k + word;
        e = d;
        d = c;
        c = std::rotl(b, 30);
        b = a;
        a = temp;
    }
    m_state[0] += a;
    m_state[1] += b;
    m_state[2] += c;
    m_state[3] += d;
    m_state[4] += e;
}

void Sha1::update(std::span<const uint8_t> data)
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
    if (rest > 0)
        __builtin_memcpy(m_buffer, data.data() + offset, rest);
    m_buffered = rest;
}

Sha1::Digest Sha1::finish()
{
    // Padding (FIPS 180-4 §5.1.1): 0x80, zeros, then the bit length big-endian.
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
    m_buffered = 0;

    Digest digest;
    for (int i = 0; i < 5; ++i) {
        digest[4 * i] = uint8_t(m_state[i] >> 24);
        digest[4 * i + 1] = uint8_t(m_state[i] >> 16);
        digest[4 * i + 2] = uint8_t(m_state[i] >> 8);
        digest[4 * i + 3] = uint8_t(m_state[i]);
    }
    return digest;
}

} // namespace aisos::crypto
