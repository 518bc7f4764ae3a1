#pragma once

// How the kernel configures a Stack (from aisos.cfg and the NIC driver).

#include "lib/net/Addresses.h"

#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::net {

struct InterfaceConfig {
    MacAddress mac;
    uint16_t mtu { 1500 }; // IP MTU; frames are at most mtu + 14 bytes

    // Address: DHCP (RFC 2131) or static.
    bool use_dhcp { true };
    Ipv4Address address;
    uint8_t prefix_length { 24 };
    Ipv4Address gateway;
    Ipv4Address dns;
    std::string_view hostname; // DHCP option 12; copied by the stack (max 63 bytes)

    // TCP.
    size_t tcp_receive_buffer { 256 * 1024 };
    size_t tcp_send_buffer { 256 * 1024 };
    size_t tcp_syn_backlog { 128 }; // half-open connections per listener
    size_t tcp_max_connections { 512 }; // all connections, TIME_WAIT included
    uint32_t tcp_msl_ms { 10'000 }; // TIME_WAIT lasts 2*MSL; short for a server
    uint32_t tcp_min_rto_ms { 200 };
    uint32_t tcp_delayed_ack_ms { 40 };

    // Randomness (RFC 6528 ISN secret, DHCP xid, hash keys). The kernel
    // passes RDRAND/RDSEED; tests pass a seeded generator.
    uint64_t (*random)(void* context) { nullptr };
    void* random_context { nullptr };
};

} // namespace aisos::net
