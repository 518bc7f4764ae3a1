#pragma once

// BLAKE2b (RFC 7693): digests of 1..64 bytes, optional key of up to 64
// bytes. Argon2 (RFC 9106) is built on it.

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::crypto {

class Blake2b {
public:
    static constexpr size_t max_digest_size = 64;
    static constexpr size_t max_key_size = 64;
    static constexpr size_t block_size = 128;

    // digest_size must be 1..64 and key at most 64 bytes; other values are
    // clamped (callers in this library always pass valid ones).
    explicit Blake2b(size_t digest_size = max_digest_size, std::span<const uint8_t> key = {});
    ~Blake2b();

    void update(std::span<const uint8_t>);
    void update(std::string_view text) { update({ reinterpret_cast<const uint8_t*>(text.data()), text.size() }); }
    // Writes digest_size bytes to out (which must hold that many).
    void finish(uint8_t* out);
    size_t digest_size() const { return m_digest_size; }

    static void hash(std::span<const uint8_t> data, std::span<uint8_t> out)
    {
        Blake2b blake(out.size());
        blake.update(data);
        blake.finish(out.data());
    }

private:
    void compress(const uint8_t* block, bool last);

    uint64_t m_state[8];
    uint64_t m_counter[2] {};
    uint8_t m_buffer[block_size];
    size_t m_buffered { 0 };
    size_t m_digest_size;
};

} // namespace aisos::crypto
