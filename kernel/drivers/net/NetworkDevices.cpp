#include "kernel/drivers/net/NetworkDevice.h"

#include "kernel/lib/Spinlock.h"

namespace aisos::network_devices {

namespace {
NetworkDevice* s_devices[max_devices];
size_t s_count = 0;
Spinlock s_lock;
}

void add(NetworkDevice* device)
{
    SpinlockGuard guard(s_lock);
    if (s_count < max_devices)
        s_devices[s_count++] = device;
}

std::span<NetworkDevice* const> all() { return { s_devices, s_count }; }

} // namespace aisos::network_devices
