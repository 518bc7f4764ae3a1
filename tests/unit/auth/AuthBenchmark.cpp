// Not a test: prints how long the auth primitives take on this machine, so
// the KDF parameters and the network core's budget can be judged.
//
//   build/auth-release/bin/auth_benchmark
//
// Times are thread CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time.
// Figures: Argon2id with the OWASP defaults (m=19 MiB, t=2, p=1), SHA-256
// and ChaCha20 (CSPRNG) throughput, JWT verification and a full
// authenticate() (signature + claims + session lookup) per second.
#include "TestHelpers.h"
#include "host/MallocAllocator.h"
#include "lib/auth/AuthService.h"
#include "lib/crypto/Argon2id.h"
#include "lib/crypto/Csprng.h"
#include "lib/crypto/Sha256.h"

#include <ctime>
#include <cstdio>
#include <vector>

using namespace aisos;
using namespace aisos::auth;
using namespace aisos::auth::test;

namespace {

// CPU time of this thread: the machine may be shared, and wall time would
// then measure the other load as much as this code.
struct CpuClock {
    using time_point = double;
    static double now()
    {
        timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
    }
};

double seconds_since(double start)
{
    return CpuClock::now() - start;
}

} // namespace

int main()
{
    MallocAllocator allocator;
    std::vector<uint8_t> salt(16, 's');
    uint8_t tag[32];
    crypto::Argon2Params defaults;
    int runs = 5;
    auto start = CpuClock::now();
    for (int i = 0; i < runs; ++i)
        MUST(crypto::argon2id(allocator, defaults, { as_bytes("correct horse battery staple"), salt }, tag));
    printf("argon2id m=%u KiB t=%u p=%u: %.1f ms per hash\n", defaults.memory_kib, defaults.iterations, defaults.parallelism, seconds_since(start) * 1000 / runs);

    std::vector<uint8_t> data(64 * 1024 * 1024, 0x5a);
    start = CpuClock::now();
    auto digest = crypto::Sha256::hash(data);
    printf("sha256: %.0f MB/s (digest byte %02x)\n", data.size() / seconds_since(start) / 1e6, digest[0]);

    FakeEntropy entropy;
    crypto::Csprng random(entropy);
    MUST(random.seed());
    start = CpuClock::now();
    MUST(random.fill(data));
    printf("csprng (chacha20, fast key erasure): %.0f MB/s\n", data.size() / seconds_since(start) / 1e6);

    FakeClock clock;
    SynchronousKdfExecutor executor(allocator);
    AuthConfig config;
    config.kdf = { .memory_kib = 64, .iterations = 1, .parallelism = 1 };
    auto* service = MUST(AuthService::create(allocator, clock, random, executor, config));
    MUST(service->bootstrap("benchmark password", {}));
    // Fill the session table as a busy server would, then time the lookups.
    SessionTable& sessions = service->mutable_sessions();
    Session last;
    for (size_t i = 0; i < SessionTable::max_sessions; ++i) {
        auto name = MUST(UserName::create(i % 2 ? "admin" : "user"));
        last = MUST(sessions.create(name, UserRole::Admin, clock.now, 3600, random));
    }
    (void)last;
    auto session = MUST(sessions.create(MUST(UserName::create("admin")), UserRole::Admin, clock.now, 3600, random));
    JwtClaims claims;
    claims.subject = session.user;
    claims.role = session.role;
    claims.issued_at = claims.not_before = clock.now;
    claims.expires_at = session.expires_at;
    claims.id = session.id;
    char buffer[max_issued_jwt_size];
    auto token = MUST(sign_jwt(service->jwt_key(), claims, buffer));
    int verifications = 20000;
    start = CpuClock::now();
    for (int i = 0; i < verifications; ++i)
        MUST(verify_jwt(allocator, service->jwt_key(), token, clock.now));
    printf("verify_jwt: %.0f per second\n", verifications / seconds_since(start));
    char header[600];
    snprintf(header, sizeof(header), "Bearer %.*s", int(token.size()), token.data());
    start = CpuClock::now();
    for (int i = 0; i < verifications; ++i) {
        if (service->authenticate(header, {}).kind != http::AuthResult::Kind::User)
            return 1;
    }
    printf("authenticate (jwt + %zu-entry session table): %.0f per second\n", SessionTable::max_sessions, verifications / seconds_since(start));
    allocator.destroy(service);
    return 0;
}
