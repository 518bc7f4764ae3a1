#include "lib/auth/AuthService.h"
#include "lib/crypto/ConstantTime.h"
#include "lib/crypto/Csprng.h"
#include "lib/json/GrowableBuffer.h"

namespace aisos::auth {

// Defined with the handlers in AuthRoutes.cpp.
ErrorOr<AuthService::Routes*> create_auth_routes(Allocator&, AuthService&);
void destroy_auth_routes(Allocator&, AuthService::Routes*);
ErrorOr<void> add_auth_routes(AuthService::Routes&, http::Router&);

AuthService::AuthService(Allocator& allocator, Clock& clock, crypto::Csprng& random, KdfExecutor& executor, const AuthConfig& config)
    : m_allocator(allocator)
    , m_clock(clock)
    , m_random(random)
    , m_executor(executor)
    , m_config(config)
    , m_sessions(config.max_sessions_per_user)
    , m_limiter(config.per_name_limit, config.per_address_limit)
{
}

AuthService::~AuthService()
{
    destroy_auth_routes(m_allocator, m_routes);
}

ErrorOr<AuthService*> AuthService::create(Allocator& allocator, Clock& clock, crypto::Csprng& random, KdfExecutor& executor, const AuthConfig& config)
{
    TRY(config.kdf.validate());
    if (config.session_lifetime_seconds == 0)
        return Error::invalid("session lifetime must be positive");
    void* memory = TRY(allocator.allocate(sizeof(AuthService), alignof(AuthService) < 16 ? 16 : alignof(AuthService)));
    auto* service = new (memory) AuthService(allocator, clock, random, executor, config);
    auto routes = create_auth_routes(allocator, *service);
    if (routes.is_error()) {
        allocator.destroy(service);
        return routes.error();
    }
    service->m_routes = routes.value();
    // The dummy hash needs only a random salt: its tag is never matched.
    service->m_dummy_hash.params = config.kdf;
    service->m_dummy_hash.salt_length = PasswordHash::salt_size;
    service->m_dummy_hash.hash_length = PasswordHash::hash_size;
    auto salt = random.fill({ service->m_dummy_hash.salt, PasswordHash::salt_size });
    if (salt.is_error()) {
        allocator.destroy(service);
        return salt.error();
    }
    return service;
}

ErrorOr<void> AuthService::load_users(std::span<const uint8_t> file)
{
    return UserDatabase::parse(file, m_users);
}

ErrorOr<void> AuthService::load_jwt_key(std::span<const uint8_t> file)
{
    m_key = TRY(JwtKey::parse(file));
    m_have_key = true;
    return {};
}

ErrorOr<void> AuthService::load_audit_log(std::span<const uint8_t> file)
{
    return AuditLog::parse(file, m_audit);
}

ErrorOr<BootstrapResult> AuthService::bootstrap(std::string_view config_password, std::string_view config_password_hash)
{
    if (!m_have_key) {
        m_key = TRY(JwtKey::generate(m_random));
        m_have_key = true;
        TRY(persist(AuthFile::JwtKey));
    }
    BootstrapResult result;
    if (!m_users.empty())
        return result;

    auto name = MUST(UserName::create(admin_name));
    PasswordHash hash;
    if (!config_password_hash.empty()) {
        auto parsed = PasswordHash::parse(config_password_hash);
        if (parsed.is_error())
            return Error::invalid("admin_password_hash is not a valid $argon2id$v=19$ PHC string");
        hash = parsed.value();
        result.source = AdminSource::ConfigHash;
    } else {
        std::string_view password = config_password;
        if (!password.empty()) {
            auto valid = validate_password(password, admin_name);
            if (valid.is_error())
                return Error::invalid("admin_password does not meet the password policy (8..256 characters, not \"admin\")");
            result.source = AdminSource::ConfigPassword;
        } else {
            // Unambiguous symbols (no 0/O, 1/l/I): easy to copy from a console.
            static constexpr char alphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
            for (size_t i = 0; i < BootstrapResult::generated_length; ++i)
                result.generated[i] = alphabet[TRY(m_random.uniform(sizeof(alphabet) - 1))];
            password = { result.generated, BootstrapResult::generated_length };
            result.source = AdminSource::Generated;
        }
        uint8_t salt[PasswordHash::salt_size];
        TRY(m_random.fill(salt));
        hash = TRY(hash_password(m_allocator, password, salt, m_config.kdf));
    }
    TRY(m_users.add(name, UserRole::Admin, hash));
    auto saved = persist(AuthFile::Users);
    if (saved.is_error()) {
        (void)m_users.remove(admin_name);
        return saved.error();
    }
    audit(AuditEvent::AdminBootstrapped, {}, admin_name, 0);
    return result;
}

ErrorOr<void> AuthService::register_routes(http::Router& router)
{
    // Without a key, tokens could not be signed safely: bootstrap() comes first.
    if (!m_have_key)
        return Error { ErrorCode::Busy, "auth: call bootstrap() before register_routes()" };
    return add_auth_routes(*m_routes, router);
}

OfferedToken AuthService::offered_token(std::string_view authorization, std::string_view websocket_protocol)
{
    OfferedToken offered;
    if (!authorization.empty()) {
        // "Bearer <token>"; the scheme is case-insensitive (RFC 9110 §11.1).
        static constexpr std::string_view bearer = "bearer ";
        offered.kind = OfferedToken::Kind::Malformed;
        if (authorization.size() <= bearer.size())
            return offered;
        for (size_t i = 0; i < bearer.size(); ++i) {
            char c = authorization[i];
            if (c >= 'A' && c <= 'Z')
                c = char(c - 'A' + 'a');
            if (c != bearer[i])
                return offered;
        }
        auto token = authorization.substr(bearer.size());
        while (!token.empty() && token.front() == ' ')
            token.remove_prefix(1);
        if (token.empty())
            return offered;
        offered.kind = OfferedToken::Kind::Token;
        offered.token = token;
        return offered;
    }
    // Sec-WebSocket-Protocol is a comma-separated list (RFC 6455 §11.3.4);
    // ours is "bearer.<token>", other protocols are left alone.
    auto list = websocket_protocol;
    while (!list.empty()) {
        size_t comma = list.find(',');
        auto item = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view {} : list.substr(comma + 1);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
            item.remove_suffix(1);
        if (!item.starts_with("bearer."))
            continue;
        if (item.size() == 7) {
            offered.kind = OfferedToken::Kind::Malformed;
            return offered;
        }
        offered.kind = OfferedToken::Kind::Token;
        offered.token = item.substr(7);
        offered.protocol = item;
        return offered;
    }
    return offered;
}

std::optional<std::string_view> AuthService::request_token(const http::HttpRequest& request)
{
    auto offered = offered_token(request.header("authorization").value_or(std::string_view {}), request.header("sec-websocket-protocol").value_or(std::string_view {}));
    if (offered.kind != OfferedToken::Kind::Token)
        return std::nullopt;
    return offered.token;
}

ErrorOr<JwtClaims> AuthService::verify_token(std::string_view token)
{
    if (!m_have_key)
        return Error { ErrorCode::Busy, "auth service not bootstrapped" };
    uint64_t now = m_clock.now_unix_seconds();
    JwtVerifyOptions options;
    options.leeway_seconds = m_config.token_leeway_seconds;
    auto claims = TRY(verify_jwt(m_allocator, m_key, token, now, options));
    const Session* session = m_sessions.find(claims.id, now);
    if (!session || session->user != claims.subject)
        return Error { ErrorCode::PermissionDenied, "session ended" };
    // The session's role is authoritative (the token's is what it was at login).
    claims.role = session->role;
    return claims;
}

http::AuthResult AuthService::authenticate(std::string_view authorization, std::string_view websocket_protocol)
{
    using http::AuthResult;
    auto offered = offered_token(authorization, websocket_protocol);
    if (offered.kind == OfferedToken::Kind::None)
        return AuthResult::anonymous();
    if (offered.kind == OfferedToken::Kind::Malformed)
        return AuthResult::invalid();
    auto claims = verify_token(offered.token);
    if (claims.is_error())
        return AuthResult::invalid();
    auto result = AuthResult::user(claims.value().subject.view(), to_http_role(claims.value().role));
    result.websocket_protocol = offered.protocol;
    return result;
}

ErrorOr<void> AuthService::persist(AuthFile file)
{
    if (!m_store)
        return {};
    json::GrowableBuffer buffer(m_allocator, 4 * 1024 * 1024);
    switch (file) {
    case AuthFile::Users:
        TRY(m_users.serialize(buffer));
        break;
    case AuthFile::JwtKey:
        TRY(m_key.serialize(buffer));
        break;
    case AuthFile::AuditLog:
        TRY(m_audit.serialize(buffer));
        break;
    }
    auto result = m_store->save(file, buffer.bytes());
    if (file == AuthFile::JwtKey && buffer.size() > 0)
        crypto::secure_zero(buffer.data(), buffer.size());
    return result;
}

void AuthService::audit(AuditEvent event, std::string_view actor, std::string_view subject, uint32_t ipv4)
{
    if (event == AuditEvent::LoginThrottled && m_audit.size() > 0) {
        const auto& last = m_audit.at(m_audit.size() - 1);
        if (last.event == event && last.ipv4 == ipv4 && last.subject_view() == subject.substr(0, AuditEntry::max_text))
            return;
    }
    m_audit.record(m_clock.now_unix_seconds(), event, actor, subject, ipv4);
    m_audit_dirty = true;
}

ErrorOr<void> AuthService::flush()
{
    if (!m_audit_dirty)
        return {};
    TRY(persist(AuthFile::AuditLog));
    m_audit_dirty = false;
    return {};
}

KdfJob* AuthService::acquire_job()
{
    for (size_t i = 0; i < max_kdf_jobs; ++i) {
        if (m_job_taken[i] && m_job_abandoned[i]) {
            auto state = m_jobs[i].state();
            if (state == KdfJob::State::Done || state == KdfJob::State::Failed) {
                m_jobs[i].clear();
                m_job_taken[i] = false;
                m_job_abandoned[i] = false;
            }
        }
        if (!m_job_taken[i]) {
            m_job_taken[i] = true;
            return &m_jobs[i];
        }
    }
    return nullptr;
}

void AuthService::release_job(KdfJob* job)
{
    if (!job)
        return;
    size_t i = size_t(job - m_jobs);
    if (i >= max_kdf_jobs)
        return;
    if (job->state() == KdfJob::State::Pending) {
        // Still running on another CPU: reclaimed by acquire_job() once done.
        m_job_abandoned[i] = true;
        return;
    }
    job->clear();
    m_job_taken[i] = false;
}

} // namespace aisos::auth
