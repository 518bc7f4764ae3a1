#pragma once

// Login throttling per client IPv4 address and per user name, with growing
// delays: after `free_failures` failed attempts each further failure blocks
// the key for base_delay * 2^(failures - free_failures) seconds, capped at
// max_delay (the lockout). A success clears the user name's record and
// takes back the attempt from the address's record; records untouched for
// forget_after seconds start over.
//
// Attempts are counted when they start (begin_attempt), not when the slow
// password hash finishes, so parallel attempts cannot slip past the limit.
//
// Memory is bounded: two fixed tables of table_size records. When a table
// is full the least recently failed record that is not blocked is reused
// (or, if all are blocked, the least recently failed one).

#include "lib/auth/UserName.h"

#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::auth {

struct RateLimitPolicy {
    uint32_t free_failures { 5 };
    uint64_t base_delay_seconds { 1 };
    uint64_t max_delay_seconds { 15 * 60 };
    uint64_t forget_after_seconds { 60 * 60 };
};

class LoginRateLimiter {
public:
    static constexpr size_t table_size = 256;

    explicit LoginRateLimiter(const RateLimitPolicy& per_name = {}, const RateLimitPolicy& per_address = { .free_failures = 20 })
        : m_name_policy(per_name)
        , m_address_policy(per_address)
    {
    }

    // 0 when an attempt may go ahead; otherwise the seconds until it may (for Retry-After).
    uint64_t retry_after(uint32_t address, std::string_view name, uint64_t now) const;
    // Counts an attempt as failed until end_attempt_success() says otherwise.
    void begin_attempt(uint32_t address, std::string_view name, uint64_t now);
    void end_attempt_success(uint32_t address, std::string_view name, uint64_t now);

    uint32_t failures(uint32_t address, std::string_view name, uint64_t now) const;

private:
    struct Record {
        bool in_use { false };
        uint32_t address { 0 };
        UserName name;
        uint32_t failures { 0 };
        uint64_t last_failure { 0 };
        uint64_t blocked_until { 0 };
    };
    enum class Kind : uint8_t { Address, Name };

    const Record* find(Kind, uint32_t address, std::string_view name, uint64_t now) const;
    Record& find_or_create(Kind, uint32_t address, std::string_view name, uint64_t now);
    void fail(Record&, const RateLimitPolicy&, uint64_t now);

    RateLimitPolicy m_name_policy;
    RateLimitPolicy m_address_policy;
    Record m_names[table_size];
    Record m_addresses[table_size];
};

} // namespace aisos::auth
