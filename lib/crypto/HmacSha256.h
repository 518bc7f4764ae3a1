#pragma once

// HMAC-SHA256 (RFC 2104, FIPS 198-1; vectors in RFC 4231).

#include "lib/crypto/Sha256.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::crypto {

class HmacSha256 {
public:
    static constexpr size_t mac_size = Sha256::digest_size;
    using Mac = Sha256::Digest;

    explicit HmacSha256(std::span<const uint8_t> key);
    ~HmacSha256();

    void update(std::span<const uint8_t> data) { m_inner.update(data); }
    void update(std::string_view text) { m_inner.update(text); }
    // Produces the MAC; the object is finished afterwards.
    Mac finish();

    static Mac mac(std::span<const uint8_t> key, std::span<const uint8_t> data)
    {
        HmacSha256 hmac(key);
        hmac.update(data);
        return hmac.finish();
    }

private:
    Sha256 m_inner;
    uint8_t m_outer_key[Sha256::block_size];
};

} // namespace aisos::crypto
