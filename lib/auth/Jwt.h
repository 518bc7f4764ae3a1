#pragma once

// JSON Web Tokens (RFC 7519 / RFC 7515 compact form), HS256 only, issued
// and checked by aiSOS itself. Following RFC 8725 (JWT BCP) the algorithm
// is pinned by the key, never taken from the header.
//
// Issued tokens:  {"alg":"HS256","typ":"JWT"} . {"sub","role","iat","nbf","exp","jti"} . HMAC-SHA256
//
// verify_jwt() refuses, with a reason:
//   - tokens larger than max_token_size (4 KiB), not exactly three
//     non-empty base64url parts, padding or characters outside the alphabet;
//   - a signature that is not 32 bytes or does not match (compared in
//     constant time, before any JSON is parsed);
//   - a header that is not exactly {"alg":"HS256"} plus optional
//     "typ":"JWT" (so "none", "HS384", "RS256", a missing alg, "kid",
//     "jku", "crit" ... are all refused), duplicate members anywhere;
//   - claims other than the six above, any of them missing or of the wrong
//     type, a bad user name or role, a negative or fractional time;
//   - now >= exp + leeway (expired), now + leeway < nbf (not yet valid),
//     iat > now + leeway (issued in the future), exp <= iat.

#include "lib/auth/SessionId.h"
#include "lib/auth/UserName.h"
#include "lib/auth/UserRole.h"
#include "lib/base/Allocator.h"
#include "lib/base/ErrorOr.h"
#include "lib/json/GrowableBuffer.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::crypto {
class Csprng;
}

namespace aisos::auth {

struct JwtClaims {
    UserName subject;
    UserRole role { UserRole::User };
    uint64_t issued_at { 0 };
    uint64_t not_before { 0 };
    uint64_t expires_at { 0 };
    SessionId id;
};

// The per-install HMAC secret: 32 bytes from the CSPRNG (RFC 8725 §3.5:
// at least the hash size), persisted in /fs/system.
class JwtKey {
public:
    static constexpr size_t size = 32;
    static constexpr std::string_view file_magic = "AISOSKEY";
    static constexpr uint32_t file_version = 1;

    JwtKey() = default;
    ~JwtKey();
    JwtKey(const JwtKey&) = default;
    JwtKey& operator=(const JwtKey&) = default;

    static ErrorOr<JwtKey> generate(crypto::Csprng&);
    static JwtKey from_bytes(std::span<const uint8_t, size>);
    std::span<const uint8_t> bytes() const { return { m_bytes, size }; }

    ErrorOr<void> serialize(json::GrowableBuffer&) const;
    static ErrorOr<JwtKey> parse(std::span<const uint8_t> file);

private:
    uint8_t m_bytes[size] {};
};

struct JwtVerifyOptions {
    uint64_t leeway_seconds { 60 };
    size_t max_token_size { 4096 };
};

// A buffer of this size always holds a token sign_jwt() makes.
inline constexpr size_t max_issued_jwt_size = 512;

ErrorOr<std::string_view> sign_jwt(const JwtKey&, const JwtClaims&, std::span<char> buffer);
ErrorOr<JwtClaims> verify_jwt(Allocator&, const JwtKey&, std::string_view token, uint64_t now, const JwtVerifyOptions& = {});

} // namespace aisos::auth
