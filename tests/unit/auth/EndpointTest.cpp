// The auth endpoints end to end through lib/net/http's HttpServer, over the
// in-memory ByteStream of tests/unit/http, with a fake clock and a
// controllable KDF executor.
#include "TestHelpers.h"
#include "host/MallocAllocator.h"
#include "lib/auth/AuthService.h"
#include "lib/crypto/Csprng.h"
#include "lib/json/JsonDocument.h"
#include "lib/net/http/HttpServer.h"
#include "tests/unit/http/TestSupport.h"

#include <deque>
#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace aisos;
using namespace aisos::auth;
using namespace aisos::auth::test;
using aisos::http::test::ParsedResponse;
using aisos::http::test::TestStream;

namespace {

// Runs jobs when told (automatic mode runs them at submit, like a fast worker CPU).
class TestKdfExecutor final : public KdfExecutor {
public:
    explicit TestKdfExecutor(Allocator& allocator)
        : m_allocator(allocator)
    {
    }
    ErrorOr<void> submit(KdfJob& job) override
    {
        ++submitted;
        if (refuse)
            return Error { ErrorCode::Busy, "queue full" };
        if (automatic)
            job.run(m_allocator);
        else
            queue.push_back(&job);
        return {};
    }
    void run_all()
    {
        while (!queue.empty()) {
            queue.front()->run(m_allocator);
            queue.pop_front();
        }
    }
    bool automatic { true };
    bool refuse { false };
    int submitted { 0 };
    std::deque<KdfJob*> queue;

private:
    Allocator& m_allocator;
};

class MemoryStore final : public AuthStore {
public:
    ErrorOr<void> save(AuthFile file, std::span<const uint8_t> contents) override
    {
        if (fail)
            return Error { ErrorCode::NoSpace, "disk full" };
        files[file] = std::vector<uint8_t>(contents.begin(), contents.end());
        ++saves;
        return {};
    }
    std::map<AuthFile, std::vector<uint8_t>> files;
    bool fail { false };
    int saves { 0 };
};

const crypto::Argon2Params fast_kdf { .memory_kib = 64, .iterations = 1, .parallelism = 1 };
constexpr uint32_t client_ip = 0x0A000202;

class AuthEndpointTest : public ::testing::Test {
protected:
    AuthEndpointTest()
        : random(entropy)
        , executor(kdf_allocator)
    {
        MUST(random.seed());
        config.kdf = fast_kdf;
    }
    ~AuthEndpointTest() override
    {
        server.reset();
        executor.run_all();
        if (service)
            allocator.destroy(service);
        EXPECT_EQ(allocator.live, 0) << "memory leaked";
    }

    void start(std::string_view password = {}, std::string_view hash = {})
    {
        service = MUST(AuthService::create(allocator, clock, random, executor, config));
        service->set_store(&store);
        for (auto& [file, bytes] : preload) {
            if (file == AuthFile::Users)
                MUST(service->load_users(bytes));
            if (file == AuthFile::JwtKey)
                MUST(service->load_jwt_key(bytes));
            if (file == AuthFile::AuditLog)
                MUST(service->load_audit_log(bytes));
        }
        auto boot = service->bootstrap(password, hash);
        ASSERT_FALSE(boot.is_error()) << boot.error().reason();
        bootstrap = boot.value();
        admin_password = std::string(bootstrap.password().empty() ? password : bootstrap.password());
        MUST(service->register_routes(router));
        server = std::make_unique<http::HttpServer>(allocator, router);
        server->set_server_name("aiSOS/test");
        server->set_wall_clock(clock.now);
        server->set_authenticator(service);
        server->set_release_callback([](void*, http::ByteStream* stream) { static_cast<TestStream*>(stream)->released = true; }, nullptr);
    }

    TestStream& connect(uint32_t ip = client_ip)
    {
        streams.push_back(std::make_unique<TestStream>());
        auto& stream = *streams.back();
        EXPECT_FALSE(server->accept(&stream, { ip, 40000 }).is_error());
        return stream;
    }

