#include "lib/crypto/Csprng.h"
#include "lib/crypto/ChaCha20.h"
#include "lib/crypto/ConstantTime.h"
#include "lib/crypto/Sha256.h"

namespace aisos::crypto {

Csprng::~Csprng()
{
    secure_zero(m_key, sizeof(m_key));
    secure_zero(m_batch, sizeof(m_batch));
}

ErrorOr<void> Csprng::mix_entropy(size_t samples)
{
    uint8_t buffer[startup_samples];
    auto entropy = std::span<uint8_t>(buffer, samples);
    auto read = m_source.read(entropy);
    if (read.is_error()) {
        secure_zero(buffer, sizeof(buffer));
        m_failed = true;
        return read.error();
    }
    auto health = m_health.check(entropy);
    if (health.is_error()) {
        secure_zero(buffer, sizeof(buffer));
        m_failed = true;
        return health.error();
    }
    // key' = SHA-256(domain || key || entropy): the old key keeps whatever
    // entropy it had even if the new samples were weak.
    Sha256 sha;
    sha.update("aisos csprng reseed v1");
    sha.update(std::span<const uint8_t>(m_key, sizeof(m_key)));
    sha.update(entropy);
    auto digest = sha.finish();
    __builtin_memcpy(m_key, digest.data(), key_size);
    secure_zero(digest.data(), digest.size());
    secure_zero(buffer, sizeof(buffer));
    // Output computed under the old key is dropped.
    secure_zero(m_batch, sizeof(m_batch));
    m_available = 0;
    m_bytes_since_reseed = 0;
    ++m_reseeds;
    return {};
}

ErrorOr<void> Csprng::seed()
{
    m_health.reset();
    TRY(mix_entropy(startup_samples));
    m_seeded = true;
    m_failed = false;
    return {};
}

ErrorOr<void> Csprng::reseed()
{
    if (!m_seeded)
        return seed();
    if (m_health.failed()) {
        // A source that failed must pass the start-up test again.
        m_health.reset();
        TRY(mix_entropy(startup_samples));
    } else {
        TRY(mix_entropy(reseed_samples));
    }
    m_failed = false;
    return {};
}

void Csprng::refill()
{
    uint32_t key_words[8];
    for (int i = 0; i < 8; ++i)
        key_words[i] = uint32_t(m_key[4 * i]) | (uint32_t(m_key[4 * i + 1]) << 8) | (uint32_t(m_key[4 * i + 2]) << 16) | (uint32_t(m_key[4 * i + 3]) << 24);
    // The key is used once; a zero nonce is safe because it never repeats.
    const uint32_t nonce[3] = { 0, 0, 0 };
    for (uint32_t block = 0; block < batch_blocks; ++block)
        ChaCha20::block(key_words, block, nonce, m_batch + 64 * block);
    secure_zero(key_words, sizeof(key_words));
    __builtin_memcpy(m_key, m_batch, key_size);
    secure_zero(m_batch, key_size);
    m_available = batch_size - key_size;
}

ErrorOr<void> Csprng::fill(std::span<uint8_t> out)
{
    if (!m_seeded)
        return Error { ErrorCode::Busy, "random generator not seeded" };
    if (m_failed)
        return Error { ErrorCode::IoError, "random generator stopped: entropy source failed" };
    if (m_bytes_since_reseed >= m_reseed_interval)
        TRY(reseed());
    size_t offset = 0;
    while (offset < out.size()) {
        if (m_available == 0)
            refill();
        size_t take = out.size() - offset;
        if (take > m_available)
            take = m_available;
        uint8_t* source = m_batch + (batch_size - m_available);
        __builtin_memcpy(out.data() + offset, source, take);
        secure_zero(source, take);
        m_available -= take;
        offset += take;
    }
    m_bytes_since_reseed += out.size();
    return {};
}

ErrorOr<uint64_t> Csprng::next_u64()
{
    uint8_t bytes[8];
    TRY(fill(bytes));
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i)
        value = (value << 8) | bytes[i];
    return value;
}

ErrorOr<uint32_t> Csprng::uniform(uint32_t bound)
{
    if (bound == 0)
        return Error::invalid("uniform: bound must be positive");
    // Rejection sampling: drop values from the incomplete last range.
    uint64_t limit = (uint64_t(1) << 32) - ((uint64_t(1) << 32) % bound);
    while (true) {
        uint8_t bytes[4];
        TRY(fill(bytes));
        uint64_t value = uint32_t(bytes[0]) | (uint32_t(bytes[1]) << 8) | (uint32_t(bytes[2]) << 16) | (uint32_t(bytes[3]) << 24);
        if (value < limit)
            return uint32_t(value % bound);
    }
}

} // namespace aisos::crypto
