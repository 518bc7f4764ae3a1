#include "lib/auth/UserDatabase.h"
#include "lib/auth/SealedFile.h"

namespace aisos::auth {

ErrorOr<void> UserDatabase::add(const UserName& name, UserRole role, const PasswordHash& hash)
{
    if (find(name.view()))
        return Error { ErrorCode::Exists, "user already exists" };
    if (m_count == max_users)
        return Error { ErrorCode::Overflow, "too many users" };
    auto& record = m_users[m_count++];
    record.name = name;
    record.role = role;
    record.hash = hash;
    return {};
}

ErrorOr<void> UserDatabase::remove(std::string_view name)
{
    for (size_t i = 0; i < m_count; ++i) {
        if (m_users[i].name != name)
            continue;
        if (m_users[i].role == UserRole::Admin && admin_count() == 1)
            return Error { ErrorCode::PermissionDenied, "cannot delete the last admin" };
        for (size_t j = i + 1; j < m_count; ++j)
            m_users[j - 1] = m_users[j];
        m_users[--m_count] = UserRecord {};
        return {};
    }
    return Error::not_found("no such user");
}

ErrorOr<void> UserDatabase::set_password(std::string_view name, const PasswordHash& hash)
{
    for (size_t i = 0; i < m_count; ++i) {
        if (m_users[i].name == name) {
            m_users[i].hash = hash;
            return {};
        }
    }
    return Error::not_found("no such user");
}

const UserRecord* UserDatabase::find(std::string_view name) const
{
    for (size_t i = 0; i < m_count; ++i) {
        if (m_users[i].name == name)
            return &m_users[i];
    }
    return nullptr;
}

size_t UserDatabase::admin_count() const
{
    size_t admins = 0;
    for (size_t i = 0; i < m_count; ++i)
        admins += m_users[i].role == UserRole::Admin ? 1 : 0;
    return admins;
}

ErrorOr<void> UserDatabase::serialize(json::GrowableBuffer& out) const
{
    SealedWriter writer(out, file_magic, file_version);
    writer.u32(uint32_t(m_count));
    for (size_t i = 0; i < m_count; ++i) {
        const auto& user = m_users[i];
        char phc_buffer[PasswordHash::max_text_length];
        auto phc = TRY(user.hash.format(phc_buffer));
        writer.u8(uint8_t(user.role));
        writer.u8(uint8_t(user.name.view().size()));
        writer.bytes(user.name.view());
        writer.u16(uint16_t(phc.size()));
        writer.bytes(phc);
    }
    return writer.finish();
}

ErrorOr<void> UserDatabase::parse(std::span<const uint8_t> file, UserDatabase& database)
{
    auto reader = TRY(open_sealed(file, file_magic, file_version));
    uint32_t count = TRY(reader.u32());
    if (count > max_users)
        return Error::corrupt("users file: too many users");
    // Two passes over the payload: the first validates everything (so a bad
    // file leaves `database` untouched), the second fills the records.
    for (uint32_t pass = 0; pass < 2; ++pass) {
        ByteReader current = reader;
        size_t admins = 0;
        for (uint32_t i = 0; i < count; ++i) {
            uint8_t role_byte = TRY(current.u8());
            if (role_byte != uint8_t(UserRole::User) && role_byte != uint8_t(UserRole::Admin))
                return Error::corrupt("users file: unknown role");
            uint8_t name_length = TRY(current.u8());
            auto name_text = TRY(current.text(name_length));
            auto name = UserName::create(name_text);
            if (name.is_error())
                return Error::corrupt("users file: invalid user name");
            uint16_t phc_length = TRY(current.u16());
            auto phc_text = TRY(current.text(phc_length));
            auto hash = PasswordHash::parse(phc_text);
            if (hash.is_error())
                return Error::corrupt("users file: invalid password hash");
            if (pass == 1) {
                auto& record = database.m_users[i];
                record.name = name.value();
                record.role = UserRole(role_byte);
                record.hash = hash.value();
                continue;
            }
            // Names must be unique: compare with every earlier (already validated) record.
            ByteReader earlier = reader;
            for (uint32_t j = 0; j < i; ++j) {
                (void)MUST(earlier.u8());
                uint8_t length = MUST(earlier.u8());
                auto other = MUST(earlier.text(length));
                uint16_t other_phc = MUST(earlier.u16());
                (void)MUST(earlier.text(other_phc));
                if (other == name_text)
                    return Error::corrupt("users file: duplicate user name");
            }
            admins += role_byte == uint8_t(UserRole::Admin) ? 1 : 0;
        }
        if (pass == 0) {
            TRY(current.expect_end());
            if (admins == 0)
                return Error::corrupt("users file: no admin");
        }
    }
    for (size_t i = count; i < database.m_count; ++i)
        database.m_users[i] = UserRecord {};
    database.m_count = count;
    return {};
}

} // namespace aisos::auth