    void poll()
    {
        now_ns += 1000000;
        server->set_wall_clock(clock.now);
        server->poll(now_ns);
    }

    static std::string bearer(const std::string& token) { return "Authorization: Bearer " + token + "\r\n"; }

    ParsedResponse request(std::string method, std::string path, std::string body = {}, std::string extra_headers = {}, uint32_t ip = client_ip)
    {
        auto& stream = connect(ip);
        std::string text = method + " " + path + " HTTP/1.1\r\nHost: test\r\n" + extra_headers;
        if (!body.empty() || method == "POST" || method == "PUT")
            text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
        text += "\r\n" + body;
        stream.send(text);
        for (int i = 0; i < 50; ++i) {
            poll();
            auto parsed = http::test::parse_response(stream.outbound, method == "HEAD" ? http::test::BodyExpected::No : http::test::BodyExpected::Yes);
            if (parsed.has_value())
                return parsed.value();
        }
        ADD_FAILURE() << "no response to " << method << " " << path;
        return {};
    }

    ParsedResponse login(const std::string& user, const std::string& password, uint32_t ip = client_ip)
    {
        return request("POST", "/auth/login", R"({"user":")" + user + R"(","password":")" + password + R"("})", {}, ip);
    }

    std::string token_of(const ParsedResponse& response)
    {
        MallocAllocator json_allocator;
        auto document = json::JsonDocument::parse(json_allocator, response.body);
        if (document.is_error())
            return {};
        return std::string(document.value().root().get("token").as_string().value_or(""));
    }

    std::string login_token(const std::string& user, const std::string& password)
    {
        auto response = login(user, password);
        EXPECT_EQ(response.status, 200) << response.body;
        return token_of(response);
    }

    std::string admin_token() { return login_token("admin", admin_password); }

    std::string create_user(const std::string& admin, const std::string& name, const std::string& password, const std::string& role = "user")
    {
        auto response = request("POST", "/users", R"({"user":")" + name + R"(","password":")" + password + R"(","role":")" + role + R"("})", bearer(admin));
        EXPECT_EQ(response.status, 201) << response.body;
        return login_token(name, password);
    }

    http::test::TrackingAllocator allocator;
    MallocAllocator kdf_allocator;
    FakeEntropy entropy;
    crypto::Csprng random;
    FakeClock clock;
    TestKdfExecutor executor;
    MemoryStore store;
    std::map<AuthFile, std::vector<uint8_t>> preload;
    AuthConfig config;
    AuthService* service { nullptr };
    BootstrapResult bootstrap;
    std::string admin_password;
    http::Router router;
    std::unique_ptr<http::HttpServer> server;
    std::vector<std::unique_ptr<TestStream>> streams;
    uint64_t now_ns { 0 };
};

} // namespace

TEST_F(AuthEndpointTest, GeneratedAdminPasswordLogsIn)
{
    start();
    ASSERT_EQ(bootstrap.source, AdminSource::Generated);
    EXPECT_EQ(bootstrap.password().size(), 20u);
    auto response = login("admin", admin_password);
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.header("content-type"), "application/json");
    EXPECT_EQ(response.header("cache-control"), "no-store");
    MallocAllocator json_allocator;
    auto document = MUST(json::JsonDocument::parse(json_allocator, response.body));
    auto root = document.root();
    EXPECT_EQ(root.get("user").as_string().value_or(""), "admin");
    EXPECT_EQ(root.get("role").as_string().value_or(""), "admin");
    EXPECT_EQ(root.get("expires_in").as_integer().value_or(0), 12 * 3600);
    auto token = std::string(root.get("token").as_string().value_or(""));
    EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);

    auto me = request("GET", "/auth/me", {}, bearer(token));
    ASSERT_EQ(me.status, 200);
    EXPECT_EQ(me.body, R"({"user":"admin","role":"admin","expires_at":)" + std::to_string(clock.now + 12 * 3600) + "}");
    // The key and the users file were saved at bootstrap.
    EXPECT_TRUE(store.files.count(AuthFile::JwtKey));
    EXPECT_TRUE(store.files.count(AuthFile::Users));
}

