#pragma once

// Live sessions, so that a signed token is only honoured while its session
// exists: logout, user deletion and password changes revoke at once.
//
// Fixed capacity (no allocation): at most max_sessions in total and
// `per_user_limit` per user. A new session evicts, in this order, an
// expired one, the same user's oldest once the user is at the limit, or the
// oldest session of all when the table is full. Sessions are not persisted:
// a reboot ends them (the tokens then fail the session check).

#include "lib/auth/SessionId.h"
#include "lib/auth/UserName.h"
#include "lib/auth/UserRole.h"
#include "lib/base/ErrorOr.h"

#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::crypto {
class Csprng;
}

namespace aisos::auth {

struct Session {
    SessionId id;
    UserName user;
    UserRole role { UserRole::User };
    uint64_t created_at { 0 };
    uint64_t expires_at { 0 };
    bool in_use { false };
};

class SessionTable {
public:
    static constexpr size_t max_sessions = 1024;

    explicit SessionTable(size_t per_user_limit = 8)
        : m_per_user_limit(per_user_limit ? per_user_limit : 1)
    {
    }

    // A new session with a random id, valid for `lifetime` seconds from now.
    ErrorOr<Session> create(const UserName&, UserRole, uint64_t now, uint64_t lifetime, crypto::Csprng&);
    // The live session with this id, or null (unknown, revoked or expired).
    const Session* find(const SessionId&, uint64_t now) const;
    bool revoke(const SessionId&);
    // Ends every session of `user`, except `keep` when given. Returns how many ended.
    size_t revoke_user(std::string_view user, const SessionId* keep = nullptr);
    size_t live_count(uint64_t now) const;
    size_t user_count(std::string_view user, uint64_t now) const;
    uint64_t evictions() const { return m_evictions; }

private:
    Session* choose_slot(const UserName&, uint64_t now);

    Session m_sessions[max_sessions];
    size_t m_per_user_limit;
    uint64_t m_evictions { 0 };
};

} // namespace aisos::auth
