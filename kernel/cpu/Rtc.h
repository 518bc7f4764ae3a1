#pragma once

// Wall-clock time from the CMOS real-time clock, read once at boot and then
// advanced by the TSC (for HTTP Date and, later, JWT timestamps).

#include <stdint.h>

namespace aisos::rtc {

// century_register: the FADT's CMOS index for the century, 0 when absent.
void initialize(uint8_t century_register);
uint64_t unix_seconds(); // now

// Days since 1970-01-01 for a civil date (proleptic Gregorian).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

} // namespace aisos::rtc
