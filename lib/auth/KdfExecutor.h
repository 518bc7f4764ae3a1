#pragma once

// Running the slow password hash away from the network core.
//
// Argon2id with the default parameters takes tens of milliseconds natively
// and seconds under emulation; the network core must never wait for it. A
// handler fills a KdfJob (password, salt, parameters), submits it to the
// KdfExecutor and returns; from its on_poll() it checks state() until the
// job is Done or Failed.
//
// The kernel implements KdfExecutor with a queue served by another CPU:
// submit() enqueues (refusing when the queue is full) and that CPU calls
// job.run(allocator). run() may be called on any CPU; the job's memory stays
// valid and untouched by the network core until state() is Done or Failed
// (the auth service guarantees this even when the client goes away). The
// allocator given to run() must be usable from the executing CPU.
// SynchronousKdfExecutor runs jobs inside submit() (tests, boot).

#include "lib/base/Allocator.h"
#include "lib/base/ErrorOr.h"
#include "lib/crypto/Argon2id.h"

#include <atomic>
#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::auth {

class KdfJob {
public:
    enum class State : uint8_t { Idle, Pending, Done, Failed };
    static constexpr size_t max_password = 256;
    static constexpr size_t max_salt = 64;
    static constexpr size_t max_tag = 64;

    KdfJob() = default;
    ~KdfJob() { clear(); }
    KdfJob(const KdfJob&) = delete;
    KdfJob& operator=(const KdfJob&) = delete;

    // Network core: copies the inputs; the job becomes Pending.
    ErrorOr<void> prepare(std::string_view password, std::span<const uint8_t> salt, const crypto::Argon2Params&, size_t tag_length);
    // Executing CPU: computes the tag, wipes the password, publishes Done or Failed.
    void run(Allocator&);

    State state() const { return m_state.load(std::memory_order_acquire); }
    // Valid once Done.
    std::span<const uint8_t> tag() const { return { m_tag, m_tag_length }; }
    std::span<const uint8_t> salt() const { return { m_salt, m_salt_length }; }
    const crypto::Argon2Params& params() const { return m_params; }
    // Valid once Failed.
    Error error() const { return m_error; }
    // Wipes everything and returns to Idle (only when not Pending).
    void clear();

private:
    char m_password[max_password];
    size_t m_password_length { 0 };
    uint8_t m_salt[max_salt];
    size_t m_salt_length { 0 };
    uint8_t m_tag[max_tag];
    size_t m_tag_length { 0 };
    crypto::Argon2Params m_params;
    Error m_error { ErrorCode::InvalidArgument, "" };
    std::atomic<State> m_state { State::Idle };
};

class KdfExecutor {
public:
    // Takes the job to run soon. An error (e.g. a full queue) leaves the job
    // with the caller, still Pending and never to be run.
    virtual ErrorOr<void> submit(KdfJob&) = 0;

protected:
    ~KdfExecutor() = default;
};

class SynchronousKdfExecutor final : public KdfExecutor {
public:
    explicit SynchronousKdfExecutor(Allocator& allocator)
        : m_allocator(allocator)
    {
    }
    ErrorOr<void> submit(KdfJob& job) override
    {
        ++submitted;
        job.run(m_allocator);
        return {};
    }
    uint64_t submitted { 0 };

private:
    Allocator& m_allocator;
};

} // namespace aisos::auth
