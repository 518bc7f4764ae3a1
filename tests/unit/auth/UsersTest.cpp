// Names, password policy, PHC strings, the user database and its file,
// sessions, the login rate limiter and the audit log.
#include "TestHelpers.h"
#include "host/MallocAllocator.h"
#include "lib/auth/AuditLog.h"
#include "lib/auth/LoginRateLimiter.h"
#include "lib/auth/PasswordHash.h"
#include "lib/auth/SealedFile.h"
#include "lib/auth/SessionTable.h"
#include "lib/auth/UserDatabase.h"
#include "lib/crypto/Csprng.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace aisos;
using namespace aisos::auth;
using namespace aisos::auth::test;

namespace {

const crypto::Argon2Params fast_params { .memory_kib = 64, .iterations = 1, .parallelism = 1 };

PasswordHash make_hash(std::string_view password, uint8_t salt_byte = 1)
{
    MallocAllocator allocator;
    std::vector<uint8_t> salt(16, salt_byte);
    return MUST(hash_password(allocator, password, salt, fast_params));
}

std::string reason(const ErrorOr<void>& result) { return result.is_error() ? result.error().reason() : "ok"; }

} // namespace

TEST(UserName, Validation)
{
    EXPECT_EQ(reason(validate_user_name("admin")), "ok");
    EXPECT_EQ(reason(validate_user_name("a")), "ok");
    EXPECT_EQ(reason(validate_user_name("bob.smith-2_x")), "ok");
    EXPECT_EQ(reason(validate_user_name(std::string(32, 'a'))), "ok");
    EXPECT_EQ(reason(validate_user_name("")), "user name is empty");
    EXPECT_EQ(reason(validate_user_name(std::string(33, 'a'))), "user name longer than 32 characters");
    EXPECT_EQ(reason(validate_user_name("1abc")), "user name must start with a lower-case letter");
    EXPECT_EQ(reason(validate_user_name("_abc")), "user name must start with a lower-case letter");
    EXPECT_EQ(reason(validate_user_name("Admin")), "user name must start with a lower-case letter");
    EXPECT_EQ(reason(validate_user_name("adMin")), "user name may only hold a-z, 0-9, '_', '.' and '-'");
    EXPECT_EQ(reason(validate_user_name("a b")), "user name may only hold a-z, 0-9, '_', '.' and '-'");
    EXPECT_EQ(reason(validate_user_name("a/b")), "user name may only hold a-z, 0-9, '_', '.' and '-'");
    EXPECT_EQ(reason(validate_user_name(std::string_view("a\0b", 3))), "user name may only hold a-z, 0-9, '_', '.' and '-'");
    EXPECT_EQ(reason(validate_user_name("caf\xc3\xa9")), "user name may only hold a-z, 0-9, '_', '.' and '-'");
}

TEST(Password, Policy)
{
    EXPECT_EQ(reason(validate_password("12345678", "bob")), "ok");
    EXPECT_EQ(reason(validate_password("pässwörd-ünïcode", "bob")), "ok");
    EXPECT_EQ(reason(validate_password(std::string(256, 'x'), "bob")), "ok");
    EXPECT_EQ(reason(validate_password("1234567", "bob")), "password shorter than 8 characters");
    EXPECT_EQ(reason(validate_password(std::string(257, 'x'), "bob")), "password longer than 256 bytes");
    EXPECT_EQ(reason(validate_password("longusername", "longusername")), "password must not equal the user name");
    EXPECT_EQ(reason(validate_password("abc\ndefgh", "bob")), "password contains a control character");
    EXPECT_EQ(reason(validate_password("abc\xff\xfe" "defgh", "bob")), "password is not valid UTF-8");
}

