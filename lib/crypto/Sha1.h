#pragma once

// SHA-1 (FIPS 180-4). Only for protocols that mandate it, such as the
// WebSocket handshake (RFC 6455 §4.2.2); it is not collision resistant and
// must never protect anything new.

#include <array>
#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::crypto {

class Sha1 {
public:
    static constexpr size_t digest_size = 20;
    static constexpr size_t block_size = 64;
    using Digest = std::array<uint8_t, digest_size>;

    Sha1() { reset(); }

    void reset();
    void update(std::span<const uint8_t>);
    void update(std::string_view text) { update({ reinterpret_cast<const uint8_t*>(text.data()), text.size() }); }
    // Produces the digest; the object must be reset() before reuse.
    Digest finish();

    static Digest hash(std::span<const uint8_t> data)
    {
        Sha1 sha;
        sha.update(data);
        return sha.finish();
    }
    static Digest hash(std::string_view text)
    {
        Sha1 sha;
        sha.update(text);
        return sha.finish();
    }

private:
    void process_block(const uint8_t* block);

    uint32_t m_state[5];
    uint8_t m_buffer[block_size];
    size_t m_buffered { 0 };
    uint64_t m_total_bytes { 0 };
};

} // namespace aisos::crypto
