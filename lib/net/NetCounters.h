#pragma once

// Everything the stack counts, exported by the kernel as Prometheus metrics.
// Plain integers written only by the network core.

#include <span>
#include <stdint.h>

namespace aisos::net {

struct NetCounters {
    // Link layer.
    uint64_t frames_in { 0 };
    uint64_t bytes_in { 0 };
    uint64_t frames_out { 0 };
    uint64_t bytes_out { 0 };
    uint64_t drop_runt { 0 }; // shorter than an Ethernet header
    uint64_t drop_not_for_us { 0 }; // unicast to another MAC, or multicast
    uint64_t drop_vlan { 0 }; // 802.1Q / 802.1ad tagged
    uint64_t drop_unknown_ethertype { 0 };
    uint64_t drop_ring_full { 0 }; // transmit refused (Busy) and not retried
    uint64_t transmit_errors { 0 }; // transmit failed for another reason
    uint64_t transmit_retries { 0 }; // TCP output deferred by a full ring

    // ARP.
    uint64_t arp_in { 0 };
    uint64_t arp_requests_sent { 0 };
    uint64_t arp_replies_sent { 0 };
    uint64_t arp_gratuitous_sent { 0 };
    uint64_t arp_malformed { 0 };
    uint64_t arp_resolution_failed { 0 }; // packets dropped: no reply in time
    uint64_t arp_queue_full { 0 }; // packets dropped: pending queue full
    uint64_t arp_cache_evictions { 0 };

    // IPv4.
    uint64_t ip_in { 0 };
    uint64_t ip_out { 0 };
    uint64_t ip_bad_checksum { 0 };
    uint64_t ip_malformed { 0 };
    uint64_t ip_not_for_us { 0 };
    uint64_t ip_unknown_protocol { 0 };
    uint64_t ip_no_route { 0 };
    uint64_t ip_too_big { 0 }; // output larger than the MTU (no output fragmentation)
    uint64_t fragments_in { 0 };
    uint64_t fragments_reassembled { 0 }; // datagrams completed
    uint64_t fragments_dropped { 0 }; // malformed fragments
    uint64_t reassembly_timeouts { 0 };
    uint64_t reassembly_evictions { 0 }; // too many concurrent datagrams

    // ICMP.
    uint64_t icmp_in { 0 };
    uint64_t icmp_echo_requests { 0 };
    uint64_t icmp_echo_replies_sent { 0 };
    uint64_t icmp_bad_checksum { 0 };
    uint64_t icmp_malformed { 0 };
    uint64_t icmp_rate_limited { 0 };

    // UDP.
    uint64_t udp_in { 0 };
    uint64_t udp_out { 0 };
    uint64_t udp_bad_checksum { 0 };
    uint64_t udp_malformed { 0 };
    uint64_t udp_no_socket { 0 };

    // DHCP.
    uint64_t dhcp_discovers_sent { 0 };
    uint64_t dhcp_requests_sent { 0 };
    uint64_t dhcp_acks { 0 };
    uint64_t dhcp_naks { 0 };
    uint64_t dhcp_malformed { 0 };
    uint64_t dhcp_leases_expired { 0 };

    // TCP.
    uint64_t tcp_in { 0 };
    uint64_t tcp_out { 0 };
    uint64_t tcp_bad_checksum { 0 };
    uint64_t tcp_malformed { 0 };
    uint64_t tcp_no_socket { 0 }; // answered with RST
    uint64_t tcp_backlog_full { 0 }; // SYN dropped: SYN backlog or accept queue full
    uint64_t tcp_connection_limit { 0 }; // SYN dropped: max connections reached
    uint64_t tcp_time_wait_recycled { 0 }; // TIME-WAIT connections ended early to make room
    uint64_t tcp_out_of_memory { 0 }; // connection refused or reset: allocation failed
    uint64_t tcp_connections_active { 0 }; // gauge: connections not yet closed
    uint64_t tcp_connections_opened { 0 }; // passive opens that reached ESTABLISHED
    uint64_t tcp_connections_reset { 0 }; // RST received or sent on a connection
    uint64_t tcp_retransmits { 0 }; // segments retransmitted after RTO
    uint64_t tcp_fast_retransmits { 0 };
    uint64_t tcp_timeouts { 0 }; // RTO expirations
    uint64_t tcp_connections_timed_out { 0 }; // given up after too many RTOs/probes
    uint64_t tcp_out_of_order_segments { 0 };
    uint64_t tcp_out_of_order_dropped { 0 }; // OOO queue full
    uint64_t tcp_challenge_acks { 0 };
    uint64_t tcp_zero_window_probes { 0 };
    uint64_t tcp_keepalive_probes { 0 };
    uint64_t tcp_bytes_received { 0 }; // in-order payload bytes delivered
    uint64_t tcp_bytes_sent { 0 }; // payload bytes sent the first time
};

// Every counter with its name, for exporting (Prometheus: prefix the name,
// e.g. "aisos_net_"; kind tells counter from gauge).
struct NetCounterField {
    enum class Kind : uint8_t { Counter, Gauge };
    const char* name;
    Kind kind;
    uint64_t NetCounters::*field;
};
std::span<const NetCounterField> net_counter_fields();

} // namespace aisos::net
