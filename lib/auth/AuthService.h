#pragma once

// Users, sessions and login for aiSOS: the http::Authenticator the server
// consults on every request, and the /auth, /users and /sys/audit routes of
// API.md.
//
// Kernel wiring (once, at boot, on the CPU that will run the network core):
//
//   auto* auth = MUST(AuthService::create(heap, wall_clock, csprng, kdf_executor, config));
//   auth->set_store(&store);                 // persistence (optional until /fs exists)
//   if (users file exists)  TRY(auth->load_users(bytes));      // each optional; errors
//   if (key file exists)    TRY(auth->load_jwt_key(bytes));    // mean a corrupt file
//   if (audit file exists)  TRY(auth->load_audit_log(bytes));
//   auto boot = TRY(auth->bootstrap(cfg.admin_password.view(), cfg.admin_password_hash.view()));
//   if (boot.source == AdminSource::Generated) print boot.password() once;
//   TRY(auth->register_routes(router));
//   server.set_authenticator(auth);
//   every few seconds, and before reboot/power-off:  (void)auth->flush();  // audit log
//
// Everything but KdfJob::run() happens on the network core (not thread-safe).
// Argon2id work goes to the KdfExecutor; at most max_kdf_jobs are in flight
// (more logins answer 503 with Retry-After: 1).

#include "lib/auth/AuditLog.h"
#include "lib/auth/Clock.h"
#include "lib/auth/Jwt.h"
#include "lib/auth/KdfExecutor.h"
#include "lib/auth/LoginRateLimiter.h"
#include "lib/auth/SessionTable.h"
#include "lib/auth/UserDatabase.h"
#include "lib/base/Allocator.h"
#include "lib/base/ErrorOr.h"
#include "lib/net/http/Authenticator.h"
#include "lib/net/http/HttpRequest.h"
#include "lib/net/http/Router.h"

#include <optional>
#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::crypto {
class Csprng;
}

namespace aisos::auth {

struct AuthConfig {
    crypto::Argon2Params kdf {}; // for new hashes; stored hashes keep theirs
    uint64_t session_lifetime_seconds { 12 * 60 * 60 };
    size_t max_sessions_per_user { 8 };
    uint64_t token_leeway_seconds { 60 };
    RateLimitPolicy per_name_limit {};
    RateLimitPolicy per_address_limit { .free_failures = 20 };
};

// What the service persists, each as one file in /fs/system.
enum class AuthFile : uint8_t {
    Users,    // /fs/system/users      (UserDatabase format)
    JwtKey,   // /fs/system/jwt.key    (JwtKey format)
    AuditLog, // /fs/system/audit.log  (AuditLog format)
};

class AuthStore {
public:
    // The complete new contents of `file` after a change. Must replace the
    // file atomically and durably before returning success (an HTTP 2xx
    // follows). For Users a failure undoes the change and answers 503.
    virtual ErrorOr<void> save(AuthFile file, std::span<const uint8_t> contents) = 0;

protected:
    ~AuthStore() = default;
};

enum class AdminSource : uint8_t {
    Existing,       // a users file was loaded
    ConfigPassword, // aisos.cfg admin_password
    ConfigHash,     // aisos.cfg admin_password_hash
    Generated,      // neither: password() must be shown once
};

struct BootstrapResult {
    static constexpr size_t generated_length = 20; // ~116 bits from 56 symbols
    AdminSource source { AdminSource::Existing };
    char generated[generated_length + 1] {};
    std::string_view password() const { return source == AdminSource::Generated ? std::string_view(generated, generated_length) : std::string_view {}; }
};

// What a request offers as credentials.
struct OfferedToken {
    enum class Kind : uint8_t { None, Malformed, Token } kind { Kind::None };
    std::string_view token;
    std::string_view protocol; // the Sec-WebSocket-Protocol item to echo, when it came from there
};

class AuthService final : public http::Authenticator {
public:
    static constexpr size_t max_kdf_jobs = 4;
    static constexpr uint64_t max_body_size = 4096;
    static constexpr std::string_view admin_name = "admin";