TEST(PasswordHash, MatchesArgon2Cffi)
{
    // Written by argon2-cffi 25.1 (libargon2): hash_secret(b"correct horse battery",
    // b"aisos-salt-16byt", t=2, m=19456, p=1, hash_len=32, Type.ID). OWASP defaults.
    MallocAllocator allocator;
    const char* reference = "$argon2id$v=19$m=19456,t=2,p=1$YWlzb3Mtc2FsdC0xNmJ5dA$R/RldX81TOC9g1sIZa350nT5gTVl4a6+/K+IwMVsCnY";
    auto hash = PasswordHash::parse(reference);
    ASSERT_FALSE(hash.is_error()) << hash.error().reason();
    EXPECT_EQ(hash.value().params, crypto::Argon2Params {});
    EXPECT_EQ(hash.value().salt_length, 16);
    EXPECT_TRUE(MUST(verify_password(allocator, "correct horse battery", hash.value())));
    EXPECT_FALSE(MUST(verify_password(allocator, "correct horse batterY", hash.value())));
    char buffer[PasswordHash::max_text_length];
    EXPECT_EQ(MUST(hash.value().format(buffer)), reference);

    // p=2, 16-byte tag, 8-byte salt.
    auto small = MUST(PasswordHash::parse("$argon2id$v=19$m=64,t=1,p=2$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg"));
    EXPECT_TRUE(MUST(verify_password(allocator, "hunter22", small)));
    EXPECT_FALSE(MUST(verify_password(allocator, "hunter23", small)));
    EXPECT_EQ(allocator.live_allocations(), 0);
}

TEST(PasswordHash, HashFormatParseRoundTrip)
{
    auto hash = make_hash("secret password");
    char buffer[PasswordHash::max_text_length];
    auto text = std::string(MUST(hash.format(buffer)));
    EXPECT_TRUE(text.starts_with("$argon2id$v=19$m=64,t=1,p=1$AQEBAQEBAQEBAQEBAQEBAQ$")) << text;
    auto parsed = MUST(PasswordHash::parse(text));
    MallocAllocator allocator;
    EXPECT_TRUE(MUST(verify_password(allocator, "secret password", parsed)));
    EXPECT_FALSE(MUST(verify_password(allocator, "secret passwore", parsed)));
}

TEST(PasswordHash, StrictParsing)
{
    const char* bad[] = {
        "",
        "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg",
        "$argon2d$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg",
        "$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg",
        "$argon2id$m=64,t=1,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg",
        "$argon2id$v=19$t=1,m=64,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg",
        "$argon2id$v=19$m=064,t=1,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg",
        "$argon2id$v=19$m=-64,t=1,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg",
        "$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg",
        "$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg",
        "$argon2id$v=19$m=4,t=1,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg",
        "$argon2id$v=19$m=99999999999,t=1,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg",
        "$argon2id$v=19$m=2000000,t=1,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg", // above 1 GiB
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$glxEmfdi1wGn5YVpelrtmg",             // salt 4 bytes
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5Q",                // hash 10 bytes
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ=$glxEmfdi1wGn5YVpelrtmg",       // padding
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg==",
        "$argon2id$v=19$m=64,t=1,p=1$c2Fsd_NhbHQ$glxEmfdi1wGn5YVpelrtmg",        // base64url char
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg$extra",
        "$argon2id$v=19$m=64,t=1,p=1,keyid=abc$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg",
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ",
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$",
        " $argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg",
        "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg ",
    };
    for (auto* text : bad)
        EXPECT_TRUE(PasswordHash::parse(text).is_error()) << text;
    EXPECT_FALSE(PasswordHash::parse("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg").is_error());
}

TEST(UserDatabase, AddRemoveAndLastAdmin)
{
    UserDatabase database;
    auto hash = make_hash("password one");
    ASSERT_FALSE(database.add(MUST(UserName::create("admin")), UserRole::Admin, hash).is_error());
    ASSERT_FALSE(database.add(MUST(UserName::create("bob")), UserRole::User, hash).is_error());
    auto again = database.add(MUST(UserName::create("bob")), UserRole::Admin, hash);
    ASSERT_TRUE(again.is_error());
    EXPECT_EQ(again.error().code(), ErrorCode::Exists);
    EXPECT_EQ(database.count(), 2u);
    EXPECT_EQ(database.admin_count(), 1u);
    auto last = database.remove("admin");
    ASSERT_TRUE(last.is_error());
    EXPECT_EQ(last.error().code(), ErrorCode::PermissionDenied);
    EXPECT_EQ(database.remove("nobody").error().code(), ErrorCode::NotFound);
    ASSERT_FALSE(database.add(MUST(UserName::create("carol")), UserRole::Admin, hash).is_error());
    EXPECT_FALSE(database.remove("admin").is_error());
    EXPECT_EQ(database.find("admin"), nullptr);
    ASSERT_NE(database.find("carol"), nullptr);
    EXPECT_EQ(database.users()[0].name.view(), "bob");
    EXPECT_FALSE(database.set_password("bob", make_hash("password two", 2)).is_error());
    EXPECT_EQ(database.find("bob")->hash.salt[0], 2);
    EXPECT_EQ(database.set_password("zed", hash).error().code(), ErrorCode::NotFound);
}

