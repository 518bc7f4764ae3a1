#include "lib/auth/Jwt.h"
#include "lib/auth/SealedFile.h"
#include "lib/auth/StrictJson.h"
#include "lib/base/Format.h"
#include "lib/crypto/Base64.h"
#include "lib/crypto/ConstantTime.h"
#include "lib/crypto/Csprng.h"
#include "lib/crypto/HmacSha256.h"
#include "lib/json/JsonDocument.h"
#include "lib/json/JsonWriter.h"

namespace aisos::auth {

namespace {

// base64url of {"alg":"HS256","typ":"JWT"}: every token we issue starts so.
constexpr std::string_view s_issued_header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
constexpr size_t max_header_size = 256;
constexpr size_t max_claims_size = 1024;

bool is_base64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

ErrorOr<std::string_view> decode_part(std::string_view part, std::span<char> out, const char* too_long)
{
    if (crypto::base64_decoded_max_length(part.size()) > out.size())
        return Error::invalid(too_long);
    auto length = crypto::base64url_decode(part, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size()));
    if (length.is_error())
        return Error::invalid("token part is not canonical base64url");
    return std::string_view(out.data(), length.value());
}

ErrorOr<uint64_t> time_claim(json::JsonValue value)
{
    auto integer = value.as_integer();
    if (!value.is_number() || !integer.has_value() || integer.value() < 0)
        return Error::invalid("token time claim is not a non-negative integer");
    return uint64_t(integer.value());
}

} // namespace

JwtKey::~JwtKey()
{
    crypto::secure_zero(m_bytes, sizeof(m_bytes));
}

ErrorOr<JwtKey> JwtKey::generate(crypto::Csprng& random)
{
    JwtKey key;
    TRY(random.fill(std::span<uint8_t>(key.m_bytes, size)));
    return key;
}

JwtKey JwtKey::from_bytes(std::span<const uint8_t, size> bytes)
{
    JwtKey key;
    __builtin_memcpy(key.m_bytes, bytes.data(), size);
    return key;
}

ErrorOr<void> JwtKey::serialize(json::GrowableBuffer& out) const
{
    SealedWriter writer(out, file_magic, file_version);
    writer.bytes(m_bytes, size);
    return writer.finish();
}

ErrorOr<JwtKey> JwtKey::parse(std::span<const uint8_t> file)
{
    auto reader = TRY(open_sealed(file, file_magic, file_version));
    auto bytes = TRY(reader.bytes(size));
    TRY(reader.expect_end());
    JwtKey key = from_bytes(std::span<const uint8_t, size>(bytes.data(), size));
    uint8_t zero = 0;
    for (size_t i = 0; i < size; ++i)
        zero |= key.m_bytes[i];
    if (zero == 0)
        return Error::corrupt("JWT key is all zeros");
    return key;
}

ErrorOr<std::string_view> sign_jwt(const JwtKey& key, const JwtClaims& claims, std::span<char> buffer)
{
    char payload[300];
    BufferSink sink(payload, sizeof(payload));
    json::JsonWriter json(sink);
    char id_text[SessionId::text_length + 1];
    json.begin_object();
    json.member("sub", claims.subject.view());
    json.member("role", user_role_name(claims.role));
    json.member("iat", claims.issued_at);
    json.member("nbf", claims.not_before);
    json.member("exp", claims.expires_at);
    json.member("jti", claims.id.to_text(id_text));
    json.end_object();
    if (!json.complete() || sink.truncated())
        return Error { ErrorCode::Overflow, "token claims too large" };

    size_t needed = s_issued_header.size() + 1 + crypto::base64url_encoded_length(sink.length()) + 1 + crypto::base64url_encoded_length(crypto::HmacSha256::mac_size);
    if (buffer.size() < needed)
        return Error { ErrorCode::Overflow, "token buffer too small" };
    size_t length = 0;
    __builtin_memcpy(buffer.data(), s_issued_header.data(), s_issued_header.size());
    length += s_issued_header.size();
    buffer[length++] = '.';
    auto encoded = TRY(crypto::base64url_encode({ reinterpret_cast<const uint8_t*>(payload), sink.length() }, buffer.subspan(length)));
    length += encoded.size();
    auto mac = crypto::HmacSha256::mac(key.bytes(), { reinterpret_cast<const uint8_t*>(buffer.data()), length });
    buffer[length++] = '.';
    auto signature = TRY(crypto::base64url_encode(mac, buffer.subspan(length)));
    length += signature.size();
    return std::string_view(buffer.data(), length);
}

