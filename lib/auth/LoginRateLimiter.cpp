#include "lib/auth/LoginRateLimiter.h"

namespace aisos::auth {

const LoginRateLimiter::Record* LoginRateLimiter::find(Kind kind, uint32_t address, std::string_view name, uint64_t now) const
{
    const Record* table = kind == Kind::Address ? m_addresses : m_names;
    const auto& policy = kind == Kind::Address ? m_address_policy : m_name_policy;
    for (size_t i = 0; i < table_size; ++i) {
        const auto& record = table[i];
        if (!record.in_use)
            continue;
        bool match = kind == Kind::Address ? record.address == address : record.name == name;
        if (!match)
            continue;
        bool forgotten = now >= record.last_failure + policy.forget_after_seconds && now >= record.blocked_until;
        return forgotten ? nullptr : &record;
    }
    return nullptr;
}

LoginRateLimiter::Record& LoginRateLimiter::find_or_create(Kind kind, uint32_t address, std::string_view name, uint64_t now)
{
    Record* table = kind == Kind::Address ? m_addresses : m_names;
    const auto& policy = kind == Kind::Address ? m_address_policy : m_name_policy;
    Record* free_record = nullptr;
    Record* oldest_unblocked = nullptr;
    Record* oldest = nullptr;
    for (size_t i = 0; i < table_size; ++i) {
        auto& record = table[i];
        if (record.in_use && now >= record.last_failure + policy.forget_after_seconds && now >= record.blocked_until)
            record = Record {};
        if (!record.in_use) {
            if (!free_record)
                free_record = &record;
            continue;
        }
        bool match = kind == Kind::Address ? record.address == address : record.name == name;
        if (match)
            return record;
        if (!oldest || record.last_failure < oldest->last_failure)
            oldest = &record;
        if (now >= record.blocked_until && (!oldest_unblocked || record.last_failure < oldest_unblocked->last_failure))
            oldest_unblocked = &record;
    }
    Record* chosen = free_record ? free_record : (oldest_unblocked ? oldest_unblocked : oldest);
    *chosen = Record {};
    chosen->in_use = true;
    if (kind == Kind::Address) {
        chosen->address = address;
    } else {
        // Names that are not valid user names share one record: they cannot
        // log in anyway, and this keeps junk from filling the table.
        auto valid = UserName::create(name);
        chosen->name = valid.is_error() ? UserName {} : valid.value();
    }
    return *chosen;
}

void LoginRateLimiter::fail(Record& record, const RateLimitPolicy& policy, uint64_t now)
{
    ++record.failures;
    record.last_failure = now;
    if (record.failures >= policy.free_failures) {
        uint32_t exponent = record.failures - policy.free_failures;
        uint64_t delay = policy.max_delay_seconds;
        if (exponent < 40 && (policy.base_delay_seconds << exponent) < policy.max_delay_seconds)
            delay = policy.base_delay_seconds << exponent;
        record.blocked_until = now + delay;
    }
}

uint64_t LoginRateLimiter::retry_after(uint32_t address, std::string_view name, uint64_t now) const
{
    uint64_t wait = 0;
    if (auto* record = find(Kind::Address, address, name, now); record && record->blocked_until > now)
        wait = record->blocked_until - now;
    auto key = UserName::create(name).is_error() ? std::string_view {} : name;
    if (auto* record = find(Kind::Name, address, key, now); record && record->blocked_until > now && record->blocked_until - now > wait)
        wait = record->blocked_until - now;
    return wait;
}

void LoginRateLimiter::begin_attempt(uint32_t address, std::string_view name, uint64_t now)
{
    fail(find_or_create(Kind::Address, address, name, now), m_address_policy, now);
    auto key = UserName::create(name).is_error() ? std::string_view {} : name;
    fail(find_or_create(Kind::Name, address, key, now), m_name_policy, now);
}

void LoginRateLimiter::end_attempt_success(uint32_t address, std::string_view name, uint64_t now)
{
    auto& by_name = find_or_create(Kind::Name, address, name, now);
    by_name = Record {};
    auto& by_address = find_or_create(Kind::Address, address, name, now);
    if (by_address.failures > 0)
        --by_address.failures;
    if (by_address.failures < m_address_policy.free_failures)
        by_address.blocked_until = 0;
    if (by_address.failures == 0)
        by_address = Record {};
}

uint32_t LoginRateLimiter::failures(uint32_t address, std::string_view name, uint64_t now) const
{
    auto key = UserName::create(name).is_error() ? std::string_view {} : name;
    auto* record = find(Kind::Name, address, key, now);
    return record ? record->failures : 0;
}

} // namespace aisos::auth
