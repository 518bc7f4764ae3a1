#pragma once

// Continuous health tests on raw entropy bytes, after NIST SP 800-90B §4.4:
// the Repetition Count Test (a run of identical samples) and the Adaptive
// Proportion Test (one value too frequent in a window of 512 samples).
//
// The source is modelled as bytes with at least 4 bits of min-entropy each
// (deliberately pessimistic for RDSEED, which is specified as full entropy),
// and a false-alarm rate of about 2^-20 per test:
//   RCT cutoff C = 1 + ceil(20 / 4) = 6 identical bytes in a row;
//   APT cutoff for W = 512, H = 4: 62 occurrences of the window's first byte.
// A stuck, mostly-constant or heavily biased source fails within a window;
// a healthy one practically never does.

#include "lib/base/ErrorOr.h"

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::crypto {

class EntropyHealth {
public:
    static constexpr uint32_t repetition_cutoff = 6;
    static constexpr uint32_t proportion_window = 512;
    static constexpr uint32_t proportion_cutoff = 62;

    // Feeds samples through both tests; the state carries over between calls.
    // Once a test has failed, every later call fails too (until reset()).
    ErrorOr<void> check(std::span<const uint8_t> samples);
    void reset() { *this = EntropyHealth(); }
    bool failed() const { return m_failed; }
    uint64_t samples_seen() const { return m_samples; }

private:
    uint64_t m_samples { 0 };
    uint8_t m_last { 0 };
    uint32_t m_run { 0 };
    uint8_t m_window_value { 0 };
    uint32_t m_window_position { 0 };
    uint32_t m_window_count { 0 };
    bool m_failed { false };
};

} // namespace aisos::crypto
