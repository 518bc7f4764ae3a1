#include "lib/auth/SessionTable.h"
#include "lib/crypto/Csprng.h"

namespace aisos::auth {

Session* SessionTable::choose_slot(const UserName& user, uint64_t now)
{
    Session* free_slot = nullptr;
    Session* oldest = nullptr;
    Session* user_oldest = nullptr;
    size_t user_sessions = 0;
    for (auto& session : m_sessions) {
        if (session.in_use && now >= session.expires_at)
            session = Session {}; // expired: reclaim on the way
        if (!session.in_use) {
            if (!free_slot)
                free_slot = &session;
            continue;
        }
        if (!oldest || session.created_at < oldest->created_at)
            oldest = &session;
        if (session.user == user) {
            ++user_sessions;
            if (!user_oldest || session.created_at < user_oldest->created_at)
                user_oldest = &session;
        }
    }
    if (user_sessions >= m_per_user_limit) {
        ++m_evictions;
        return user_oldest;
    }
    if (free_slot)
        return free_slot;
    ++m_evictions;
    return oldest;
}

ErrorOr<Session> SessionTable::create(const UserName& user, UserRole role, uint64_t now, uint64_t lifetime, crypto::Csprng& random)
{
    if (lifetime == 0)
        return Error::invalid("session lifetime must be positive");
    Session session;
    TRY(random.fill(session.id.bytes));
    session.user = user;
    session.role = role;
    session.created_at = now;
    session.expires_at = now + lifetime;
    session.in_use = true;
    Session* slot = choose_slot(user, now);
    *slot = session;
    return session;
}

const Session* SessionTable::find(const SessionId& id, uint64_t now) const
{
    for (const auto& session : m_sessions) {
        if (session.in_use && session.id == id)
            return now < session.expires_at ? &session : nullptr;
    }
    return nullptr;
}

bool SessionTable::revoke(const SessionId& id)
{
    for (auto& session : m_sessions) {
        if (session.in_use && session.id == id) {
            session = Session {};
            return true;
        }
    }
    return false;
}

size_t SessionTable::revoke_user(std::string_view user, const SessionId* keep)
{
    size_t ended = 0;
    for (auto& session : m_sessions) {
        if (!session.in_use || session.user != user)
            continue;
        if (keep && session.id == *keep)
            continue;
        session = Session {};
        ++ended;
    }
    return ended;
}

size_t SessionTable::live_count(uint64_t now) const
{
    size_t live = 0;
    for (const auto& session : m_sessions)
        live += session.in_use && now < session.expires_at ? 1 : 0;
    return live;
}

size_t SessionTable::user_count(std::string_view user, uint64_t now) const
{
    size_t count = 0;
    for (const auto& session : m_sessions)
        count += session.in_use && now < session.expires_at && session.user == user ? 1 : 0;
    return count;
}

} // namespace aisos::auth
