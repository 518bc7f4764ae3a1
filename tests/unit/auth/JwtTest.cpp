// JWT (HS256) signing and the strict verifier: good tokens and the attacks
// RFC 8725 warns about.
#include "TestHelpers.h"
#include "host/MallocAllocator.h"
#include "lib/auth/Jwt.h"
#include "lib/auth/SealedFile.h"
#include "lib/crypto/Csprng.h"
#include "lib/crypto/Base64.h"
#include "lib/crypto/HmacSha256.h"

#include <gtest/gtest.h>
#include <string>

using namespace aisos;
using namespace aisos::auth;
using namespace aisos::auth::test;

namespace {

constexpr uint64_t now = 1'800'000'000;

JwtKey test_key(uint8_t fill = 7)
{
    uint8_t bytes[32];
    for (int i = 0; i < 32; ++i)
        bytes[i] = uint8_t(fill + i);
    return JwtKey::from_bytes(std::span<const uint8_t, 32>(bytes, 32));
}

JwtClaims test_claims()
{
    JwtClaims claims;
    claims.subject = MUST(UserName::create("alice"));
    claims.role = UserRole::Admin;
    claims.issued_at = now;
    claims.not_before = now;
    claims.expires_at = now + 3600;
    for (int i = 0; i < 16; ++i)
        claims.id.bytes[i] = uint8_t(0xa0 + i);
    return claims;
}

std::string sign(const JwtClaims& claims, const JwtKey& key = test_key())
{
    char buffer[max_issued_jwt_size];
    auto token = sign_jwt(key, claims, buffer);
    EXPECT_FALSE(token.is_error());
    return std::string(token.value());
}

std::string b64url(std::string_view text)
{
    std::string out(crypto::base64url_encoded_length(text.size()), '\0');
    auto encoded = MUST(crypto::base64url_encode(as_bytes(text), std::span<char>(out.data(), out.size())));
    return std::string(encoded);
}

// A token with arbitrary header and claims JSON, correctly signed with `key`.
std::string forge(std::string_view header, std::string_view claims, const JwtKey& key = test_key())
{
    std::string signing_input = b64url(header) + "." + b64url(claims);
    auto mac = crypto::HmacSha256::mac(key.bytes(), as_bytes(signing_input));
    std::string signature(43, '\0');
    auto encoded = MUST(crypto::base64url_encode(mac, std::span<char>(signature.data(), signature.size())));
    return signing_input + "." + std::string(encoded);
}

const std::string good_claims = R"({"sub":"alice","role":"admin","iat":1800000000,"nbf":1800000000,"exp":1800003600,"jti":"oKGio6SlpqeoqaqrrK2urw"})";
const std::string good_header = R"({"alg":"HS256","typ":"JWT"})";

std::string reason_of(std::string_view token, uint64_t at = now, const JwtKey& key = test_key())
{
    MallocAllocator allocator;
    auto result = verify_jwt(allocator, key, token, at);
    if (!result.is_error())
        return "ok";
    return result.error().reason();
}

} // namespace

TEST(Jwt, SignAndVerifyRoundTrip)
{
    MallocAllocator allocator;
    auto claims = test_claims();
    auto token = sign(claims);
    EXPECT_TRUE(token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));
    auto verified = verify_jwt(allocator, test_key(), token, now + 10);
    ASSERT_FALSE(verified.is_error()) << verified.error().reason();
    EXPECT_EQ(verified.value().subject.view(), "alice");
    EXPECT_EQ(verified.value().role, UserRole::Admin);
    EXPECT_EQ(verified.value().issued_at, now);
    EXPECT_EQ(verified.value().expires_at, now + 3600);
    EXPECT_TRUE(verified.value().id == claims.id);
    EXPECT_EQ(allocator.live_allocations(), 0);
}

TEST(Jwt, ForgedHelperMatchesTheSigner)
{
    // The attack tokens below are built by forge(); check it builds what sign_jwt does.
    EXPECT_EQ(forge(good_header, good_claims), sign(test_claims()));
    EXPECT_EQ(reason_of(forge(good_header, good_claims)), "ok");
}

