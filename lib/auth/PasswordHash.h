#pragma once

// Salted Argon2id password hashes in the PHC string format, as other tools
// (argon2 CLI, libsodium, passlib, argon2-cffi) write them:
//
//   $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// salt and hash in base64 without padding (standard alphabet). Parsing is
// strict: exactly this order, decimal numbers without sign or leading
// zeros, parameters within Argon2Params' bounds, salt 8..64 bytes, hash
// 16..64 bytes, nothing else. A hash from aisos.cfg (admin_password_hash)
// goes through the same parser.

#include "lib/base/Allocator.h"
#include "lib/base/ErrorOr.h"
#include "lib/crypto/Argon2id.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::auth {

struct PasswordHash {
    static constexpr size_t salt_size = 16; // what aiSOS generates
    static constexpr size_t hash_size = 32;
    static constexpr size_t min_salt_size = 8;
    static constexpr size_t max_salt_size = 64;
    static constexpr size_t min_hash_size = 16;
    static constexpr size_t max_hash_size = 64;
    static constexpr size_t max_text_length = 256;

    crypto::Argon2Params params;
    uint8_t salt[max_salt_size] {};
    uint8_t salt_length { 0 };
    uint8_t hash[max_hash_size] {};
    uint8_t hash_length { 0 };

    std::span<const uint8_t> salt_bytes() const { return { salt, salt_length }; }
    std::span<const uint8_t> hash_bytes() const { return { hash, hash_length }; }

    static ErrorOr<PasswordHash> parse(std::string_view phc);
    // The PHC string, written into buffer (max_text_length suffices).
    ErrorOr<std::string_view> format(std::span<char> buffer) const;
};

// Computes the hash of `password` (synchronously: for boot and tests; the
// HTTP handlers go through a KdfExecutor).
ErrorOr<PasswordHash> hash_password(Allocator&, std::string_view password, std::span<const uint8_t> salt, const crypto::Argon2Params&);
// True when `password` matches (constant-time comparison of the tags).
ErrorOr<bool> verify_password(Allocator&, std::string_view password, const PasswordHash&);

} // namespace aisos::auth
