#pragma once

// ChaCha20 (RFC 8439 §2.3-2.4): 256-bit key, 96-bit nonce, 32-bit block
// counter. Used as the CSPRNG's generator; also a plain stream cipher.

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::crypto {

class ChaCha20 {
public:
    static constexpr size_t key_size = 32;
    static constexpr size_t nonce_size = 12;
    static constexpr size_t block_size = 64;

    ChaCha20(std::span<const uint8_t, key_size> key, std::span<const uint8_t, nonce_size> nonce, uint32_t counter);
    ~ChaCha20();

    // One 64-byte keystream block for the given key, nonce and counter (RFC 8439 §2.3).
    static void block(const uint32_t key_words[8], uint32_t counter, const uint32_t nonce_words[3], uint8_t out[block_size]);

    // XORs the keystream into data (encrypts or decrypts in place),
    // continuing where the previous call stopped.
    void apply(std::span<uint8_t> data);
    // Writes keystream bytes (the same as apply() on zeros).
    void keystream(std::span<uint8_t> out);

private:
    uint32_t m_key[8];
    uint32_t m_nonce[3];
    uint32_t m_counter;
    uint8_t m_block[block_size];
    size_t m_used { block_size }; // bytes of m_block already consumed
};

} // namespace aisos::crypto