TEST(UserDatabase, FullTableIsAnError)
{
    UserDatabase database;
    auto hash = make_hash("password one");
    for (size_t i = 0; i < UserDatabase::max_users; ++i) {
        auto name = numbered("u", i);
        ASSERT_FALSE(database.add(MUST(UserName::create(name)), i == 0 ? UserRole::Admin : UserRole::User, hash).is_error());
    }
    EXPECT_EQ(database.add(MUST(UserName::create("extra")), UserRole::User, hash).error().code(), ErrorCode::Overflow);
}

TEST(UserDatabase, FileRoundTripAndCorruption)
{
    MallocAllocator allocator;
    UserDatabase database;
    ASSERT_FALSE(database.add(MUST(UserName::create("admin")), UserRole::Admin, make_hash("admin password", 3)).is_error());
    ASSERT_FALSE(database.add(MUST(UserName::create("bob")), UserRole::User, make_hash("bob password", 4)).is_error());
    json::GrowableBuffer file(allocator);
    ASSERT_FALSE(database.serialize(file).is_error());
    std::vector<uint8_t> bytes(file.bytes().begin(), file.bytes().end());

    UserDatabase loaded;
    ASSERT_FALSE(UserDatabase::parse(bytes, loaded).is_error());
    ASSERT_EQ(loaded.count(), 2u);
    EXPECT_EQ(loaded.users()[0].name.view(), "admin");
    EXPECT_EQ(loaded.users()[0].role, UserRole::Admin);
    EXPECT_EQ(loaded.users()[1].name.view(), "bob");
    EXPECT_TRUE(MUST(verify_password(allocator, "bob password", loaded.find("bob")->hash)));

    // Every single-bit flip and every truncation is refused, and leaves the database as it was.
    for (size_t i = 0; i < bytes.size(); ++i) {
        for (int bit = 0; bit < 8; bit += 3) {
            auto copy = bytes;
            copy[i] ^= uint8_t(1 << bit);
            EXPECT_TRUE(UserDatabase::parse(copy, loaded).is_error()) << i;
        }
    }
    for (size_t length = 0; length < bytes.size(); ++length)
        EXPECT_TRUE(UserDatabase::parse(std::span<const uint8_t>(bytes.data(), length), loaded).is_error()) << length;
    auto extended = bytes;
    extended.push_back(0);
    EXPECT_TRUE(UserDatabase::parse(extended, loaded).is_error());
    EXPECT_EQ(loaded.count(), 2u);
    EXPECT_EQ(loaded.users()[1].name.view(), "bob");
}

namespace {

// A users file with a valid checksum around the payload a test builds.
std::vector<uint8_t> sealed_users(void (*build)(SealedWriter&))
{
    MallocAllocator allocator;
    json::GrowableBuffer buffer(allocator);
    SealedWriter writer(buffer, UserDatabase::file_magic, UserDatabase::file_version);
    build(writer);
    MUST(writer.finish());
    return { buffer.bytes().begin(), buffer.bytes().end() };
}

constexpr std::string_view phc = "$argon2id$v=19$m=64,t=1,p=2$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg";

void write_user(SealedWriter& writer, uint8_t role, std::string_view name, std::string_view hash = phc)
{
    writer.u8(role);
    writer.u8(uint8_t(name.size()));
    writer.bytes(name);
    writer.u16(uint16_t(hash.size()));
    writer.bytes(hash);
}

std::string parse_reason(const std::vector<uint8_t>& bytes)
{
    UserDatabase database;
    auto result = UserDatabase::parse(bytes, database);
    return result.is_error() ? result.error().reason() : "ok";
}

} // namespace