TEST_F(AuthEndpointTest, BadCredentials)
{
    start();
    EXPECT_EQ(login("admin", "wrong password").status, 401);
    EXPECT_EQ(login("nobody", "whatever123").status, 401);
    EXPECT_EQ(login("Not A Name", "whatever123").status, 401);
    int before = executor.submitted;
    EXPECT_EQ(login("ghost", "whatever123").status, 401);
    EXPECT_EQ(executor.submitted, before + 1) << "unknown users must cost a hash too";
    EXPECT_EQ(request("POST", "/auth/login", "not json").status, 400);
    EXPECT_EQ(request("POST", "/auth/login", R"({"user":"admin"})").status, 400);
    EXPECT_EQ(request("POST", "/auth/login", R"({"user":"admin","password":1})").status, 400);
    EXPECT_EQ(request("POST", "/auth/login", R"({"user":"admin","password":"x","extra":1})").status, 400);
    EXPECT_EQ(request("POST", "/auth/login", R"({"user":"ghost","user":"admin","password":"x"})").status, 400);
    EXPECT_EQ(request("POST", "/auth/login", std::string(5000, ' ')).status, 413);
}

TEST_F(AuthEndpointTest, EveryProtectedRouteChecksTheRole)
{
    start();
    auto admin = admin_token();
    auto user = create_user(admin, "bob", "bob password 1");
    create_user(admin, "victim", "victim password");
    struct Case {
        std::string method, path, body;
        bool admin_only;
        int success;
    };
    std::vector<Case> cases = {
        { "GET", "/auth/me", "", false, 200 },
        { "GET", "/users", "", true, 200 },
        { "POST", "/users", R"({"user":"carol","password":"carol password"})", true, 201 },
        { "DELETE", "/users/victim", "", true, 204 },
        { "PUT", "/users/carol/password", R"({"password":"another password"})", true, 204 },
        { "GET", "/sys/audit", "", true, 200 },
        { "POST", "/auth/logout", "", false, 204 },
    };
    for (auto& c : cases) {
        SCOPED_TRACE(c.method + " " + c.path);
        auto anonymous = request(c.method, c.path, c.body);
        EXPECT_EQ(anonymous.status, 401);
        EXPECT_EQ(anonymous.header("www-authenticate"), "Bearer");
        EXPECT_EQ(request(c.method, c.path, c.body, bearer("garbage.token.here")).status, 401);
        EXPECT_EQ(request(c.method, c.path, c.body, "Authorization: Basic YWRtaW46eA==\r\n").status, 401);
        if (c.admin_only) {
            auto forbidden = request(c.method, c.path, c.body, bearer(user));
            EXPECT_EQ(forbidden.status, 403);
            EXPECT_EQ(request(c.method, c.path, c.body, bearer(admin)).status, c.success);
        } else {
            EXPECT_EQ(request(c.method, c.path, c.body, bearer(user)).status, c.success);
        }
    }
    // Bearer scheme is case-insensitive.
    EXPECT_EQ(request("GET", "/users", {}, "Authorization: bearer " + admin + "\r\n").status, 200);
}

TEST_F(AuthEndpointTest, UserListAndCreationRules)
{
    start();
    auto admin = admin_token();
    auto create = [&](const std::string& body) { return request("POST", "/users", body, bearer(admin)); };
    EXPECT_EQ(create(R"({"user":"bob","password":"bob password","role":"user"})").status, 201);
    EXPECT_EQ(create(R"({"user":"bob","password":"bob password 2"})").status, 409);
    auto weak = create(R"({"user":"carol","password":"short"})");
    EXPECT_EQ(weak.status, 400);
    EXPECT_NE(weak.body.find("password shorter than 8 characters"), std::string::npos) << weak.body;
    auto same = create(R"({"user":"carolcarol","password":"carolcarol"})");
    EXPECT_EQ(same.status, 400);
    EXPECT_NE(same.body.find("must not equal the user name"), std::string::npos);
    auto bad_name = create(R"({"user":"Carol","password":"carol password"})");
    EXPECT_EQ(bad_name.status, 400);
    EXPECT_NE(bad_name.body.find("lower-case letter"), std::string::npos);
    EXPECT_EQ(create(R"({"user":"carol","password":"carol password","role":"root"})").status, 400);
    EXPECT_EQ(create(R"({"user":"carol","password":"carol password","admin":true})").status, 400);
    EXPECT_EQ(create(R"({"user":"carol","password":"carol password","role":"admin"})").status, 201);
    auto list = request("GET", "/users", {}, bearer(admin));
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(list.body, R"([{"user":"admin","role":"admin"},{"user":"bob","role":"user"},{"user":"carol","role":"admin"}])");
    // The new admin really is one.
    auto carol = login_token("carol", "carol password");
    EXPECT_EQ(request("GET", "/users", {}, bearer(carol)).status, 200);
}

