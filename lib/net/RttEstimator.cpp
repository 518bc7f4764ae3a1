#include "lib/net/RttEstimator.h"

namespace aisos::net {

void RttEstimator::add_sample(uint64_t rtt_ns)
{
    if (!m_has_sample) {
        // RFC 6298 2.2: SRTT <- R, RTTVAR <- R/2.
        m_srtt_ns = rtt_ns;
        m_rttvar_ns = rtt_ns / 2;
        m_has_sample = true;
    } else {
        // RFC 6298 2.3: RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'|, then
        // SRTT <- 7/8 SRTT + 1/8 R'.
        uint64_t delta = m_srtt_ns > rtt_ns ? m_srtt_ns - rtt_ns : rtt_ns - m_srtt_ns;
        m_rttvar_ns = (3 * m_rttvar_ns + delta) / 4;
        m_srtt_ns = (7 * m_srtt_ns + rtt_ns) / 8;
    }
    uint64_t variance_term = 4 * m_rttvar_ns;
    if (variance_term < granularity_ns)
        variance_term = granularity_ns;
    m_base_rto_ns = m_srtt_ns + variance_term;
    m_backoff = 0;
}

void RttEstimator::back_off()
{
    if (m_backoff < 16)
        ++m_backoff;
}

uint64_t RttEstimator::rto_ns() const
{
    uint64_t rto = m_base_rto_ns < m_min_rto_ns ? m_min_rto_ns : m_base_rto_ns;
    for (unsigned i = 0; i < m_backoff && rto < max_rto_ns; ++i)
        rto *= 2;
    return rto > max_rto_ns ? max_rto_ns : rto;
}

} // namespace aisos::net
