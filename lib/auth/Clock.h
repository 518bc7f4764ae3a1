#pragma once

// Wall-clock time for tokens, sessions, rate limits and the audit log.
// The kernel implements it with its RTC-backed wall clock; tests with a
// settable fake.

#include <stdint.h>

namespace aisos::auth {

class Clock {
public:
    // Seconds since 1970-01-01T00:00:00Z.
    virtual uint64_t now_unix_seconds() = 0;

protected:
    ~Clock() = default;
};

} // namespace aisos::auth
