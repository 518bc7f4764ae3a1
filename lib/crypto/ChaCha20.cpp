#include "lib/crypto/ChaCha20.h"
#include "lib/crypto/ConstantTime.h"

#include <bit>

namespace aisos::crypto {

static inline uint32_t load32_le(const uint8_t* p)
{
    return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

static inline void quarter_round(uint32_t& a, uint32_t& b, uint32_t& c, uint32_t& d)
{
    // RFC 8439 §2.1.
    a += b;
    d = std::rotl(d ^ a, 16);
    c += d;
    b = std::rotl(b ^ c, 12);
    a += b;
    d = std::rotl(d ^ a, 8);
    c += d;
    b = std::rotl(b ^ c, 7);
}

void ChaCha20::block(const uint32_t key_words[8], uint32_t counter, const uint32_t nonce_words[3], uint8_t out[block_size])
{
    // RFC 8439 §2.3: constants, key, counter, nonce.
    uint32_t initial[16] = {
        0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
        key_words[0], key_words[1], key_words[2], key_words[3],
        key_words[4], key_words[5], key_words[6], key_words[7],
        counter, nonce_words[0], nonce_words[1], nonce_words[2],
    };
    uint32_t x[16];
    __builtin_memcpy(x, initial, sizeof(x));
    for (int round = 0; round < 10; ++round) {
        quarter_round(x[0], x[4], x[8], x[12]);
        quarter_round(x[1], x[5], x[9], x[13]);
        quarter_round(x[2], x[6], x[10], x[14]);
        quarter_round(x[3], x[7], x[11], x[15]);
        quarter_round(x[0], x[5], x[10], x[15]);
        quarter_round(x[1], x[6], x[11], x[12]);
        quarter_round(x[2], x[7], x[8], x[13]);
        quarter_round(x[3], x[4], x[9], x[14]);
    }
    for (int i = 0; i < 16; ++i) {
        uint32_t word = x[i] + initial[i];
        out[4 * i] = uint8_t(word);
        out[4 * i + 1] = uint8_t(word >> 8);
        out[4 * i + 2] = uint8_t(word >> 16);
        out[4 * i + 3] = uint8_t(word >> 24);
    }
    secure_zero(x, sizeof(x));
    secure_zero(initial, sizeof(initial));
}

ChaCha20::ChaCha20(std::span<const uint8_t, key_size> key, std::span<const uint8_t, nonce_size> nonce, uint32_t counter)
    : m_counter(counter)
{
    for (int i = 0; i < 8; ++i)
        m_key[i] = load32_le(key.data() + 4 * i);
    for (int i = 0; i < 3; ++i)
        m_nonce[i] = load32_le(nonce.data() + 4 * i);
}

ChaCha20::~ChaCha20()
{
    secure_zero(m_key, sizeof(m_key));
    secure_zero(m_block, sizeof(m_block));
}

void ChaCha20::apply(std::span<uint8_t> data)
{
    for (size_t i = 0; i < data.size(); ++i) {
        if (m_used == block_size) {
            block(m_key, m_counter++, m_nonce, m_block);
            m_used = 0;
        }
        data[i] ^= m_block[m_used++];
    }
}

void ChaCha20::keystream(std::span<uint8_t> out)
{
    __builtin_memset(out.data(), 0, out.size());
    apply(out);
}

} // namespace aisos::crypto
