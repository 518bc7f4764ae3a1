#include "lib/auth/SessionId.h"
#include "lib/crypto/Base64.h"

namespace aisos::auth {

std::string_view SessionId::to_text(char (&buffer)[text_length + 1]) const
{
    auto text = MUST(crypto::base64url_encode({ bytes, size }, std::span<char>(buffer, text_length)));
    buffer[text.size()] = 0;
    return text;
}

ErrorOr<SessionId> SessionId::parse(std::string_view text)
{
    if (text.size() != text_length)
        return Error::invalid("session id has the wrong length");
    SessionId id;
    uint8_t decoded[18];
    auto length = crypto::base64url_decode(text, decoded);
    if (length.is_error() || length.value() != size)
        return Error::invalid("session id is not base64url");
    __builtin_memcpy(id.bytes, decoded, size);
    return id;
}

} // namespace aisos::auth