    static ErrorOr<AuthService*> create(Allocator&, Clock&, crypto::Csprng&, KdfExecutor&, const AuthConfig& = {});
    // Destroy with allocator.destroy(service) only when no KDF job is still running.
    ~AuthService();

    ErrorOr<void> load_users(std::span<const uint8_t> file);
    ErrorOr<void> load_jwt_key(std::span<const uint8_t> file);
    ErrorOr<void> load_audit_log(std::span<const uint8_t> file);
    // Creates the JWT key when none was loaded and, when there are no users,
    // the admin account from the config password (must pass the password
    // policy), the config PHC hash (must parse), or else a generated
    // password. The KDF runs synchronously here (boot). Errors name the bad
    // config value; the kernel may then call again with both empty.
    ErrorOr<BootstrapResult> bootstrap(std::string_view config_password, std::string_view config_password_hash);

    void set_store(AuthStore* store) { m_store = store; }
    ErrorOr<void> register_routes(http::Router&);

    // http::Authenticator
    http::AuthResult authenticate(std::string_view authorization, std::string_view websocket_protocol) override;

    // Adds an audit entry (also for other subsystems, e.g. package installs).
    // Repeated login_throttled entries for the same name and address are
    // coalesced, so a client hammering a locked account cannot flush the log.
    // The log is not written at once (a failed login must not cost a disk
    // write): flush() saves it when it changed.
    void audit(AuditEvent, std::string_view actor, std::string_view subject, uint32_t ipv4);
    // Saves the audit log through the store if it changed since the last
    // flush. The kernel calls it periodically (e.g. every few seconds) and
    // before a reboot or power-off.
    ErrorOr<void> flush();
    bool audit_dirty() const { return m_audit_dirty; }

    const UserDatabase& users() const { return m_users; }
    const SessionTable& sessions() const { return m_sessions; }
    const AuditLog& audit_log() const { return m_audit; }
    const AuthConfig& config() const { return m_config; }

    // --- used by the route handlers (AuthRoutes.cpp) ---
    uint64_t now() { return m_clock.now_unix_seconds(); }
    // The token of a request (Authorization: Bearer, else Sec-WebSocket-Protocol bearer.<token>).
    static std::optional<std::string_view> request_token(const http::HttpRequest&);
    static OfferedToken offered_token(std::string_view authorization, std::string_view websocket_protocol);
    // Signature, claims and a live session.
    ErrorOr<JwtClaims> verify_token(std::string_view token);
    ErrorOr<void> persist(AuthFile);
    KdfJob* acquire_job();
    void release_job(KdfJob*);
    KdfExecutor& executor() { return m_executor; }
    crypto::Csprng& random() { return m_random; }
    Allocator& allocator() { return m_allocator; }
    UserDatabase& mutable_users() { return m_users; }
    SessionTable& mutable_sessions() { return m_sessions; }
    LoginRateLimiter& limiter() { return m_limiter; }
    const PasswordHash& dummy_hash() const { return m_dummy_hash; }
    const JwtKey& jwt_key() const { return m_key; }

    struct Routes;

private:
    AuthService(Allocator&, Clock&, crypto::Csprng&, KdfExecutor&, const AuthConfig&);

    Allocator& m_allocator;
    Clock& m_clock;
    crypto::Csprng& m_random;
    KdfExecutor& m_executor;
    AuthConfig m_config;
    AuthStore* m_store { nullptr };
    JwtKey m_key;
    bool m_have_key { false };
    UserDatabase m_users;
    SessionTable m_sessions;
    LoginRateLimiter m_limiter;
    AuditLog m_audit;
    bool m_audit_dirty { false };
    // Looked up for unknown names, so a login costs the same whether or not the user exists.
    PasswordHash m_dummy_hash;
    KdfJob m_jobs[max_kdf_jobs];
    bool m_job_taken[max_kdf_jobs] {};
    bool m_job_abandoned[max_kdf_jobs] {};
    Routes* m_routes { nullptr };
};

} // namespace aisos::auth
