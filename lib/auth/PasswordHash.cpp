#include "lib/auth/PasswordHash.h"
#include "lib/base/Format.h"
#include "lib/crypto/Base64.h"
#include "lib/crypto/ConstantTime.h"

namespace aisos::auth {

namespace {

// PHC "B64": the standard alphabet without padding.
ErrorOr<size_t> decode_phc_base64(std::string_view text, std::span<uint8_t> out)
{
    if (text.empty() || text.size() % 4 == 1 || text.size() > 88)
        return Error::invalid("password hash: bad base64 length");
    char padded[92];
    __builtin_memcpy(padded, text.data(), text.size());
    size_t length = text.size();
    while (length % 4 != 0)
        padded[length++] = '=';
    for (char c : text) {
        if (c == '=')
            return Error::invalid("password hash: base64 must not be padded");
    }
    uint8_t decoded[66];
    auto result = crypto::base64_decode({ padded, length }, decoded);
    if (result.is_error())
        return Error::invalid("password hash: invalid base64");
    size_t size = result.value();
    if (size > out.size())
        return Error::invalid("password hash: value too long");
    __builtin_memcpy(out.data(), decoded, size);
    return size;
}

ErrorOr<uint32_t> parse_decimal(std::string_view text)
{
    if (text.empty() || text.size() > 10)
        return Error::invalid("password hash: bad number");
    if (text.size() > 1 && text[0] == '0')
        return Error::invalid("password hash: leading zero");
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return Error::invalid("password hash: bad number");
        value = value * 10 + uint64_t(c - '0');
    }
    if (value > 0xffffffffu)
        return Error::invalid("password hash: number too large");
    return uint32_t(value);
}

bool consume(std::string_view& text, std::string_view prefix)
{
    if (!text.starts_with(prefix))
        return false;
    text.remove_prefix(prefix.size());
    return true;
}

std::string_view take_until(std::string_view& text, char delimiter)
{
    size_t end = text.find(delimiter);
    if (end == std::string_view::npos)
        end = text.size();
    auto part = text.substr(0, end);
    text.remove_prefix(end);
    return part;
}

} // namespace

ErrorOr<PasswordHash> PasswordHash::parse(std::string_view text)
{
    if (text.size() > max_text_length)
        return Error::invalid("password hash: too long");
    if (!consume(text, "$argon2id$"))
        return Error::invalid("password hash: not an $argon2id$ PHC string");
    if (!consume(text, "v=19$"))
        return Error::invalid("password hash: only Argon2 version 19 is supported");
    PasswordHash result;
    if (!consume(text, "m="))
        return Error::invalid("password hash: expected m=");
    result.params.memory_kib = TRY(parse_decimal(take_until(text, ',')));
    if (!consume(text, ",t="))
        return Error::invalid("password hash: expected t=");
    result.params.iterations = TRY(parse_decimal(take_until(text, ',')));
    if (!consume(text, ",p="))
        return Error::invalid("password hash: expected p=");
    result.params.parallelism = TRY(parse_decimal(take_until(text, '$')));
    TRY(result.params.validate());
    if (!consume(text, "$"))
        return Error::invalid("password hash: expected a salt");
    auto salt_text = take_until(text, '$');
    size_t salt_length = TRY(decode_phc_base64(salt_text, result.salt));
    if (salt_length < min_salt_size)
        return Error::invalid("password hash: salt shorter than 8 bytes");
    result.salt_length = uint8_t(salt_length);
    if (!consume(text, "$"))
        return Error::invalid("password hash: expected a hash");
    if (text.find('$') != std::string_view::npos)
        return Error::invalid("password hash: too many fields");
    size_t hash_length = TRY(decode_phc_base64(text, result.hash));
    if (hash_length < min_hash_size)
        return Error::invalid("password hash: hash shorter than 16 bytes");
    result.hash_length = uint8_t(hash_length);
    return result;
}

ErrorOr<std::string_view> PasswordHash::format(std::span<char> buffer) const
{
    if (buffer.size() < max_text_length)
        return Error { ErrorCode::Overflow, "password hash: buffer too small" };
    BufferSink sink(buffer.data(), buffer.size());
    aisos::format(sink, "$argon2id$v=19$m={},t={},p={}$", params.memory_kib, params.iterations, params.parallelism);
    char encoded[96];
    auto salt_text = TRY(crypto::base64_encode(salt_bytes(), encoded));
    while (salt_text.ends_with('='))
        salt_text.remove_suffix(1);
    sink.write(salt_text.data(), salt_text.size());
    sink.write("$", 1);
    auto hash_text = TRY(crypto::base64_encode(hash_bytes(), encoded));
    while (hash_text.ends_with('='))
        hash_text.remove_suffix(1);
    sink.write(hash_text.data(), hash_text.size());
    if (sink.truncated())
        return Error { ErrorCode::Overflow, "password hash: buffer too small" };
    return sink.view();
}

ErrorOr<PasswordHash> hash_password(Allocator& allocator, std::string_view password, std::span<const uint8_t> salt, const crypto::Argon2Params& params)
{
    if (salt.size() < PasswordHash::min_salt_size || salt.size() > PasswordHash::max_salt_size)
        return Error::invalid("password hash: bad salt size");
    PasswordHash result;
    result.params = params;
    __builtin_memcpy(result.salt, salt.data(), salt.size());
    result.salt_length = uint8_t(salt.size());
    result.hash_length = PasswordHash::hash_size;
    auto password_bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(password.data()), password.size());
    TRY(crypto::argon2id(allocator, params, { password_bytes, salt }, std::span<uint8_t>(result.hash, result.hash_length)));
    return result;
}

ErrorOr<bool> verify_password(Allocator& allocator, std::string_view password, const PasswordHash& stored)
{
    uint8_t tag[PasswordHash::max_hash_size];
    auto password_bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(password.data()), password.size());
    TRY(crypto::argon2id(allocator, stored.params, { password_bytes, stored.salt_bytes() }, std::span<uint8_t>(tag, stored.hash_length)));
    bool match = crypto::constant_time_equal({ tag, stored.hash_length }, stored.hash_bytes());
    crypto::secure_zero(tag, sizeof(tag));
    return match;
}

} // namespace aisos::auth