TEST(UserDatabase, SemanticChecksWithValidChecksums)
{
    EXPECT_EQ(parse_reason(sealed_users([](SealedWriter& w) { w.u32(1); write_user(w, 2, "admin"); })), "ok");
    EXPECT_EQ(parse_reason(sealed_users([](SealedWriter& w) { w.u32(1); write_user(w, 1, "bob"); })), "users file: no admin");
    EXPECT_EQ(parse_reason(sealed_users([](SealedWriter& w) { w.u32(0); })), "users file: no admin");
    EXPECT_EQ(parse_reason(sealed_users([](SealedWriter& w) { w.u32(2); write_user(w, 2, "admin"); write_user(w, 1, "admin"); })), "users file: duplicate user name");
    EXPECT_EQ(parse_reason(sealed_users([](SealedWriter& w) { w.u32(1); write_user(w, 3, "admin"); })), "users file: unknown role");
    EXPECT_EQ(parse_reason(sealed_users([](SealedWriter& w) { w.u32(1); write_user(w, 2, "Admin"); })), "users file: invalid user name");
    EXPECT_EQ(parse_reason(sealed_users([](SealedWriter& w) { w.u32(1); write_user(w, 2, "admin", "$argon2id$v=19$m=64"); })), "users file: invalid password hash");
    EXPECT_EQ(parse_reason(sealed_users([](SealedWriter& w) { w.u32(2); write_user(w, 2, "admin"); })), "record truncated");
    EXPECT_EQ(parse_reason(sealed_users([](SealedWriter& w) { w.u32(1); write_user(w, 2, "admin"); w.u8(0); })), "unexpected bytes after the last record");
    EXPECT_EQ(parse_reason(sealed_users([](SealedWriter& w) { w.u32(100000); })), "users file: too many users");
    // Another version, correctly sealed.
    MallocAllocator allocator;
    json::GrowableBuffer buffer(allocator);
    SealedWriter writer(buffer, UserDatabase::file_magic, 2);
    writer.u32(0);
    MUST(writer.finish());
    EXPECT_EQ(parse_reason({ buffer.bytes().begin(), buffer.bytes().end() }), "unknown file format version");
}

TEST(Sessions, CreateFindRevoke)
{
    FakeEntropy entropy;
    crypto::Csprng random(entropy);
    ASSERT_FALSE(random.seed().is_error());
    SessionTable sessions(3);
    auto alice = MUST(UserName::create("alice"));
    auto bob = MUST(UserName::create("bob"));
    uint64_t now = 1000;
    auto a1 = MUST(sessions.create(alice, UserRole::Admin, now, 100, random));
    auto b1 = MUST(sessions.create(bob, UserRole::User, now, 100, random));
    EXPECT_FALSE(a1.id == b1.id);
    ASSERT_NE(sessions.find(a1.id, now), nullptr);
    EXPECT_EQ(sessions.find(a1.id, now)->user.view(), "alice");
    EXPECT_EQ(sessions.find(a1.id, now + 99)->role, UserRole::Admin);
    EXPECT_EQ(sessions.find(a1.id, now + 100), nullptr); // expired
    EXPECT_TRUE(sessions.revoke(b1.id));
    EXPECT_EQ(sessions.find(b1.id, now), nullptr);
    EXPECT_FALSE(sessions.revoke(b1.id));
}

TEST(Sessions, PerUserLimitEvictsOldestAndUserRevocation)
{
    FakeEntropy entropy;
    crypto::Csprng random(entropy);
    ASSERT_FALSE(random.seed().is_error());
    SessionTable sessions(3);
    auto alice = MUST(UserName::create("alice"));
    auto bob = MUST(UserName::create("bob"));
    std::vector<Session> created;
    for (uint64_t i = 0; i < 5; ++i)
        created.push_back(MUST(sessions.create(alice, UserRole::User, 1000 + i, 1000, random)));
    auto b = MUST(sessions.create(bob, UserRole::User, 1000, 1000, random));
    EXPECT_EQ(sessions.user_count("alice", 1010), 3u);
    EXPECT_EQ(sessions.find(created[0].id, 1010), nullptr);
    EXPECT_EQ(sessions.find(created[1].id, 1010), nullptr);
    EXPECT_NE(sessions.find(created[2].id, 1010), nullptr);
    EXPECT_NE(sessions.find(created[4].id, 1010), nullptr);
    EXPECT_EQ(sessions.revoke_user("alice", &created[4].id), 2u);
    EXPECT_NE(sessions.find(created[4].id, 1010), nullptr);
    EXPECT_EQ(sessions.revoke_user("alice"), 1u);
    EXPECT_EQ(sessions.user_count("alice", 1010), 0u);
    EXPECT_NE(sessions.find(b.id, 1010), nullptr);
}

