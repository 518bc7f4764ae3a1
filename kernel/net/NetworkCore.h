#pragma once

// The network core (DPDK style): one CPU polls the NIC, runs the TCP/IP
// stack and the HTTP server to completion, and posts transmits, in a loop
// that never sleeps while traffic flows and halts until the next timer tick
// when idle.

#include "kernel/drivers/net/NetworkDevice.h"
#include "lib/config/Config.h"
#include "lib/net/Stack.h"
#include "lib/net/http/HttpServer.h"

namespace aisos::network_core {

// Sets up the first NIC, its stack and the HTTP server, then hands the loop
// to its CPU (the BSP itself when it is the only CPU: then this returns
// only... never). Without a NIC it logs why and returns an error.
ErrorOr<void> start(const config::Config&);

// POST /sys/reboot and /sys/poweroff: the network core carries the action
// out shortly after, once the 202 answer has had time to leave.
enum class PowerAction { None, Reboot, PowerOff };
void schedule_power_action(PowerAction);

// For endpoints (all on the network core).
NetworkDevice* device();
net::Stack* stack();
http::HttpServer* http_server();
uint32_t cpu_index();

} // namespace aisos::network_core
