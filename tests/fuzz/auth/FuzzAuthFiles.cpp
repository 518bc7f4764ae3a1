// libFuzzer target: the parsers of the files auth persists and of PHC
// password-hash strings (which also come from aisos.cfg).
//
// The first byte picks the parser and whether the rest is used raw (the
// checksum must then match by luck) or sealed here with a valid checksum,
// so the payload parsers are reached:
//   users file, JWT key file, audit log, PHC string.
// Invariants: no crash; a file that parses serializes back to bytes that
// parse to the same contents; a failed parse leaves the target unchanged.
#include "host/MallocAllocator.h"
#include "lib/auth/AuditLog.h"
#include "lib/auth/Jwt.h"
#include "lib/auth/PasswordHash.h"
#include "lib/auth/SealedFile.h"
#include "lib/auth/UserDatabase.h"

#include <cstddef>
#include <cstdint>
#include <memory>

using namespace aisos;
using namespace aisos::auth;

namespace {

std::span<const uint8_t> seal(json::GrowableBuffer& buffer, std::string_view magic, uint32_t version, std::span<const uint8_t> payload)
{
    SealedWriter writer(buffer, magic, version);
    writer.bytes(payload.data(), payload.size());
    if (writer.finish().is_error())
        return {};
    return buffer.bytes();
}

void check_users(std::span<const uint8_t> file, MallocAllocator& allocator)
{
    static auto* s_database = new UserDatabase;
    static auto* s_again = new UserDatabase;
    auto& database = *s_database;
    database = UserDatabase {};
    if (UserDatabase::parse(file, database).is_error()) {
        if (database.count() != 0)
            __builtin_trap(); // a failed parse must not touch the database
        return;
    }
    if (database.admin_count() == 0)
        __builtin_trap();
    json::GrowableBuffer out(allocator);
    if (database.serialize(out).is_error())
        __builtin_trap();
    auto& again = *s_again;
    again = UserDatabase {};
    if (UserDatabase::parse(out.bytes(), again).is_error() || again.count() != database.count())
        __builtin_trap();
    for (size_t i = 0; i < database.count(); ++i) {
        if (again.users()[i].name != database.users()[i].name || again.users()[i].role != database.users()[i].role)
            __builtin_trap();
    }
}

void check_audit(std::span<const uint8_t> file, MallocAllocator& allocator)
{
    static auto* s_log = new AuditLog;
    auto& log = *s_log;
    log = AuditLog {};
    if (AuditLog::parse(file, log).is_error())
        return;
    json::GrowableBuffer text(allocator);
    log.render_text(text);
    for (uint8_t c : text.bytes()) {
        if ((c < 0x20 && c != '\n') || c > 0x7e)
            __builtin_trap(); // the admin-facing text is printable
    }
    json::GrowableBuffer out(allocator);
    if (log.serialize(out).is_error())
        __builtin_trap();
    static auto* s_again = new AuditLog;
    *s_again = AuditLog {};
    if (AuditLog::parse(out.bytes(), *s_again).is_error() || s_again->size() != log.size())
        __builtin_trap();
}

void check_phc(std::string_view text)
{
    auto hash = PasswordHash::parse(text);
    if (hash.is_error())
        return;
    if (hash.value().params.validate().is_error())
        __builtin_trap();
    char buffer[PasswordHash::max_text_length];
    auto formatted = hash.value().format(buffer);
    if (formatted.is_error())
        __builtin_trap();
    // Strict parsing means one canonical text per hash.
    if (formatted.value() != text)
        __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    MallocAllocator allocator;
    uint8_t mode = data[0];
    std::span<const uint8_t> input(data + 1, size - 1);
    bool sealed = mode & 1;
    {
        json::GrowableBuffer buffer(allocator);
        switch ((mode >> 1) % 4) {
        case 0:
            check_users(sealed ? seal(buffer, UserDatabase::file_magic, UserDatabase::file_version, input) : input, allocator);
            break;
        case 1: {
            auto file = sealed ? seal(buffer, JwtKey::file_magic, JwtKey::file_version, input) : input;
            auto key = JwtKey::parse(file);
            if (!key.is_error()) {
                json::GrowableBuffer out(allocator);
                if (key.value().serialize(out).is_error() || out.size() != file.size() || __builtin_memcmp(out.bytes().data(), file.data(), file.size()) != 0)
                    __builtin_trap();
            }
            break;
        }
        case 2:
            check_audit(sealed ? seal(buffer, AuditLog::file_magic, AuditLog::file_version, input) : input, allocator);
            break;
        case 3:
            check_phc({ reinterpret_cast<const char*>(input.data()), input.size() });
            break;
        }
    }
    if (allocator.live_allocations() != 0)
        __builtin_trap();
    return 0;
}