TEST_F(AuthEndpointTest, LogoutRevokesAtOnce)
{
    start();
    auto token = admin_token();
    auto other = admin_token();
    EXPECT_EQ(request("GET", "/auth/me", {}, bearer(token)).status, 200);
    EXPECT_EQ(request("POST", "/auth/logout", {}, bearer(token)).status, 204);
    EXPECT_EQ(request("GET", "/auth/me", {}, bearer(token)).status, 401);
    EXPECT_EQ(request("POST", "/auth/logout", {}, bearer(token)).status, 401);
    EXPECT_EQ(request("GET", "/auth/me", {}, bearer(other)).status, 200) << "other sessions stay";
}

TEST_F(AuthEndpointTest, DeletingAUserEndsItsSessionsAndLastAdminStays)
{
    start();
    auto admin = admin_token();
    auto bob = create_user(admin, "bob", "bob password");
    EXPECT_EQ(request("GET", "/auth/me", {}, bearer(bob)).status, 200);
    EXPECT_EQ(request("DELETE", "/users/bob", {}, bearer(admin)).status, 204);
    EXPECT_EQ(request("GET", "/auth/me", {}, bearer(bob)).status, 401);
    EXPECT_EQ(login("bob", "bob password").status, 401);
    EXPECT_EQ(request("DELETE", "/users/bob", {}, bearer(admin)).status, 404);
    EXPECT_EQ(request("DELETE", "/users/Bad%20Name", {}, bearer(admin)).status, 404);
    auto last = request("DELETE", "/users/admin", {}, bearer(admin));
    EXPECT_EQ(last.status, 409);
    EXPECT_NE(last.body.find("last admin"), std::string::npos);
    // A recreated "bob" does not revive the old token.
    create_user(admin, "bob", "bob password");
    EXPECT_EQ(request("GET", "/auth/me", {}, bearer(bob)).status, 401);
}

TEST_F(AuthEndpointTest, PasswordChangeSelfAndAdmin)
{
    start();
    auto admin = admin_token();
    auto bob = create_user(admin, "bob", "bob password");
    auto bob_elsewhere = login_token("bob", "bob password");
    create_user(admin, "carol", "carol password");
    EXPECT_EQ(request("PUT", "/users/carol/password", R"({"password":"hijacked pw"})", bearer(bob)).status, 403);
    EXPECT_EQ(request("PUT", "/users/bob/password", R"({"password":"short"})", bearer(bob)).status, 400);
    EXPECT_EQ(request("PUT", "/users/bob/password", R"({"pass":"bob password 2"})", bearer(bob)).status, 400);
    EXPECT_EQ(request("PUT", "/users/bob/password", R"({"password":"bob password 2"})", bearer(bob)).status, 204);
    EXPECT_EQ(login("bob", "bob password").status, 401);
    EXPECT_EQ(login("bob", "bob password 2").status, 200);
    EXPECT_EQ(request("GET", "/auth/me", {}, bearer(bob)).status, 200) << "the changing session stays";
    EXPECT_EQ(request("GET", "/auth/me", {}, bearer(bob_elsewhere)).status, 401) << "other sessions end";
    // An admin resets bob's password: all of bob's sessions end.
    EXPECT_EQ(request("PUT", "/users/bob/password", R"({"password":"bob password 3"})", bearer(admin)).status, 204);
    EXPECT_EQ(request("GET", "/auth/me", {}, bearer(bob)).status, 401);
    EXPECT_EQ(login("bob", "bob password 3").status, 200);
    EXPECT_EQ(request("PUT", "/users/nobody/password", R"({"password":"whatever pw"})", bearer(admin)).status, 404);
}

