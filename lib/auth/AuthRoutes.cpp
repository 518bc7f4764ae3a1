// The HTTP endpoints of API.md §Auth and users, plus GET /sys/audit.
#include "lib/auth/AuthService.h"
#include "lib/auth/StrictJson.h"
#include "lib/base/Format.h"
#include "lib/crypto/ConstantTime.h"
#include "lib/crypto/Csprng.h"
#include "lib/json/JsonDocument.h"
#include "lib/json/JsonWriter.h"
#include "lib/net/http/HttpHandler.h"

namespace aisos::auth {

using http::HttpHandler;
using http::HttpHandlerFactory;
using http::HttpMethod;
using http::HttpRequest;
using http::HttpResponse;
using http::Role;

namespace {

constexpr std::string_view json_type = "application/json";

// Collects a small body (the route's limit is max_body_size; the buffer
// matches it) and hands it to handle() once complete.
class BodyHandler : public HttpHandler {
public:
    explicit BodyHandler(AuthService& service)
        : m_service(service)
    {
    }
    ~BodyHandler() override { crypto::secure_zero(m_body, sizeof(m_body)); } // may hold a password

    size_t on_body(std::span<const uint8_t> piece, HttpResponse&) override
    {
        if (piece.size() > sizeof(m_body) - m_length) {
            m_overflow = true;
            return piece.size();
        }
        __builtin_memcpy(m_body + m_length, piece.data(), piece.size());
        m_length += piece.size();
        return piece.size();
    }
    void on_body_end(const HttpRequest& request, HttpResponse& response) override
    {
        if (m_overflow) {
            response.send_error(413, "request body too large");
            return;
        }
        handle(request, { m_body, m_length }, response);
        if (!response.started() && !waiting())
            response.send_error(500, "handler produced no response");
    }

protected:
    virtual void handle(const HttpRequest&, std::string_view body, HttpResponse&) = 0;
    virtual bool waiting() const { return false; }

    // The body as a JSON object with only `allowed` members, each at most once.
    ErrorOr<json::JsonDocument> parse_object(std::string_view body, std::span<const std::string_view> allowed)
    {
        json::JsonLimits limits;
        limits.max_size = AuthService::max_body_size;
        limits.max_depth = 2;
        limits.max_values = 16;
        limits.max_string_length = 1024;
        auto document = json::JsonDocument::parse(m_service.allocator(), body, limits);
        if (document.is_error())
            return document.error().code() == ErrorCode::OutOfMemory ? document.error() : Error::invalid("request body is not valid JSON");
        TRY(check_object_members(document.value().root(), allowed));
        return document;
    }

    static void send_json_error(HttpResponse& response, const Error& error)
    {
        if (error.code() == ErrorCode::OutOfMemory)
            response.send_error(503, "out of memory");
        else
            response.send_error(400, error.reason());
    }

    AuthService& m_service;

private:
    char m_body[AuthService::max_body_size];
    size_t m_length { 0 };
    bool m_overflow { false };
};

// A handler that runs Argon2id through the KdfExecutor and finishes in on_poll().
class KdfHandler : public BodyHandler {
public:
    using BodyHandler::BodyHandler;
    ~KdfHandler() override { m_service.release_job(m_job); }

    void on_poll(const HttpRequest& request, HttpResponse& response) override { poll_job(request, response); }

protected:
    bool waiting() const override { return m_job != nullptr; }

    // Takes a KDF slot; when all are busy answers 503 and returns false.
    bool reserve_kdf(HttpResponse& response)
    {
        if (!m_job)
            m_job = m_service.acquire_job();
        if (!m_job) {
            (void)response.header("Retry-After", "1");
            response.send_error(503, "password hashing busy, retry shortly");
            return false;
        }
        return true;
    }

    // Starts the job (reserving a slot if needed); on failure answers 503 and returns false.
    bool start_kdf(std::string_view password, std::span<const uint8_t> salt, const crypto::Argon2Params& params, size_t tag_length, HttpResponse& response)
    {
        if (!reserve_kdf(response))
            return false;
        auto prepared = m_job->prepare(password, salt, params, tag_length);
        if (!prepared.is_error())
            prepared = m_service.executor().submit(*m_job);
        if (prepared.is_error()) {
            m_job->clear();
            m_service.release_job(m_job);
            m_job = nullptr;
            (void)response.header("Retry-After", "1");
            response.send_error(503, "password hashing busy, retry shortly");
            return false;
        }
        return true;
    }

