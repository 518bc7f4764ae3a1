#pragma once

// The out-of-order queue's bookkeeping: which sequence ranges beyond
// RCV.NXT are already held in the receive ring (the bytes themselves sit in
// the ring's free space at their final position). Bounded: at most
// `capacity` disjoint ranges; a segment that would need another is dropped
// (the sender retransmits it).

#include <stddef.h>
#include <stdint.h>

namespace aisos::net {

class SequenceRanges {
public:
    static constexpr size_t capacity = 8;
    struct Range {
        uint32_t begin; // first sequence number
        uint32_t end; // one past the last
    };

    // Adds [begin, end), merging with overlapping or adjacent ranges.
    // Returns false (and changes nothing) when it would need a ninth range.
    bool add(uint32_t begin, uint32_t end);
    // Removes every range that starts at or before `sequence` and returns
    // the end of the contiguous data from `sequence` on.
    uint32_t advance(uint32_t sequence);
    size_t count() const { return m_count; }
    const Range& operator[](size_t index) const { return m_ranges[index]; }
    void clear() { m_count = 0; }

private:
    Range m_ranges[capacity] {}; // sorted, disjoint, non-adjacent
    size_t m_count { 0 };
};

} // namespace aisos::net
