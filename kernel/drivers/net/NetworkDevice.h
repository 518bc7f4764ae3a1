#pragma once

// A NIC as the network core sees it (DPDK style): no interrupts, the core
// polls receive and reclaims transmit descriptors itself. Frames are plain
// Ethernet II without FCS.

#include "lib/base/ErrorOr.h"

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos {

struct NicCounters {
    uint64_t rx_frames { 0 };
    uint64_t rx_bytes { 0 };
    uint64_t rx_dropped { 0 }; // malformed or unsupported descriptors
    uint64_t tx_frames { 0 };
    uint64_t tx_bytes { 0 };
    uint64_t tx_ring_full { 0 };
};

class NetworkDevice {
public:
    using FrameHandler = void (*)(std::span<const uint8_t> frame, void* context);

    virtual const char* driver_name() const = 0;
    virtual const uint8_t* mac() const = 0; // 6 bytes
    virtual bool link_up() = 0;

    // Hands up to budget received frames to handler (each valid only during
    // the call), gives their buffers back to the device; returns how many.
    virtual size_t poll_receive(FrameHandler, void* context, size_t budget) = 0;
    // Copies frame into a transmit buffer and queues it; Busy when the ring
    // is full (after reclaiming what the device has finished).
    virtual ErrorOr<void> transmit(std::span<const uint8_t> frame) = 0;
    // Tells the device about frames queued since the last flush.
    virtual void flush_transmit() = 0;

    const NicCounters& counters() const { return m_counters; }

protected:
    ~NetworkDevice() = default;
    NicCounters m_counters;
};

namespace network_devices {

inline constexpr size_t max_devices = 8;

void add(NetworkDevice*);
std::span<NetworkDevice* const> all();

} // namespace network_devices

} // namespace aisos
