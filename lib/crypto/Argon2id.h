#pragma once

// Argon2id (RFC 9106), version 0x13: the memory-hard password hash.
//
// Lanes are filled one after another on the calling CPU (the result is the
// same as a parallel fill; p only changes the memory layout and the hash).
// The m KiB of working memory come from the Allocator given; running out is
// an error, never a crash. The memory is wiped before it is freed.
//
// The call takes tens of milliseconds with the defaults on a modern core
// (and seconds under emulation): never call it on the network core; the
// auth service hands it to a KdfExecutor.

#include "lib/base/Allocator.h"
#include "lib/base/ErrorOr.h"

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::crypto {

struct Argon2Params {
    // OWASP Password Storage Cheat Sheet minimum for Argon2id: m=19 MiB, t=2, p=1.
    uint32_t memory_kib { 19 * 1024 };
    uint32_t iterations { 2 };
    uint32_t parallelism { 1 };

    // What this implementation accepts (RFC 9106 allows more; these bounds
    // keep a hostile PHC string from asking for absurd work or memory).
    static constexpr uint32_t max_memory_kib = 1024 * 1024; // 1 GiB
    static constexpr uint32_t max_iterations = 256;
    static constexpr uint32_t max_parallelism = 64;

    // Invalid when m < 8p or a bound is exceeded.
    ErrorOr<void> validate() const;
    bool operator==(const Argon2Params&) const = default;
};

struct Argon2Input {
    std::span<const uint8_t> password;
    std::span<const uint8_t> salt; // at least 8 bytes (RFC 9106 §3.1); 16 recommended
    std::span<const uint8_t> secret {};          // K, optional
    std::span<const uint8_t> associated_data {}; // X, optional
};

inline constexpr size_t argon2_min_salt_size = 8;
inline constexpr size_t argon2_min_tag_size = 4;
inline constexpr size_t argon2_max_tag_size = 1024;

// Computes the tag (its length is tag.size(), 4..1024 bytes).
ErrorOr<void> argon2id(Allocator&, const Argon2Params&, const Argon2Input&, std::span<uint8_t> tag);

} // namespace aisos::crypto
