#include "lib/crypto/EntropyHealth.h"

namespace aisos::crypto {

ErrorOr<void> EntropyHealth::check(std::span<const uint8_t> samples)
{
    if (m_failed)
        return Error { ErrorCode::IoError, "entropy source failed a health test earlier" };
    for (uint8_t sample : samples) {
        // Repetition Count Test (SP 800-90B §4.4.1).
        if (m_samples > 0 && sample == m_last) {
            if (++m_run >= repetition_cutoff) {
                m_failed = true;
                return Error { ErrorCode::IoError, "entropy source stuck (repetition count test)" };
            }
        } else {
            m_run = 1;
            m_last = sample;
        }
        // Adaptive Proportion Test (SP 800-90B §4.4.2).
        if (m_window_position == 0) {
            m_window_value = sample;
            m_window_count = 1;
        } else if (sample == m_window_value) {
            if (++m_window_count >= proportion_cutoff) {
                m_failed = true;
                return Error { ErrorCode::IoError, "entropy source biased (adaptive proportion test)" };
            }
        }
        if (++m_window_position == proportion_window)
            m_window_position = 0;
        ++m_samples;
    }
    return {};
}

} // namespace aisos::crypto