TEST(Jwt, HeaderAttacks)
{
    EXPECT_EQ(reason_of(forge(R"({"alg":"none","typ":"JWT"})", good_claims)), "token algorithm is not HS256");
    EXPECT_EQ(reason_of(forge(R"({"alg":"HS384","typ":"JWT"})", good_claims)), "token algorithm is not HS256");
    EXPECT_EQ(reason_of(forge(R"({"alg":"RS256","typ":"JWT"})", good_claims)), "token algorithm is not HS256");
    EXPECT_EQ(reason_of(forge(R"({"alg":"hs256"})", good_claims)), "token algorithm is not HS256");
    EXPECT_EQ(reason_of(forge(R"({"typ":"JWT"})", good_claims)), "token header has no alg");
    EXPECT_EQ(reason_of(forge(R"({"alg":null})", good_claims)), "token header has no alg");
    EXPECT_EQ(reason_of(forge(R"({"alg":"HS256","alg":"none"})", good_claims)), "duplicate member in JSON object");
    EXPECT_EQ(reason_of(forge(R"({"alg":"none","alg":"HS256"})", good_claims)), "duplicate member in JSON object");
    EXPECT_EQ(reason_of(forge(R"({"alg":"HS256","kid":"../../key"})", good_claims)), "unexpected member in JSON object");
    EXPECT_EQ(reason_of(forge(R"({"alg":"HS256","typ":"JWS"})", good_claims)), "token typ is not JWT");
    EXPECT_EQ(reason_of(forge(R"(["HS256"])", good_claims)), "expected a JSON object");
    EXPECT_EQ(reason_of(forge(R"({"alg":"HS256")", good_claims)), "token header is not valid JSON");
    EXPECT_EQ(reason_of(forge(R"({"alg":"HS256"})", good_claims)), "ok"); // typ is optional
    // alg none with an empty signature: three parts required, each non-empty.
    EXPECT_EQ(reason_of(b64url(R"({"alg":"none"})") + "." + b64url(good_claims) + "."), "token part is empty");
}

TEST(Jwt, TamperingAndWrongKey)
{
    auto token = sign(test_claims());
    size_t first = token.find('.');
    size_t second = token.find('.', first + 1);
    // Payload swapped for one naming another user (signature kept).
    auto other_claims = b64url(R"({"sub":"mallory","role":"admin","iat":1800000000,"nbf":1800000000,"exp":1800003600,"jti":"oKGio6SlpqeoqaqrrK2urw"})");
    EXPECT_EQ(reason_of(token.substr(0, first + 1) + other_claims + token.substr(second)), "token signature mismatch");
    // Header swapped.
    EXPECT_EQ(reason_of(b64url(R"({"alg":"HS256"})") + token.substr(first)), "token signature mismatch");
    // Flip one character in each part.
    for (size_t position : { size_t(3), first + 5, second + 7 }) {
        auto tampered = token;
        tampered[position] = tampered[position] == 'A' ? 'B' : 'A';
        EXPECT_NE(reason_of(tampered), "ok") << position;
    }
    EXPECT_EQ(reason_of(token, now, test_key(99)), "token signature mismatch");
    // A non-canonical signature (last character changes only unused bits).
    auto last = token;
    char& c = last.back();
    c = c == 'A' ? 'B' : (c == 'B' ? 'A' : c ^ 1);
    EXPECT_NE(reason_of(last), "ok");
}

TEST(Jwt, TimeClaims)
{
    auto claims = test_claims();
    auto token = sign(claims);
    EXPECT_EQ(reason_of(token, now + 3600 + 59), "ok"); // within the 60 s leeway
    EXPECT_EQ(reason_of(token, now + 3600 + 60), "token expired");
    EXPECT_EQ(reason_of(token, now + 100000), "token expired");
    EXPECT_EQ(reason_of(token, now - 60), "ok");
    EXPECT_EQ(reason_of(token, now - 61), "token not yet valid");

    claims.not_before = now + 1000;
    EXPECT_EQ(reason_of(sign(claims), now), "token not yet valid");
    claims = test_claims();
    claims.issued_at = now + 1000;
    claims.not_before = now;
    claims.expires_at = now + 5000;
    EXPECT_EQ(reason_of(sign(claims), now), "token issued in the future");
    claims = test_claims();
    claims.expires_at = claims.issued_at;
    EXPECT_EQ(reason_of(sign(claims), now), "token expires before it was issued");
}