TEST(Sessions, BoundedTotalEvictsOldest)
{
    FakeEntropy entropy;
    crypto::Csprng random(entropy);
    ASSERT_FALSE(random.seed().is_error());
    SessionTable sessions(2);
    std::vector<Session> created;
    for (size_t i = 0; i < SessionTable::max_sessions; ++i) {
        auto name = MUST(UserName::create(numbered("u", i)));
        created.push_back(MUST(sessions.create(name, UserRole::User, 1000 + i, 100000, random)));
    }
    EXPECT_EQ(sessions.live_count(5000), SessionTable::max_sessions);
    auto extra = MUST(sessions.create(MUST(UserName::create("late")), UserRole::User, 9000, 100000, random));
    EXPECT_EQ(sessions.live_count(9000), SessionTable::max_sessions);
    EXPECT_EQ(sessions.find(created[0].id, 9000), nullptr); // the oldest went
    EXPECT_NE(sessions.find(created[1].id, 9000), nullptr);
    EXPECT_NE(sessions.find(extra.id, 9000), nullptr);
    // Expired sessions are reclaimed before anything live is evicted.
    uint64_t evictions = sessions.evictions();
    auto later = MUST(sessions.create(MUST(UserName::create("later")), UserRole::User, 1000 + 100000 + 5, 100, random));
    EXPECT_EQ(sessions.evictions(), evictions);
    EXPECT_NE(sessions.find(later.id, 1000 + 100000 + 5), nullptr);
}

TEST(RateLimiter, GrowingDelayLockoutAndReset)
{
    LoginRateLimiter limiter;
    uint32_t ip = 0x0a000202;
    uint64_t now = 5000;
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(limiter.retry_after(ip, "alice", now), 0u);
        limiter.begin_attempt(ip, "alice", now);
    }
    EXPECT_EQ(limiter.retry_after(ip, "alice", now), 0u);
    limiter.begin_attempt(ip, "alice", now); // 5th failure: 1 s
    EXPECT_EQ(limiter.retry_after(ip, "alice", now), 1u);
    EXPECT_EQ(limiter.retry_after(ip, "alice", now + 1), 0u);
    uint64_t expected = 2;
    uint64_t previous_wait = 1;
    for (int i = 0; i < 12; ++i) {
        now += previous_wait; // wait out each block exactly, then fail again
        EXPECT_EQ(limiter.retry_after(ip, "alice", now), 0u);
        limiter.begin_attempt(ip, "alice", now);
        uint64_t wait = limiter.retry_after(ip, "alice", now);
        EXPECT_EQ(wait, std::min<uint64_t>(expected, 900)) << i;
        previous_wait = wait;
        expected *= 2;
    }
    // Another user from another address is not affected.
    EXPECT_EQ(limiter.retry_after(0x0a000303, "bob", now), 0u);
    // Another address trying "alice" is: the per-name block holds.
    EXPECT_EQ(limiter.retry_after(0x0a000303, "alice", now), 900u);
    // A success clears the name.
    limiter.end_attempt_success(ip, "alice", now + 900);
    EXPECT_EQ(limiter.retry_after(ip, "alice", now + 900), 0u);
    EXPECT_EQ(limiter.failures(ip, "alice", now + 900), 0u);
}

TEST(RateLimiter, SuccessfulAttemptsDoNotAccumulate)
{
    LoginRateLimiter limiter;
    for (int i = 0; i < 100; ++i) {
        ASSERT_EQ(limiter.retry_after(1, "alice", 100), 0u) << i;
        limiter.begin_attempt(1, "alice", 100);
        limiter.end_attempt_success(1, "alice", 100);
    }
}

