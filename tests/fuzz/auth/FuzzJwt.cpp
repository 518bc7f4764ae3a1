// libFuzzer target: the JWT verifier.
//
// The first byte picks a mode:
//   0: the input is a token, verified as is (signature checks, structure);
//   1: the input is "<header JSON>\n<claims JSON>", encoded and correctly
//      signed here, so the JSON checks behind the signature are reached.
// Invariants: no crash or leak; an accepted token's claims are well formed
// and re-signing them yields a token that verifies to the same claims.
#include "host/MallocAllocator.h"
#include "lib/auth/Jwt.h"
#include "lib/crypto/Base64.h"
#include "lib/crypto/HmacSha256.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace aisos;
using namespace aisos::auth;

namespace {

JwtKey key()
{
    uint8_t bytes[32];
    for (int i = 0; i < 32; ++i)
        bytes[i] = uint8_t(i * 7 + 1);
    return JwtKey::from_bytes(std::span<const uint8_t, 32>(bytes, 32));
}

std::string encode(std::string_view text)
{
    std::string out(crypto::base64url_encoded_length(text.size()), '\0');
    auto encoded = MUST(crypto::base64url_encode({ reinterpret_cast<const uint8_t*>(text.data()), text.size() }, std::span<char>(out.data(), out.size())));
    return std::string(encoded);
}

constexpr uint64_t now = 1'800'000'000;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    MallocAllocator allocator;
    static const JwtKey s_key = key();
    std::string token;
    std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    if (data[0] % 2 == 0) {
        token = std::string(input);
    } else {
        size_t newline = input.find('\n');
        if (newline == std::string_view::npos)
            return 0;
        std::string signing_input = encode(input.substr(0, newline)) + "." + encode(input.substr(newline + 1));
        auto mac = crypto::HmacSha256::mac(s_key.bytes(), { reinterpret_cast<const uint8_t*>(signing_input.data()), signing_input.size() });
        token = signing_input + "." + encode({ reinterpret_cast<const char*>(mac.data()), mac.size() });
    }
    {
        auto result = verify_jwt(allocator, s_key, token, now);
        if (!result.is_error()) {
            auto& claims = result.value();
            if (validate_user_name(claims.subject.view()).is_error() || claims.expires_at <= claims.issued_at)
                __builtin_trap();
            char buffer[max_issued_jwt_size];
            auto again = sign_jwt(s_key, claims, buffer);
            if (again.is_error())
                __builtin_trap();
            auto reverified = verify_jwt(allocator, s_key, again.value(), now);
            if (reverified.is_error() || !(reverified.value().id == claims.id) || reverified.value().subject != claims.subject || reverified.value().expires_at != claims.expires_at)
                __builtin_trap();
        }
    }
    if (allocator.live_allocations() != 0)
        __builtin_trap();
    return 0;
}
