#pragma once

// Who is asking. The server consults the Authenticator before any route
// handler runs; routes declare the role they need (default Admin, so a
// route whose declaration was forgotten fails closed).

#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::http {

enum class Role : uint8_t { Public, User, Admin };

struct AuthResult {
    enum class Kind : uint8_t {
        Anonymous, // no credentials offered
        User,      // valid credentials: user() and role
        Invalid,   // credentials offered but not valid (bad, expired, revoked)
    };
    static constexpr size_t max_user_length = 64;

    Kind kind { Kind::Anonymous };
    Role role { Role::Public };
    // For WebSocket upgrades authenticated through Sec-WebSocket-Protocol
    // (`bearer.<token>`): the offered protocol to echo in the 101 response.
    // It must be a view into the websocket_protocol argument.
    std::string_view websocket_protocol;

    static AuthResult anonymous() { return {}; }
    static AuthResult invalid()
    {
        AuthResult result;
        result.kind = Kind::Invalid;
        return result;
    }
    static AuthResult user(std::string_view name, Role role)
    {
        AuthResult result;
        result.kind = Kind::User;
        result.role = role;
        result.set_user(name);
        return result;
    }

    // Names longer than max_user_length are cut (the users issue limits names well below it).
    void set_user(std::string_view name)
    {
        m_user_length = name.size() < max_user_length ? name.size() : max_user_length;
        __builtin_memcpy(m_user, name.data(), m_user_length);
    }
    std::string_view user_name() const { return { m_user, m_user_length }; }

private:
    char m_user[max_user_length] {};
    size_t m_user_length { 0 };
};

class Authenticator {
public:
    // `authorization` is the Authorization field value, `websocket_protocol`
    // the Sec-WebSocket-Protocol field value; each empty when absent.
    virtual AuthResult authenticate(std::string_view authorization, std::string_view websocket_protocol) = 0;

protected:
    ~Authenticator() = default;
};

// Whether an identity may use a route that requires `required`.
constexpr bool role_allows(const AuthResult& identity, Role required)
{
    if (required == Role::Public)
        return true;
    if (identity.kind != AuthResult::Kind::User)
        return false;
    if (required == Role::User)
        return identity.role == Role::User || identity.role == Role::Admin;
    return identity.role == Role::Admin;
}

} // namespace aisos::http
