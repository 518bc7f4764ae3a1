#pragma once

// SHA-256 (FIPS 180-4 §6.2). Used for HMAC-SHA256 (JWT signatures), for the
// checksums of the files aiSOS persists and for CSPRNG reseeding.

#include <array>
#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::crypto {

class Sha256 {
public:
    static constexpr size_t digest_size = 32;
    static constexpr size_t block_size = 64;
    using Digest = std::array<uint8_t, digest_size>;

    Sha256() { reset(); }

    void reset();
    void update(std::span<const uint8_t>);
    void update(std::string_view text) { update({ reinterpret_cast<const uint8_t*>(text.data()), text.size() }); }
    // Produces the digest; the object must be reset() before reuse.
    Digest finish();

    static Digest hash(std::span<const uint8_t> data)
    {
        Sha256 sha;
        sha.update(data);
        return sha.finish();
    }
    static Digest hash(std::string_view text)
    {
        Sha256 sha;
        sha.update(text);
        return sha.finish();
    }

private:
    void process_block(const uint8_t* block);

    uint32_t m_state[8];
    uint8_t m_buffer[block_size];
    size_t m_buffered { 0 };
    uint64_t m_total_bytes { 0 };
};

} // namespace aisos::crypto
