#include "lib/crypto/HmacSha256.h"
#include "lib/crypto/ConstantTime.h"

namespace aisos::crypto {

HmacSha256::HmacSha256(std::span<const uint8_t> key)
{
    // Keys longer than a block are hashed first (RFC 2104 §2).
    uint8_t block_key[Sha256::block_size] {};
    if (key.size() > Sha256::block_size) {
        auto digest = Sha256::hash(key);
        __builtin_memcpy(block_key, digest.data(), digest.size());
    } else if (!key.empty()) {
        __builtin_memcpy(block_key, key.data(), key.size());
    }
    uint8_t inner_key[Sha256::block_size];
    for (size_t i = 0; i < Sha256::block_size; ++i) {
        inner_key[i] = block_key[i] ^ 0x36;
        m_outer_key[i] = block_key[i] ^ 0x5c;
    }
    m_inner.update(std::span<const uint8_t>(inner_key, sizeof(inner_key)));
    secure_zero(block_key, sizeof(block_key));
    secure_zero(inner_key, sizeof(inner_key));
}

HmacSha256::~HmacSha256()
{
    secure_zero(m_outer_key, sizeof(m_outer_key));
}

HmacSha256::Mac HmacSha256::finish()
{
    auto inner = m_inner.finish();
    Sha256 outer;
    outer.update(std::span<const uint8_t>(m_outer_key, sizeof(m_outer_key)));
    outer.update(std::span<const uint8_t>(inner.data(), inner.size()));
    return outer.finish();
}

} // namespace aisos::crypto