    void poll_job(const HttpRequest& request, HttpResponse& response)
    {
        if (!m_job || response.started())
            return;
        auto state = m_job->state();
        if (state == KdfJob::State::Pending || state == KdfJob::State::Idle)
            return;
        if (state == KdfJob::State::Failed) {
            m_service.release_job(m_job);
            m_job = nullptr;
            response.send_error(503, "password hashing failed (out of memory?)");
            return;
        }
        kdf_done(request, *m_job, response);
        m_service.release_job(m_job);
        m_job = nullptr;
        if (!response.started())
            response.send_error(500, "handler produced no response");
    }

    virtual void kdf_done(const HttpRequest&, const KdfJob&, HttpResponse&) = 0;

private:
    KdfJob* m_job { nullptr };
};

// POST /auth/login {"user","password"}
class LoginHandler final : public KdfHandler {
public:
    using KdfHandler::KdfHandler;

protected:
    void handle(const HttpRequest& request, std::string_view body, HttpResponse& response) override
    {
        static constexpr std::string_view members[] = { "user", "password" };
        auto document = parse_object(body, members);
        if (document.is_error())
            return send_json_error(response, document.error());
        auto root = document.value().root();
        auto user = root.get("user").as_string();
        auto password = root.get("password").as_string();
        if (!user.has_value() || !password.has_value())
            return response.send_error(400, "expected {\"user\": string, \"password\": string}");

        // Names that cannot exist are throttled under one shared key.
        if (!validate_user_name(user.value()).is_error()) {
            m_name = MUST(UserName::create(user.value()));
            m_valid_name = true;
        }
        auto name = m_valid_name ? m_name.view() : user.value();
        uint32_t address = request.client.ipv4;
        uint64_t now = m_service.now();
        uint64_t wait = m_service.limiter().retry_after(address, name, now);
        if (wait > 0) {
            m_service.audit(AuditEvent::LoginThrottled, {}, m_valid_name ? m_name.view() : std::string_view("?"), address);
            char text[24];
            (void)response.header("Retry-After", format_to(text, sizeof(text), "{}", wait));
            return response.send_error(429, "too many failed logins, retry later");
        }
        // Only attempts that will really be checked count (not those refused as busy).
        if (password.value().size() <= KdfJob::max_password && !reserve_kdf(response))
            return;
        m_service.limiter().begin_attempt(address, name, now);
        if (password.value().size() > KdfJob::max_password) {
            m_service.audit(AuditEvent::LoginFailed, {}, m_valid_name ? m_name.view() : std::string_view("?"), address);
            return response.send_error(401, "invalid user name or password");
        }
        // Unknown users cost the same hash as known ones (no timing oracle for names).
        const UserRecord* record = m_valid_name ? m_service.users().find(m_name.view()) : nullptr;
        const PasswordHash& hash = record ? record->hash : m_service.dummy_hash();
        if (start_kdf(password.value(), hash.salt_bytes(), hash.params, hash.hash_length, response))
            poll_job(request, response);
    }