TEST(Jwt, ClaimsMustBePresentAndTyped)
{
    auto check = [](std::string claims) { return reason_of(forge(good_header, claims)); };
    EXPECT_EQ(check(R"({"role":"admin","iat":1800000000,"nbf":1800000000,"exp":1800003600,"jti":"oKGio6SlpqeoqaqrrK2urw"})"), "token lacks a required claim");
    EXPECT_EQ(check(R"({"sub":"alice","iat":1800000000,"nbf":1800000000,"exp":1800003600,"jti":"oKGio6SlpqeoqaqrrK2urw"})"), "token lacks a required claim");
    EXPECT_EQ(check(R"({"sub":"alice","role":"admin","iat":1800000000,"nbf":1800000000,"jti":"oKGio6SlpqeoqaqrrK2urw"})"), "token lacks a required claim");
    EXPECT_EQ(check(R"({"sub":"alice","role":"admin","iat":1800000000,"nbf":1800000000,"exp":1800003600})"), "token lacks a required claim");
    EXPECT_EQ(check(R"({"sub":"alice","role":"root","iat":1800000000,"nbf":1800000000,"exp":1800003600,"jti":"oKGio6SlpqeoqaqrrK2urw"})"), "token role is not admin or user");
    EXPECT_EQ(check(R"({"sub":1,"role":"admin","iat":1800000000,"nbf":1800000000,"exp":1800003600,"jti":"oKGio6SlpqeoqaqrrK2urw"})"), "token sub is not a string");
    EXPECT_EQ(check(R"({"sub":"Alice","role":"admin","iat":1800000000,"nbf":1800000000,"exp":1800003600,"jti":"oKGio6SlpqeoqaqrrK2urw"})"), "token sub is not a valid user name");
    EXPECT_EQ(check(R"({"sub":"alice","role":"admin","iat":"1800000000","nbf":1800000000,"exp":1800003600,"jti":"oKGio6SlpqeoqaqrrK2urw"})"), "token time claim is not a non-negative integer");
    EXPECT_EQ(check(R"({"sub":"alice","role":"admin","iat":1800000000,"nbf":1800000000,"exp":1800003600.5,"jti":"oKGio6SlpqeoqaqrrK2urw"})"), "token time claim is not a non-negative integer");
    EXPECT_EQ(check(R"({"sub":"alice","role":"admin","iat":-1,"nbf":1800000000,"exp":1800003600,"jti":"oKGio6SlpqeoqaqrrK2urw"})"), "token time claim is not a non-negative integer");
    EXPECT_EQ(check(R"({"sub":"alice","role":"admin","iat":1800000000,"nbf":1800000000,"exp":1800003600,"jti":"short"})"), "token jti is not a session id");
    EXPECT_EQ(check(R"({"sub":"alice","role":"admin","iat":1800000000,"nbf":1800000000,"exp":1800003600,"jti":"oKGio6SlpqeoqaqrrK2urw","admin":true})"), "unexpected member in JSON object");
    EXPECT_EQ(check(R"({"sub":"alice","role":"user","role":"admin","iat":1800000000,"nbf":1800000000,"exp":1800003600,"jti":"oKGio6SlpqeoqaqrrK2urw"})"), "duplicate member in JSON object");
    EXPECT_EQ(check(R"({"sub":"alice","sub":"alice","role":"admin","iat":1800000000,"nbf":1800000000,"exp":1800003600,"jti":"oKGio6SlpqeoqaqrrK2urw"})"), "duplicate member in JSON object");
    EXPECT_EQ(check("[]"), "expected a JSON object");
    EXPECT_EQ(check("not json"), "token claims are not valid JSON");
}

TEST(Jwt, MalformedStructure)
{
    auto token = sign(test_claims());
    EXPECT_EQ(reason_of(""), "empty token");
    EXPECT_EQ(reason_of("abc"), "token must have three parts");
    EXPECT_EQ(reason_of("abc.def"), "token must have three parts");
    EXPECT_EQ(reason_of(token + ".x"), "token must have three parts");
    EXPECT_EQ(reason_of(token + "."), "token must have three parts");
    EXPECT_EQ(reason_of(token.substr(token.find('.'))), "token part is empty");
    // Truncated at every length: never accepted.
    for (size_t length = 0; length < token.size(); ++length)
        EXPECT_NE(reason_of(token.substr(0, length)), "ok") << length;
    // Padding and characters outside base64url.
    EXPECT_EQ(reason_of(token + "="), "token holds a character outside base64url");
    auto with_plus = token;
    with_plus[5] = '+';
    EXPECT_EQ(reason_of(with_plus), "token holds a character outside base64url");
    auto with_slash = token;
    with_slash[token.size() - 3] = '/';
    EXPECT_EQ(reason_of(with_slash), "token holds a character outside base64url");
    auto with_space = token;
    with_space[10] = ' ';
    EXPECT_EQ(reason_of(with_space), "token holds a character outside base64url");
    EXPECT_EQ(reason_of(token.substr(0, token.size() - 1)), "token signature has the wrong length");
    // Oversized.
    std::string huge = forge(good_header, std::string(R"({"sub":"alice","x":")") + std::string(4000, 'a') + "\"}");
    EXPECT_EQ(reason_of(huge), "token too large");
    std::string big_claims = forge(good_header, std::string(R"({"x":")") + std::string(1500, 'a') + "\"}");
    EXPECT_LT(big_claims.size(), 4096u);
    EXPECT_EQ(reason_of(big_claims), "token claims too large");
}

TEST(Jwt, KeyFileRoundTripAndCorruption)
{
    MallocAllocator allocator;
    FakeEntropy entropy;
    crypto::Csprng random(entropy);
    ASSERT_FALSE(random.seed().is_error());
    auto key = MUST(JwtKey::generate(random));
    json::GrowableBuffer file(allocator);
    ASSERT_FALSE(key.serialize(file).is_error());
    EXPECT_EQ(file.size(), 32u + sealed_overhead);
    auto parsed = JwtKey::parse(file.bytes());
    ASSERT_FALSE(parsed.is_error());
    EXPECT_TRUE(std::equal(parsed.value().bytes().begin(), parsed.value().bytes().end(), key.bytes().begin()));
    std::vector<uint8_t> bytes(file.bytes().begin(), file.bytes().end());
    for (size_t i = 0; i < bytes.size(); ++i) {
        auto copy = bytes;
        copy[i] ^= 0x01;
        EXPECT_TRUE(JwtKey::parse(copy).is_error()) << i;
    }
    for (size_t length = 0; length < bytes.size(); ++length)
        EXPECT_TRUE(JwtKey::parse(std::span<const uint8_t>(bytes.data(), length)).is_error());
}