ErrorOr<JwtClaims> verify_jwt(Allocator& allocator, const JwtKey& key, std::string_view token, uint64_t now, const JwtVerifyOptions& options)
{
    if (token.empty())
        return Error::invalid("empty token");
    if (token.size() > options.max_token_size)
        return Error::invalid("token too large");
    size_t first_dot = token.find('.');
    if (first_dot == std::string_view::npos)
        return Error::invalid("token must have three parts");
    size_t second_dot = token.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos)
        return Error::invalid("token must have three parts");
    auto header_part = token.substr(0, first_dot);
    auto claims_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
    auto signature_part = token.substr(second_dot + 1);
    if (header_part.empty() || claims_part.empty() || signature_part.empty())
        return Error::invalid("token part is empty");
    for (char c : token) {
        if (c != '.' && !is_base64url_char(c))
            return Error::invalid("token holds a character outside base64url");
    }

    // The signature first: nothing unauthenticated reaches the JSON parser.
    uint8_t signature[crypto::HmacSha256::mac_size + 3];
    if (signature_part.size() != crypto::base64url_encoded_length(crypto::HmacSha256::mac_size))
        return Error::invalid("token signature has the wrong length");
    auto signature_length = crypto::base64url_decode(signature_part, signature);
    if (signature_length.is_error() || signature_length.value() != crypto::HmacSha256::mac_size)
        return Error::invalid("token signature is not canonical base64url");
    auto signed_part = token.substr(0, second_dot);
    auto expected = crypto::HmacSha256::mac(key.bytes(), { reinterpret_cast<const uint8_t*>(signed_part.data()), signed_part.size() });
    if (!crypto::constant_time_equal(expected, { signature, crypto::HmacSha256::mac_size }))
        return Error { ErrorCode::PermissionDenied, "token signature mismatch" };

    json::JsonLimits limits;
    limits.max_depth = 2;
    limits.max_values = 32;
    limits.max_size = max_claims_size;
    limits.max_string_length = 128;

    char header_text[max_header_size];
    auto header_json = TRY(decode_part(header_part, header_text, "token header too large"));
    auto header = json::JsonDocument::parse(allocator, header_json, limits);
    if (header.is_error())
        return header.error().code() == ErrorCode::OutOfMemory ? header.error() : Error::invalid("token header is not valid JSON");
    static constexpr std::string_view header_members[] = { "alg", "typ" };
    TRY(check_object_members(header.value().root(), header_members));
    auto algorithm = header.value().root().get("alg").as_string();
    if (!algorithm.has_value())
        return Error::invalid("token header has no alg");
    if (algorithm.value() != "HS256")
        return Error::invalid("token algorithm is not HS256");
    auto type = header.value().root().get("typ");
    if (!type.is_missing() && type.as_string() != std::optional<std::string_view>("JWT"))
        return Error::invalid("token typ is not JWT");

    char claims_text[max_claims_size];
    auto claims_json = TRY(decode_part(claims_part, claims_text, "token claims too large"));
    auto document = json::JsonDocument::parse(allocator, claims_json, limits);
    if (document.is_error())
        return document.error().code() == ErrorCode::OutOfMemory ? document.error() : Error::invalid("token claims are not valid JSON");
    auto root = document.value().root();
    static constexpr std::string_view claim_members[] = { "sub", "role", "iat", "nbf", "exp", "jti" };
    TRY(check_object_members(root, claim_members));
    for (auto name : claim_members) {
        if (root.get(name).is_missing())
            return Error::invalid("token lacks a required claim");
    }
    JwtClaims claims;
    auto subject = root.get("sub").as_string();
    if (!subject.has_value())
        return Error::invalid("token sub is not a string");
    auto name = UserName::create(subject.value());
    if (name.is_error())
        return Error::invalid("token sub is not a valid user name");
    claims.subject = name.value();
    auto role_text = root.get("role").as_string();
    auto role = role_text.has_value() ? parse_user_role(role_text.value()) : std::nullopt;
    if (!role.has_value())
        return Error::invalid("token role is not admin or user");
    claims.role = role.value();
    claims.issued_at = TRY(time_claim(root.get("iat")));
    claims.not_before = TRY(time_claim(root.get("nbf")));
    claims.expires_at = TRY(time_claim(root.get("exp")));
    auto id_text = root.get("jti").as_string();
    if (!id_text.has_value())
        return Error::invalid("token jti is not a string");
    auto id = SessionId::parse(id_text.value());
    if (id.is_error())
        return Error::invalid("token jti is not a session id");
    claims.id = id.value();

    uint64_t leeway = options.leeway_seconds;
    if (claims.expires_at <= claims.issued_at)
        return Error::invalid("token expires before it was issued");
    if (now >= claims.expires_at + leeway)
        return Error { ErrorCode::Timeout, "token expired" };
    if (now + leeway < claims.not_before)
        return Error::invalid("token not yet valid");
    if (claims.issued_at > now + leeway)
        return Error::invalid("token issued in the future");
    return claims;
}

} // namespace aisos::auth
