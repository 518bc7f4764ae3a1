#pragma once

// What the stack needs from a NIC driver: put one complete Ethernet frame
// (without FCS) on the wire. The driver copies the frame into a TX buffer
// before returning, so the span is only borrowed. When the TX ring is full
// it returns ErrorCode::Busy; the stack then retries later (TCP) or drops
// and counts (everything else). It never spins waiting for the ring.

#include "lib/base/ErrorOr.h"

#include <span>
#include <stdint.h>

namespace aisos::net {

class FrameTransmitter {
public:
    virtual ErrorOr<void> transmit(std::span<const uint8_t> frame) = 0;

protected:
    ~FrameTransmitter() = default;
};

} // namespace aisos::net
