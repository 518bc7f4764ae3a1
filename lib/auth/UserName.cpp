#include "lib/auth/UserName.h"
#include "lib/json/Utf8.h"

namespace aisos::auth {

ErrorOr<void> validate_user_name(std::string_view name)
{
    if (name.empty())
        return Error::invalid("user name is empty");
    if (name.size() > UserName::max_length)
        return Error::invalid("user name longer than 32 characters");
    if (!(name[0] >= 'a' && name[0] <= 'z'))
        return Error::invalid("user name must start with a lower-case letter");
    for (char c : name) {
        bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!allowed)
            return Error::invalid("user name may only hold a-z, 0-9, '_', '.' and '-'");
    }
    return {};
}

ErrorOr<UserName> UserName::create(std::string_view text)
{
    TRY(validate_user_name(text));
    UserName name;
    __builtin_memcpy(name.m_data, text.data(), text.size());
    name.m_length = uint8_t(text.size());
    return name;
}

ErrorOr<void> validate_password(std::string_view password, std::string_view user_name)
{
    if (password.size() < min_password_length)
        return Error::invalid("password shorter than 8 characters");
    if (password.size() > max_password_length)
        return Error::invalid("password longer than 256 bytes");
    if (!json::is_valid_utf8(password))
        return Error::invalid("password is not valid UTF-8");
    for (char c : password) {
        auto byte = static_cast<uint8_t>(c);
        if (byte < 0x20 || byte == 0x7f)
            return Error::invalid("password contains a control character");
    }
    if (password == user_name)
        return Error::invalid("password must not equal the user name");
    return {};
}

} // namespace aisos::auth
