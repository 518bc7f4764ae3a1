#include "lib/net/SequenceRanges.h"

#include "lib/net/TcpSequence.h"

namespace aisos::net {

bool SequenceRanges::add(uint32_t begin, uint32_t end)
{
    if (!seq_lt(begin, end))
        return true;
    // First range that ends at or after begin (it may touch or overlap).
    size_t first = 0;
    while (first < m_count && seq_lt(m_ranges[first].end, begin))
        ++first;
    // Ranges [first, last) overlap or touch the new one.
    size_t last = first;
    while (last < m_count && seq_leq(m_ranges[last].begin, end))
        ++last;
    if (first == last) {
        if (m_count == capacity)
            return false;
        for (size_t i = m_count; i > first; --i)
            m_ranges[i] = m_ranges[i - 1];
        m_ranges[first] = { begin, end };
        ++m_count;
        return true;
    }
    Range merged { seq_lt(m_ranges[first].begin, begin) ? m_ranges[first].begin : begin,
        seq_gt(m_ranges[last - 1].end, end) ? m_ranges[last - 1].end : end };
    m_ranges[first] = merged;
    size_t removed = last - first - 1;
    for (size_t i = first + 1; i + removed < m_count; ++i)
        m_ranges[i] = m_ranges[i + removed];
    m_count -= removed;
    return true;
}

uint32_t SequenceRanges::advance(uint32_t sequence)
{
    size_t consumed = 0;
    while (consumed < m_count && seq_leq(m_ranges[consumed].begin, sequence)) {
        sequence = seq_max(sequence, m_ranges[consumed].end);
        ++consumed;
    }
    for (size_t i = 0; i + consumed < m_count; ++i)
        m_ranges[i] = m_ranges[i + consumed];
    m_count -= consumed;
    return sequence;
}

} // namespace aisos::net
