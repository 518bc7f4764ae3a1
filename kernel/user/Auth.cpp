#include "kernel/user/Auth.h"

#include "kernel/console/Log.h"
#include "kernel/cpu/Random.h"
#include "kernel/cpu/Rtc.h"
#include "kernel/cpu/WorkerPool.h"
#include "kernel/fs/Storage.h"
#include "kernel/lib/Spinlock.h"
#include "kernel/mm/Heap.h"
#include "kernel/mm/KernelAllocator.h"
#include "lib/auth/AuthService.h"
#include "kernel/cpu/HardwareEntropy.h"
#include "lib/crypto/Csprng.h"

namespace aisos::user {

namespace {

class WallClock final : public auth::Clock {
public:
    uint64_t now_unix_seconds() override { return rtc::unix_seconds(); }
};

// Password hashing on worker CPUs. The auth service keeps at most
// max_kdf_jobs in flight, so a fixed set of pool jobs is enough.
class WorkerKdfExecutor final : public auth::KdfExecutor {
public:
    ErrorOr<void> submit(auth::KdfJob& job) override
    {
        for (auto& slot : m_slots) {
            bool expected = false;
            if (!slot.in_use.compare_exchange_strong(expected, true))
                continue;
            slot.kdf = &job;
            slot.pool_job.function = run_slot;
            worker_pool::submit(slot.pool_job);
            return {};
        }
        return Error { ErrorCode::Busy, "all password-hashing slots are busy" };
    }

private:
    struct Slot {
        worker_pool::Job pool_job; // first member: the pool hands it back
        auth::KdfJob* kdf { nullptr };
        std::atomic<bool> in_use { false };
    };

    static void run_slot(worker_pool::Job& pool_job)
    {
        auto& slot = reinterpret_cast<Slot&>(pool_job);
        slot.kdf->run(KernelAllocator::the());
        slot.in_use.store(false, std::memory_order_release);
    }

    Slot m_slots[auth::AuthService::max_kdf_jobs];
};

// Users, the JWT key and the audit log live in /fs/system (not reachable
// through the /fs HTTP API).
class FileStore final : public auth::AuthStore {
public:
    ErrorOr<void> save(auth::AuthFile file, std::span<const uint8_t> contents) override
    {
        return storage::write_small_file(path(file), contents);
    }
    static std::string_view path(auth::AuthFile file)
    {
        switch (file) {
        case auth::AuthFile::Users: return "system/users";
        case auth::AuthFile::JwtKey: return "system/jwt.key";
        case auth::AuthFile::AuditLog: return "system/audit.log";
        }
        return "system/unknown";
    }
};

// Loads one state file if it exists; a missing file is normal at first boot.
template<typename Load>
ErrorOr<void> load_file(auth::AuthFile file, Load load)
{
    auto contents = storage::read_small_file(FileStore::path(file), 16 * 1024 * 1024);
    if (contents.is_error())
        return contents.error().code() == ErrorCode::NotFound ? ErrorOr<void> {} : ErrorOr<void> { contents.error() };
    auto result = load({ contents.value().data, contents.value().size });
    heap::free(contents.value().data);
    return result;
}

random::HardwareEntropy s_entropy;
FileStore s_store;
auth::AuthService* s_service = nullptr;
WallClock s_clock;
WorkerKdfExecutor s_executor;
alignas(crypto::Csprng) uint8_t s_csprng_storage[sizeof(crypto::Csprng)];

} // namespace

ErrorOr<http::Authenticator*> start(http::Router& router, const config::Config& config)
{
    auto* csprng = new (s_csprng_storage) crypto::Csprng(s_entropy);
    TRY(csprng->seed());
    auto* service = TRY(auth::AuthService::create(KernelAllocator::the(), s_clock, *csprng, s_executor));
    s_service = service;
    bool persistent = storage::file_system() != nullptr;
    if (persistent) {
        service->set_store(&s_store);
        // A corrupt state file stops the boot of the user system rather than
        // silently starting over with a new admin.
        TRY(load_file(auth::AuthFile::Users, [&](std::span<const uint8_t> bytes) { return service->load_users(bytes); }));
        TRY(load_file(auth::AuthFile::JwtKey, [&](std::span<const uint8_t> bytes) { return service->load_jwt_key(bytes); }));
        TRY(load_file(auth::AuthFile::AuditLog, [&](std::span<const uint8_t> bytes) { return service->load_audit_log(bytes); }));
    }
    auto bootstrap = service->bootstrap(config.admin_password.view(), config.admin_password_hash.view());
    if (bootstrap.is_error()) {
        log::error("users: the admin password from aisos.cfg is unusable ({}); generating one", bootstrap.error().reason());
        bootstrap = service->bootstrap({}, {});
    }
    auto result = TRY(std::move(bootstrap));
    switch (result.source) {
    case auth::AdminSource::Generated:
        // Shown once, at the boot that created the account.
        log::contract("admin user admin password {}", result.password());
        break;
    case auth::AdminSource::ConfigPassword:
        log::info("users: admin password from aisos.cfg");
        break;
    case auth::AdminSource::ConfigHash:
        log::info("users: admin password hash from aisos.cfg");
        break;
    case auth::AdminSource::Existing:
        log::info("users: {} accounts loaded from /fs/system/users", service->users().count());
        break;
    }
    if (!persistent)
        log::warn("users: no /fs: accounts are kept in memory only and do not survive a reboot");
    TRY(service->register_routes(router));
    return static_cast<http::Authenticator*>(service);
}

void poll(uint64_t now_ns)
{
    static uint64_t s_next_flush = 0;
    if (!s_service || now_ns < s_next_flush)
        return;
    s_next_flush = now_ns + 5'000'000'000ull;
    if (auto flushed = s_service->flush(); flushed.is_error())
        log::warn("users: audit log not saved: {}", flushed.error().reason());
}

void flush()
{
    if (s_service)
        (void)s_service->flush();
}

} // namespace aisos::user