TEST_F(AuthEndpointTest, RateLimitAnswers429WithRetryAfter)
{
    start();
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(login("admin", "wrong password").status, 401) << i;
    auto limited = login("admin", "wrong password");
    EXPECT_EQ(limited.status, 429);
    EXPECT_EQ(limited.header("retry-after"), "1");
    // Even the right password waits.
    EXPECT_EQ(login("admin", admin_password).status, 429);
    clock.now += 1;
    EXPECT_EQ(login("admin", "wrong password").status, 401);
    auto longer = login("admin", admin_password);
    EXPECT_EQ(longer.status, 429);
    EXPECT_EQ(longer.header("retry-after"), "2");
    clock.now += 2;
    EXPECT_EQ(login("admin", admin_password).status, 200);
    EXPECT_EQ(login("admin", "wrong password").status, 401) << "a success starts the count over";
    EXPECT_EQ(login("admin", admin_password).status, 200);
    auto audit = request("GET", "/sys/audit", {}, bearer(admin_token()));
    EXPECT_NE(audit.body.find("login_throttled actor=- subject=admin ip=10.0.2.2"), std::string::npos) << audit.body;
    // Hammering a blocked account adds one line, not one per attempt.
    for (int i = 0; i < 5; ++i)
        login("admin", "wrong password");
    clock.now += 100;
    size_t before = service->audit_log().size();
    for (int i = 0; i < 50; ++i)
        login("admin", "wrong password");
    EXPECT_LT(service->audit_log().size(), before + 15) << "throttled attempts are coalesced";
    EXPECT_NE(audit.body.find("login_failed"), std::string::npos);
}

