#pragma once

// Retransmission timeout per RFC 6298: SRTT/RTTVAR smoothing of RTT
// samples (alpha 1/8, beta 1/4, K 4), a lower bound (RFC 6298 suggests 1 s;
// servers commonly use 200 ms) and an upper bound of 60 s, and exponential
// backoff on each expiry (5.5) that lasts until a new sample arrives.
// Karn's rule (no samples from retransmitted segments) is the caller's job.

#include <stdint.h>

namespace aisos::net {

class RttEstimator {
public:
    static constexpr uint64_t initial_rto_ns = 1'000'000'000ull; // RFC 6298 2.1
    static constexpr uint64_t max_rto_ns = 60'000'000'000ull;
    static constexpr uint64_t granularity_ns = 1'000'000ull; // G: 1 ms

    explicit RttEstimator(uint64_t min_rto_ns = 200'000'000ull)
        : m_min_rto_ns(min_rto_ns)
    {
    }

    void add_sample(uint64_t rtt_ns);
    void back_off();
    uint64_t rto_ns() const;
    bool has_sample() const { return m_has_sample; }
    uint64_t srtt_ns() const { return m_srtt_ns; }
    uint64_t rttvar_ns() const { return m_rttvar_ns; }
    unsigned backoff_count() const { return m_backoff; }

private:
    uint64_t m_min_rto_ns;
    uint64_t m_srtt_ns { 0 };
    uint64_t m_rttvar_ns { 0 };
    uint64_t m_base_rto_ns { initial_rto_ns };
    unsigned m_backoff { 0 };
    bool m_has_sample { false };
};

} // namespace aisos::net
