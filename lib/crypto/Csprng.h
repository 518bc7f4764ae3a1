#pragma once

// The system's cryptographically secure random generator: ChaCha20 with
// fast key erasure (D. J. Bernstein, "Fast-key-erasure random-number
// generators", 2017). Each refill computes a batch of keystream blocks; the
// first 32 bytes replace the key at once, the rest is handed out and wiped
// as it goes. A compromise of the state therefore never reveals output
// already given.
//
// The key comes from an EntropySource, whose bytes first pass the
// SP 800-90B-style health tests (EntropyHealth): seed() runs the start-up
// test over 1024 samples and refuses a stuck or biased source. The key is
// reseeded (SHA-256 over the old key and fresh entropy) after
// reseed_interval_bytes of output, or when reseed() is called. A failed
// health test puts the generator in a failed state: fill() refuses until a
// later reseed() succeeds.
//
// Not thread-safe: one owner (the network core) uses it.
//
//   Csprng random(entropy);
//   TRY(random.seed());
//   uint8_t salt[16]; TRY(random.fill(salt));

#include "lib/base/ErrorOr.h"
#include "lib/crypto/EntropyHealth.h"
#include "lib/crypto/EntropySource.h"

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::crypto {

class Csprng {
public:
    static constexpr size_t key_size = 32;
    static constexpr size_t startup_samples = 1024; // SP 800-90B §4.3 start-up testing
    static constexpr size_t reseed_samples = 64;    // 256 bits at 4 bits per byte
    static constexpr uint64_t default_reseed_interval = 1024 * 1024;

    explicit Csprng(EntropySource& source, uint64_t reseed_interval_bytes = default_reseed_interval)
        : m_source(source)
        , m_reseed_interval(reseed_interval_bytes)
    {
    }
    ~Csprng();
    Csprng(const Csprng&) = delete;
    Csprng& operator=(const Csprng&) = delete;

    // First seeding, with the start-up health test.
    ErrorOr<void> seed();
    // Mixes fresh entropy into the key; also clears the failed state when it succeeds.
    ErrorOr<void> reseed();

    ErrorOr<void> fill(std::span<uint8_t> out);
    ErrorOr<uint64_t> next_u64();
    // Uniform in [0, bound) without modulo bias (bound > 0).
    ErrorOr<uint32_t> uniform(uint32_t bound);

    bool is_seeded() const { return m_seeded; }
    bool is_failed() const { return m_failed; }
    uint64_t reseed_count() const { return m_reseeds; }
    uint64_t bytes_since_reseed() const { return m_bytes_since_reseed; }

private:
    ErrorOr<void> mix_entropy(size_t samples);
    void refill();

    static constexpr size_t batch_blocks = 12;
    static constexpr size_t batch_size = batch_blocks * 64;

    EntropySource& m_source;
    EntropyHealth m_health;
    uint64_t m_reseed_interval;
    uint8_t m_key[key_size] {};
    uint8_t m_batch[batch_size] {};
    size_t m_available { 0 }; // unused bytes at the end of m_batch
    uint64_t m_bytes_since_reseed { 0 };
    uint64_t m_reseeds { 0 };
    bool m_seeded { false };
    bool m_failed { false };
};

} // namespace aisos::crypto