TEST_F(AuthEndpointTest, KdfRunsOffTheNetworkCore)
{
    start();
    executor.automatic = false;
    auto& stream = connect();
    std::string body = R"({"user":"admin","password":")" + admin_password + R"("})";
    stream.send("POST /auth/login HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    for (int i = 0; i < 20; ++i)
        poll();
    EXPECT_TRUE(stream.outbound.empty()) << "answered before the hash was computed";
    ASSERT_EQ(executor.queue.size(), 1u);
    executor.run_all();
    poll();
    auto response = http::test::parse_response(stream.outbound);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
}

TEST_F(AuthEndpointTest, AbandonedAndBusyKdfJobs)
{
    start();
    executor.automatic = false;
    // Four logins whose clients vanish while hashing: the slots come back once the jobs finish.
    for (size_t i = 0; i < AuthService::max_kdf_jobs; ++i) {
        auto& stream = connect();
        std::string body = R"({"user":"admin","password":"wrong password"})";
        stream.send("POST /auth/login HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
        poll();
        stream.reset = true; // connection gone
        poll();
    }
    EXPECT_EQ(executor.queue.size(), AuthService::max_kdf_jobs);
    auto busy = login("admin", "wrong password");
    EXPECT_EQ(busy.status, 503);
    EXPECT_EQ(busy.header("retry-after"), "1");
    executor.run_all();
    executor.automatic = true;
    EXPECT_EQ(login("admin", admin_password).status, 200);
    executor.refuse = true;
    EXPECT_EQ(login("admin", admin_password).status, 503);
}

TEST_F(AuthEndpointTest, KdfOutOfMemoryIs503)
{
    start();
    kdf_allocator.fail_after(0);
    EXPECT_EQ(login("admin", admin_password).status, 503);
    kdf_allocator.never_fail();
    EXPECT_EQ(login("admin", admin_password).status, 200);
}

TEST_F(AuthEndpointTest, ExpiredSessionsAndTokens)
{
    config.session_lifetime_seconds = 600;
    start();
    auto token = admin_token();
    clock.now += 599;
    EXPECT_EQ(request("GET", "/auth/me", {}, bearer(token)).status, 200);
    clock.now += 1;
    EXPECT_EQ(request("GET", "/auth/me", {}, bearer(token)).status, 401) << "the session ends on time even within the token leeway";
}

TEST_F(AuthEndpointTest, WebSocketProtocolAndAuthenticator)
{
    start();
    auto token = admin_token();
    auto offered = "chat.v1, bearer." + token;
    auto result = service->authenticate({}, offered);
    EXPECT_EQ(result.kind, http::AuthResult::Kind::User);
    EXPECT_EQ(result.role, http::Role::Admin);
    EXPECT_EQ(result.user_name(), "admin");
    EXPECT_EQ(result.websocket_protocol, "bearer." + token);
    EXPECT_EQ(result.websocket_protocol.data(), offered.data() + 9) << "a view into the offered value";
    EXPECT_EQ(service->authenticate({}, "chat.v1").kind, http::AuthResult::Kind::Anonymous);
    EXPECT_EQ(service->authenticate({}, "bearer.").kind, http::AuthResult::Kind::Invalid);
    EXPECT_EQ(service->authenticate({}, "bearer.abc.def.ghi").kind, http::AuthResult::Kind::Invalid);
    EXPECT_EQ(service->authenticate({}, {}).kind, http::AuthResult::Kind::Anonymous);
    EXPECT_EQ(service->authenticate("Bearer", {}).kind, http::AuthResult::Kind::Invalid);
    EXPECT_EQ(service->authenticate("Bearer ", {}).kind, http::AuthResult::Kind::Invalid);
    EXPECT_EQ(service->authenticate("Token " + token, {}).kind, http::AuthResult::Kind::Invalid);
    EXPECT_EQ(service->authenticate("Bearer " + token, {}).kind, http::AuthResult::Kind::User);
    // A token signed with another install's key is refused.
    FakeEntropy other_entropy(77);
    crypto::Csprng other_random(other_entropy);
    MUST(other_random.seed());
    auto other_key = MUST(JwtKey::generate(other_random));
    JwtClaims claims;
    claims.subject = MUST(UserName::create("admin"));
    claims.role = UserRole::Admin;
    claims.issued_at = claims.not_before = clock.now;
    claims.expires_at = clock.now + 100;
    char buffer[max_issued_jwt_size];
    auto forged = std::string(MUST(sign_jwt(other_key, claims, buffer)));
    EXPECT_EQ(service->authenticate("Bearer " + forged, {}).kind, http::AuthResult::Kind::Invalid);
    // A correctly signed token whose session never existed is refused too.
    auto unsessioned = std::string(MUST(sign_jwt(service->jwt_key(), claims, buffer)));
    EXPECT_EQ(service->authenticate("Bearer " + unsessioned, {}).kind, http::AuthResult::Kind::Invalid);
}

TEST_F(AuthEndpointTest, StateSurvivesARestartThroughTheStore)
{
    start();
    auto admin = admin_token();
    create_user(admin, "bob", "bob password");
    auto old_bob = login_token("bob", "bob password");
    EXPECT_FALSE(store.files.count(AuthFile::AuditLog)) << "the audit log waits for flush()";
    EXPECT_TRUE(service->audit_dirty());
    ASSERT_FALSE(service->flush().is_error());
    EXPECT_FALSE(service->audit_dirty());
    int saves = store.saves;
    ASSERT_FALSE(service->flush().is_error());
    EXPECT_EQ(store.saves, saves) << "nothing changed, nothing written";
    auto saved = store.files;
    ASSERT_TRUE(saved.count(AuthFile::Users) && saved.count(AuthFile::JwtKey) && saved.count(AuthFile::AuditLog));

    // "Reboot": a new service from the saved files.
    server.reset();
    allocator.destroy(service);
    service = nullptr;
    router = http::Router();
    streams.clear();
    preload = saved;
    start("ignored config password");
    EXPECT_EQ(bootstrap.source, AdminSource::Existing);
    EXPECT_EQ(service->users().count(), 2u);
    EXPECT_EQ(request("GET", "/auth/me", {}, bearer(old_bob)).status, 401) << "sessions end at reboot";
    auto bob = login_token("bob", "bob password");
    EXPECT_EQ(request("GET", "/auth/me", {}, bearer(bob)).status, 200);
    EXPECT_GT(service->audit_log().size(), 3u);
}

TEST_F(AuthEndpointTest, StoreFailureUndoesTheChange)
{
    start();
    auto admin = admin_token();
    store.fail = true;
    EXPECT_EQ(request("POST", "/users", R"({"user":"bob","password":"bob password"})", bearer(admin)).status, 503);
    EXPECT_EQ(service->users().find("bob"), nullptr);
    store.fail = false;
    create_user(admin, "bob", "bob password");
    store.fail = true;
    EXPECT_EQ(request("DELETE", "/users/bob", {}, bearer(admin)).status, 503);
    EXPECT_NE(service->users().find("bob"), nullptr);
    EXPECT_EQ(request("PUT", "/users/bob/password", R"({"password":"bob password 2"})", bearer(admin)).status, 503);
    store.fail = false;
    EXPECT_EQ(login("bob", "bob password").status, 200);
}

TEST_F(AuthEndpointTest, ConfigPasswordAndHash)
{
    start("a fine admin password");
    EXPECT_EQ(bootstrap.source, AdminSource::ConfigPassword);
    EXPECT_TRUE(bootstrap.password().empty());
    EXPECT_EQ(login("admin", "a fine admin password").status, 200);
}

TEST_F(AuthEndpointTest, ConfigHashFromAnotherTool)
{
    // argon2-cffi: hash_secret(b"hunter22", b"saltsalt", t=1, m=64, p=2, hash_len=16, Type.ID)
    start({}, "$argon2id$v=19$m=64,t=1,p=2$c2FsdHNhbHQ$glxEmfdi1wGn5YVpelrtmg");
    EXPECT_EQ(bootstrap.source, AdminSource::ConfigHash);
    EXPECT_EQ(login("admin", "hunter22").status, 200);
    EXPECT_EQ(login("admin", "hunter23").status, 401);
}

TEST(AuthBootstrap, RejectsBadConfigValues)
{
    MallocAllocator allocator;
    FakeEntropy entropy;
    crypto::Csprng random(entropy);
    MUST(random.seed());
    FakeClock clock;
    SynchronousKdfExecutor executor(allocator);
    AuthConfig config;
    config.kdf = fast_kdf;
    auto* service = MUST(AuthService::create(allocator, clock, random, executor, config));
    http::Router router;
    EXPECT_TRUE(service->register_routes(router).is_error()) << "routes before bootstrap()";
    EXPECT_EQ(service->authenticate("Bearer a.b.c", {}).kind, http::AuthResult::Kind::Invalid);
    auto weak = service->bootstrap("admin", {});
    ASSERT_TRUE(weak.is_error());
    EXPECT_STREQ(weak.error().reason(), "admin_password does not meet the password policy (8..256 characters, not \"admin\")");
    auto bad_hash = service->bootstrap({}, "$2b$10$bcrypt.is.not.supported");
    ASSERT_TRUE(bad_hash.is_error());
    EXPECT_STREQ(bad_hash.error().reason(), "admin_password_hash is not a valid $argon2id$v=19$ PHC string");
    EXPECT_TRUE(service->users().empty());
    auto generated = service->bootstrap({}, {});
    ASSERT_FALSE(generated.is_error());
    EXPECT_EQ(generated.value().source, AdminSource::Generated);
    EXPECT_TRUE(MUST(verify_password(allocator, generated.value().password(), service->users().find("admin")->hash)));
    allocator.destroy(service);
    EXPECT_EQ(allocator.live_allocations(), 0);

    // An unseeded generator: creation fails cleanly.
    crypto::Csprng unseeded(entropy);
    EXPECT_TRUE(AuthService::create(allocator, clock, unseeded, executor, config).is_error());
    EXPECT_EQ(allocator.live_allocations(), 0);
}