    void kdf_done(const HttpRequest& request, const KdfJob& job, HttpResponse& response) override
    {
        uint32_t address = request.client.ipv4;
        // Looked up again: the user may have been deleted or changed meanwhile.
        const UserRecord* record = m_valid_name ? m_service.users().find(m_name.view()) : nullptr;
        bool match = record && crypto::constant_time_equal(job.salt(), record->hash.salt_bytes())
            && crypto::constant_time_equal(job.tag(), record->hash.hash_bytes());
        if (!match) {
            m_service.audit(AuditEvent::LoginFailed, {}, m_valid_name ? m_name.view() : std::string_view("?"), address);
            return response.send_error(401, "invalid user name or password");
        }
        uint64_t now = m_service.now();
        uint64_t lifetime = m_service.config().session_lifetime_seconds;
        auto session = m_service.mutable_sessions().create(record->name, record->role, now, lifetime, m_service.random());
        if (session.is_error())
            return response.send_error(503, "cannot create a session now");
        JwtClaims claims;
        claims.subject = record->name;
        claims.role = record->role;
        claims.issued_at = now;
        claims.not_before = now;
        claims.expires_at = session.value().expires_at;
        claims.id = session.value().id;
        char token_buffer[max_issued_jwt_size];
        auto token = sign_jwt(m_service.jwt_key(), claims, token_buffer);
        if (token.is_error()) {
            m_service.mutable_sessions().revoke(claims.id);
            return response.send_error(500, "cannot sign the token");
        }
        m_service.limiter().end_attempt_success(address, record->name.view(), now);
        m_service.audit(AuditEvent::LoginSucceeded, record->name.view(), record->name.view(), address);

        char text[max_issued_jwt_size + 128];
        BufferSink sink(text, sizeof(text));
        json::JsonWriter json(sink);
        json.begin_object();
        json.member("token", token.value());
        json.member("expires_in", lifetime);
        json.member("user", record->name.view());
        json.member("role", user_role_name(record->role));
        json.end_object();
        (void)response.header("Cache-Control", "no-store");
        response.send(200, json_type, sink.view());
    }

private:
    UserName m_name;
    bool m_valid_name { false };
};

// POST /users {"user","password","role"}
class CreateUserHandler final : public KdfHandler {
public:
    using KdfHandler::KdfHandler;

protected:
    void handle(const HttpRequest& request, std::string_view body, HttpResponse& response) override
    {
        static constexpr std::string_view members[] = { "user", "password", "role" };
        auto document = parse_object(body, members);
        if (document.is_error())
            return send_json_error(response, document.error());
        auto root = document.value().root();
        auto user = root.get("user").as_string();
        auto password = root.get("password").as_string();
        if (!user.has_value() || !password.has_value())
            return response.send_error(400, "expected {\"user\": string, \"password\": string, \"role\": \"admin\"|\"user\"}");
        auto name = UserName::create(user.value());
        if (name.is_error())
            return response.send_error(400, name.error().reason());
        m_name = name.value();
        auto role_value = root.get("role");
        if (!role_value.is_missing()) {
            auto role_text = role_value.as_string();
            auto role = role_text.has_value() ? parse_user_role(role_text.value()) : std::nullopt;
            if (!role.has_value())
                return response.send_error(400, "role must be \"admin\" or \"user\"");
            m_role = role.value();
        }
        auto valid = validate_password(password.value(), m_name.view());
        if (valid.is_error())
            return response.send_error(400, valid.error().reason());
        if (m_service.users().find(m_name.view()))
            return response.send_error(409, "user already exists");
        if (m_service.users().count() >= UserDatabase::max_users)
            return response.send_error(409, "user limit reached");
        uint8_t salt[PasswordHash::salt_size];
        if (m_service.random().fill(salt).is_error())
            return response.send_error(503, "random generator unavailable");
        if (start_kdf(password.value(), salt, m_service.config().kdf, PasswordHash::hash_size, response))
            poll_job(request, response);
    }

    void kdf_done(const HttpRequest& request, const KdfJob& job, HttpResponse& response) override
    {
        PasswordHash hash;
        hash.params = job.params();
        hash.salt_length = uint8_t(job.salt().size());
        __builtin_memcpy(hash.salt, job.salt().data(), job.salt().size());
        hash.hash_length = uint8_t(job.tag().size());
        __builtin_memcpy(hash.hash, job.tag().data(), job.tag().size());
        auto added = m_service.mutable_users().add(m_name, m_role, hash);
        if (added.is_error())
            return response.send_error(409, added.error().code() == ErrorCode::Exists ? "user already exists" : "user limit reached");
        if (m_service.persist(AuthFile::Users).is_error()) {
            (void)m_service.mutable_users().remove(m_name.view());
            return response.send_error(503, "could not save the users file");
        }
        m_service.audit(AuditEvent::UserCreated, request.identity.user_name(), m_name.view(), request.client.ipv4);
        char text[128];
        BufferSink sink(text, sizeof(text));
        json::JsonWriter json(sink);
        json.begin_object();
        json.member("user", m_name.view());
        json.member("role", user_role_name(m_role));
        json.end_object();
        response.send(201, json_type, sink.view());
    }

private:
    UserName m_name;
    UserRole m_role { UserRole::User };
};

// PUT /users/<name>/password {"password"}
class PasswordHandler final : public KdfHandler {
public:
    using KdfHandler::KdfHandler;

protected:
    void handle(const HttpRequest& request, std::string_view body, HttpResponse& response) override
    {
        auto target = request.parameter("name");
        bool is_self = request.identity.user_name() == target;
        if (request.identity.role != Role::Admin && !is_self)
            return response.send_error(403, "only an admin may change another user's password");
        if (validate_user_name(target).is_error() || !m_service.users().find(target))
            return response.send_error(404, "no such user");
        m_name = MUST(UserName::create(target));
        static constexpr std::string_view members[] = { "password" };
        auto document = parse_object(body, members);
        if (document.is_error())
            return send_json_error(response, document.error());
        auto password = document.value().root().get("password").as_string();
        if (!password.has_value())
            return response.send_error(400, "expected {\"password\": string}");
        auto valid = validate_password(password.value(), m_name.view());
        if (valid.is_error())
            return response.send_error(400, valid.error().reason());
        uint8_t salt[PasswordHash::salt_size];
        if (m_service.random().fill(salt).is_error())
            return response.send_error(503, "random generator unavailable");
        if (start_kdf(password.value(), salt, m_service.config().kdf, PasswordHash::hash_size, response))
            poll_job(request, response);
    }

