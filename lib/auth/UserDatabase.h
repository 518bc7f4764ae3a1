#pragma once

// The accounts: name, role and salted Argon2id hash, at most max_users.
// In memory, and serialized whole to /fs/system/users by the auth service's
// store (SealedFile container, magic "AISOSUSR", version 1):
//
//   payload: u32 count, then per user:
//            u8 role (1 user, 2 admin), u8 name length, name,
//            u16 PHC length, PHC string ($argon2id$...)
//
// parse() is strict: every name valid and unique, every PHC string valid,
// at least one admin, the payload consumed exactly.

#include "lib/auth/PasswordHash.h"
#include "lib/auth/UserName.h"
#include "lib/auth/UserRole.h"
#include "lib/base/ErrorOr.h"
#include "lib/json/GrowableBuffer.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::auth {

struct UserRecord {
    UserName name;
    UserRole role { UserRole::User };
    PasswordHash hash;
};

class UserDatabase {
public:
    static constexpr size_t max_users = 256;
    static constexpr std::string_view file_magic = "AISOSUSR";
    static constexpr uint32_t file_version = 1;

    // Exists when the name is taken, Overflow when full.
    ErrorOr<void> add(const UserName&, UserRole, const PasswordHash&);
    // NotFound; PermissionDenied for the last admin (there must always be one).
    ErrorOr<void> remove(std::string_view name);
    ErrorOr<void> set_password(std::string_view name, const PasswordHash&);

    const UserRecord* find(std::string_view name) const;
    std::span<const UserRecord> users() const { return { m_users, m_count }; }
    size_t count() const { return m_count; }
    size_t admin_count() const;
    bool empty() const { return m_count == 0; }

    ErrorOr<void> serialize(json::GrowableBuffer&) const;
    // Replaces the contents of `database` only when the whole file is valid.
    static ErrorOr<void> parse(std::span<const uint8_t> file, UserDatabase& database);

private:
    UserRecord m_users[max_users];
    size_t m_count { 0 };
};

} // namespace aisos::auth
