#pragma once

// Time: the TSC is the clock. It is calibrated once at boot against the HPET
// (or the PIT when there is no HPET); everything else derives from it.

#include <stdint.h>

namespace aisos::time {

// hpet_physical: 0 when ACPI has no HPET table.
void calibrate(uint64_t hpet_physical);

uint64_t tsc_frequency_hz();      // 0 before calibration
const char* calibration_source(); // "hpet" or "pit"
uint64_t uptime_ns();             // since calibrate(); 0 before
void busy_wait_us(uint64_t microseconds);

} // namespace aisos::time