    void kdf_done(const HttpRequest& request, const KdfJob& job, HttpResponse& response) override
    {
        const UserRecord* record = m_service.users().find(m_name.view());
        if (!record)
            return response.send_error(404, "no such user");
        PasswordHash old_hash = record->hash;
        PasswordHash hash;
        hash.params = job.params();
        hash.salt_length = uint8_t(job.salt().size());
        __builtin_memcpy(hash.salt, job.salt().data(), job.salt().size());
        hash.hash_length = uint8_t(job.tag().size());
        __builtin_memcpy(hash.hash, job.tag().data(), job.tag().size());
        MUST(m_service.mutable_users().set_password(m_name.view(), hash));
        if (m_service.persist(AuthFile::Users).is_error()) {
            MUST(m_service.mutable_users().set_password(m_name.view(), old_hash));
            return response.send_error(503, "could not save the users file");
        }
        // Other sessions of the user end; the caller's own stays when it is the user's.
        std::optional<SessionId> keep;
        if (request.identity.user_name() == m_name.view()) {
            auto token = AuthService::request_token(request);
            if (token.has_value()) {
                auto claims = m_service.verify_token(token.value());
                if (!claims.is_error())
                    keep = claims.value().id;
            }
        }
        m_service.mutable_sessions().revoke_user(m_name.view(), keep.has_value() ? &keep.value() : nullptr);
        m_service.audit(AuditEvent::PasswordChanged, request.identity.user_name(), m_name.view(), request.client.ipv4);
        response.send_empty(204);
    }

private:
    UserName m_name;
};

// POST /auth/logout
class LogoutHandler final : public BodyHandler {
public:
    using BodyHandler::BodyHandler;

protected:
    void handle(const HttpRequest& request, std::string_view, HttpResponse& response) override
    {
        auto token = AuthService::request_token(request);
        auto claims = token.has_value() ? m_service.verify_token(token.value()) : ErrorOr<JwtClaims>(Error::invalid("no token"));
        if (claims.is_error()) {
            (void)response.header("WWW-Authenticate", "Bearer");
            return response.send_error(401, "invalid token");
        }
        m_service.mutable_sessions().revoke(claims.value().id);
        m_service.audit(AuditEvent::Logout, claims.value().subject.view(), claims.value().subject.view(), request.client.ipv4);
        response.send_empty(204);
    }
};

// GET /auth/me
class MeHandler final : public BodyHandler {
public:
    using BodyHandler::BodyHandler;

protected:
    void handle(const HttpRequest& request, std::string_view, HttpResponse& response) override
    {
        auto token = AuthService::request_token(request);
        auto claims = token.has_value() ? m_service.verify_token(token.value()) : ErrorOr<JwtClaims>(Error::invalid("no token"));
        if (claims.is_error()) {
            (void)response.header("WWW-Authenticate", "Bearer");
            return response.send_error(401, "invalid token");
        }
        char text[160];
        BufferSink sink(text, sizeof(text));
        json::JsonWriter json(sink);
        json.begin_object();
        json.member("user", claims.value().subject.view());
        json.member("role", user_role_name(claims.value().role));
        json.member("expires_at", claims.value().expires_at);
        json.end_object();
        response.send(200, json_type, sink.view());
    }
};

// GET /users
class ListUsersHandler final : public BodyHandler {
public:
    using BodyHandler::BodyHandler;

protected:
    void handle(const HttpRequest&, std::string_view, HttpResponse& response) override
    {
        auto& buffer = response.body_buffer();
        json::JsonWriter json(buffer);
        json.begin_array();
        for (const auto& user : m_service.users().users()) {
            json.begin_object();
            json.member("user", user.name.view());
            json.member("role", user_role_name(user.role));
            json.end_object();
        }
        json.end_array();
        response.send_buffer(200, json_type);
    }
};

// DELETE /users/<name>
class DeleteUserHandler final : public BodyHandler {
public:
    using BodyHandler::BodyHandler;

protected:
    void handle(const HttpRequest& request, std::string_view, HttpResponse& response) override
    {
        auto target = request.parameter("name");
        const UserRecord* record = validate_user_name(target).is_error() ? nullptr : m_service.users().find(target);
        if (!record)
            return response.send_error(404, "no such user");
        UserRecord removed = *record;
        auto result = m_service.mutable_users().remove(target);
        if (result.is_error())
            return response.send_error(409, result.error().reason());
        if (m_service.persist(AuthFile::Users).is_error()) {
            (void)m_service.mutable_users().add(removed.name, removed.role, removed.hash);
            return response.send_error(503, "could not save the users file");
        }
        m_service.mutable_sessions().revoke_user(removed.name.view());
        m_service.audit(AuditEvent::UserDeleted, request.identity.user_name(), removed.name.view(), request.client.ipv4);
        response.send_empty(204);
    }
};

// GET /sys/audit
class AuditHandler final : public BodyHandler {
public:
    using BodyHandler::BodyHandler;

protected:
    void handle(const HttpRequest&, std::string_view, HttpResponse& response) override
    {
        m_service.audit_log().render_text(response.body_buffer());
        response.send_buffer(200, "text/plain; charset=utf-8");
    }
};

template<typename Handler>
class Factory final : public HttpHandlerFactory {
public:
    explicit Factory(AuthService& service)
        : m_service(service)
    {
    }
    ErrorOr<HttpHandler*> create(Allocator& allocator, const HttpRequest&) override { return TRY(allocator.create<Handler>(m_service)); }

private:
    AuthService& m_service;
};

} // namespace

struct AuthService::Routes {
    explicit Routes(AuthService& service)
        : login(service)
        , logout(service)
        , me(service)
        , list_users(service)
        , create_user(service)
        , delete_user(service)
        , password(service)
        , audit(service)
    {
    }
    Factory<LoginHandler> login;
    Factory<LogoutHandler> logout;
    Factory<MeHandler> me;
    Factory<ListUsersHandler> list_users;
    Factory<CreateUserHandler> create_user;
    Factory<DeleteUserHandler> delete_user;
    Factory<PasswordHandler> password;
    Factory<AuditHandler> audit;
};

ErrorOr<AuthService::Routes*> create_auth_routes(Allocator& allocator, AuthService& service)
{
    return TRY(allocator.create<AuthService::Routes>(service));
}

void destroy_auth_routes(Allocator& allocator, AuthService::Routes* routes)
{
    allocator.destroy(routes);
}

ErrorOr<void> add_auth_routes(AuthService::Routes& routes, http::Router& router)
{
    constexpr uint64_t body = AuthService::max_body_size;
    TRY(router.add(HttpMethod::Post, "/auth/login", routes.login, { .role = Role::Public, .body_limit = body }));
    TRY(router.add(HttpMethod::Post, "/auth/logout", routes.logout, { .role = Role::User, .body_limit = body }));
    TRY(router.add(HttpMethod::Get, "/auth/me", routes.me, { .role = Role::User }));
    TRY(router.add(HttpMethod::Get, "/users", routes.list_users, { .role = Role::Admin }));
    TRY(router.add(HttpMethod::Post, "/users", routes.create_user, { .role = Role::Admin, .body_limit = body }));
    TRY(router.add(HttpMethod::Delete, "/users/:name", routes.delete_user, { .role = Role::Admin }));
    // Admin or the user themself: checked in the handler.
    TRY(router.add(HttpMethod::Put, "/users/:name/password", routes.password, { .role = Role::User, .body_limit = body }));
    TRY(router.add(HttpMethod::Get, "/sys/audit", routes.audit, { .role = Role::Admin }));
    return {};
}

} // namespace aisos::auth