TEST(RateLimiter, PerAddressLimitAcrossNames)
{
    LoginRateLimiter limiter;
    uint64_t now = 100;
    for (int i = 0; i < 19; ++i) {
        auto name = numbered("user", i);
        ASSERT_EQ(limiter.retry_after(7, name, now), 0u);
        limiter.begin_attempt(7, name, now);
    }
    limiter.begin_attempt(7, "user19", now); // 20th failure from this address
    EXPECT_EQ(limiter.retry_after(7, "fresh", now), 1u);
    EXPECT_EQ(limiter.retry_after(8, "fresh", now), 0u);
}

TEST(RateLimiter, ForgetsAfterQuietPeriodAndStaysBounded)
{
    LoginRateLimiter limiter;
    for (int i = 0; i < 3; ++i)
        limiter.begin_attempt(1, "alice", 100);
    EXPECT_EQ(limiter.failures(1, "alice", 100), 3u);
    EXPECT_EQ(limiter.failures(1, "alice", 100 + 3600), 0u);
    // Thousands of distinct names and addresses: fixed memory, and a blocked
    // name stays blocked while the table churns.
    for (int i = 0; i < 6; ++i)
        limiter.begin_attempt(99, "victim", 200);
    for (int i = 0; i < 5000; ++i)
        limiter.begin_attempt(uint32_t(1000 + i), numbered("n", i), 200);
    EXPECT_GT(limiter.retry_after(12345, "victim", 200), 0u);
    // Invalid names share one record instead of filling the table.
    for (int i = 0; i < 6; ++i)
        limiter.begin_attempt(uint32_t(50000 + i), numbered("Bad Name ", i), 300);
    EXPECT_GT(limiter.retry_after(60000, "Another Bad", 300), 0u);
}

TEST(AuditLog, RecordRenderRingAndFile)
{
    AuditLog log;
    log.record(1800000000, AuditEvent::LoginFailed, "", "admin", 0x0a000202);
    log.record(1800000001, AuditEvent::UserCreated, "admin", "bob", 0x0a000202);
    log.record(0, AuditEvent::AdminBootstrapped, "", "admin\nFAKE", 0);
    MallocAllocator allocator;
    json::GrowableBuffer text(allocator);
    log.render_text(text);
    EXPECT_EQ(std::string(text.view()),
        "2027-01-15T08:00:00Z login_failed actor=- subject=admin ip=10.0.2.2\n"
        "2027-01-15T08:00:01Z user_created actor=admin subject=bob ip=10.0.2.2\n"
        "1970-01-01T00:00:00Z admin_bootstrapped actor=- subject=admin?FAKE ip=-\n");

    char time[21];
    EXPECT_EQ(format_utc_time(951782400, time), "2000-02-29T00:00:00Z");
    EXPECT_EQ(format_utc_time(1767225599, time), "2025-12-31T23:59:59Z");

    for (int i = 0; i < 1000; ++i)
        log.record(1800000100 + i, AuditEvent::Logout, "bob", "bob", 1);
    EXPECT_EQ(log.size(), AuditLog::capacity);
    EXPECT_EQ(log.total_recorded(), 1003u);
    EXPECT_EQ(log.at(0).time, 1800000100u + 1000 - AuditLog::capacity);

    json::GrowableBuffer file(allocator);
    ASSERT_FALSE(log.serialize(file).is_error());
    AuditLog loaded;
    ASSERT_FALSE(AuditLog::parse(file.bytes(), loaded).is_error());
    EXPECT_EQ(loaded.size(), log.size());
    EXPECT_EQ(loaded.total_recorded(), 1003u);
    EXPECT_EQ(loaded.at(AuditLog::capacity - 1).time, log.at(AuditLog::capacity - 1).time);
    EXPECT_EQ(loaded.at(5).actor_view(), "bob");
    std::vector<uint8_t> bytes(file.bytes().begin(), file.bytes().end());
    for (size_t i = 0; i < bytes.size(); i += 13) {
        auto copy = bytes;
        copy[i] ^= 0x20;
        EXPECT_TRUE(AuditLog::parse(copy, loaded).is_error()) << i;
    }
}
