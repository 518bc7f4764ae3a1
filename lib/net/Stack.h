#pragma once

// The TCP/IP stack of one network interface. It runs on the network core:
// the driver hands it each received frame (receive), the core calls poll()
// often (timers, deferred output), and the stack transmits through the
// driver's FrameTransmitter. Time is always a parameter (nanoseconds from
// any fixed origin), so the whole stack runs on the host with a virtual
// clock. Nothing is allocated per packet: buffers are allocated at create()
// and per connection.

#include "lib/base/Allocator.h"
#include "lib/net/Addresses.h"
#include "lib/net/ArpCache.h"
#include "lib/net/FrameTransmitter.h"
#include "lib/net/InterfaceConfig.h"
#include "lib/net/NetCounters.h"
#include "lib/net/Reassembler.h"
#include "lib/net/SipHash.h"
#include "lib/net/TcpListener.h"
#include "lib/net/TcpSocket.h"

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::net {

class DhcpClient;

namespace IpProtocol {
constexpr uint8_t Icmp = 1;
constexpr uint8_t Tcp = 6;
constexpr uint8_t Udp = 17;
}

// Receives the datagrams sent to a bound UDP port.
class UdpReceiver {
public:
    virtual void datagram_received(Ipv4Address source, uint16_t source_port, Ipv4Address destination, std::span<const uint8_t> payload, uint64_t now_ns) = 0;

protected:
    ~UdpReceiver() = default;
};

class Stack {
public:
    static ErrorOr<Stack*> create(Allocator&, FrameTransmitter&, const InterfaceConfig&);
    // Frees the stack and every connection (handles become invalid).
    static void destroy(Stack*);

    // RxChecksum::Verified: the NIC already checked the TCP/UDP checksum
    // (virtio-net VIRTIO_NET_HDR_F_DATA_VALID); the stack skips that check.
    enum class RxChecksum : uint8_t { Unverified, Verified };
    void receive(std::span<const uint8_t> ethernet_frame, uint64_t now_ns, RxChecksum = RxChecksum::Unverified);
    void poll(uint64_t now_ns);
    // The earliest time poll() has work to do (timers); the network core may
    // idle until then when no frames arrive.
    uint64_t next_deadline() const { return m_next_deadline; }

    ErrorOr<TcpListener*> tcp_listen(uint16_t port, size_t backlog);
    // Active open from an ephemeral port. The handshake runs in the
    // background: is_connected() turns true (then send() accepts data), or
    // is_closed() && was_reset() when the attempt failed.
    // The caller owns the handle until release().
    ErrorOr<TcpSocket*> tcp_connect(Ipv4Address remote, uint16_t port);

    ErrorOr<void> udp_bind(uint16_t port, UdpReceiver&);
    void udp_unbind(uint16_t port);
    // Sends one datagram (it must fit the MTU; no output fragmentation).
    // Before an address is configured the source is 0.0.0.0 and only
    // broadcast destinations are reachable (DHCP).
    ErrorOr<void> udp_send(uint16_t source_port, Ipv4Address destination, uint16_t destination_port, std::span<const uint8_t> payload);

    // An address is known: static, or a DHCP lease is bound.
    bool is_configured() const { return m_configured; }
    Ipv4Address address() const { return m_address; }
    uint8_t prefix_length() const { return m_prefix_length; }
    Ipv4Address gateway() const { return m_gateway; }
    Ipv4Address dns() const { return m_dns; }
    const NetCounters& counters() const { return m_counters; }
    const MacAddress& mac() const { return m_config.mac; }
    size_t connection_count() const { return m_connection_count; }
    const DhcpClient* dhcp() const { return m_dhcp; }

    // Checks the stack's internal consistency (sequence variables, buffers,
    // the out-of-order queue, listener and table bookkeeping). For tests
    // and fuzzing; O(connections).
    bool invariants_hold() const;

private:
    friend class TcpSocket;
    friend class TcpListener;
    friend class DhcpClient;

    Stack(Allocator& allocator, FrameTransmitter& transmitter, const InterfaceConfig& config)
        : m_allocator(allocator)
        , m_transmitter(transmitter)
        , m_config(config)
    {
    }
    ErrorOr<void> initialize();
    void destroy_everything();

    // Addressing (static or from DHCP).
    void configure(Ipv4Address, uint8_t prefix_length, Ipv4Address gateway, Ipv4Address dns);
    void unconfigure();
    void send_gratuitous_arp();
    bool is_local_broadcast(Ipv4Address) const;

    // Input.
    void handle_arp(std::span<const uint8_t> packet);
    void handle_ipv4(std::span<const uint8_t> packet);
    void deliver_ipv4(const uint8_t* header, Ipv4Address source, Ipv4Address destination, uint8_t protocol, std::span<const uint8_t> payload);
    void handle_icmp(Ipv4Address source, Ipv4Address destination, std::span<const uint8_t> payload);
    void handle_udp(Ipv4Address source, Ipv4Address destination, std::span<const uint8_t> payload);
    void handle_tcp(Ipv4Address source, Ipv4Address destination, std::span<const uint8_t> payload);

    // Output. Protocols write their payload into ip_payload() and call
    // send_ipv4, which adds the headers, resolves the next hop and transmits
    // (or parks the frame until ARP answers).
    enum class SendResult : uint8_t { Sent, Queued, Busy, Dropped };
    uint8_t* ip_payload() { return m_tx_frame + 14 + 20; }
    size_t ip_payload_capacity() const { return m_config.mtu - 20; }
    SendResult send_ipv4(Ipv4Address destination, uint8_t protocol, size_t payload_length);
    SendResult transmit_frame(uint8_t* frame, size_t length);
    void send_arp(uint16_t operation, const MacAddress& target_mac, Ipv4Address target_ip, const MacAddress& ethernet_destination);
    void flush_pending(Ipv4Address next_hop, const MacAddress&);
    void drop_pending(Ipv4Address next_hop);
    void arp_timers(uint64_t now_ns);

    // TCP.
    TcpSocket* find_connection(Ipv4Address remote, uint16_t remote_port, uint16_t local_port);
    size_t bucket_of(Ipv4Address remote, uint16_t remote_port, uint16_t local_port) const;
    void insert_connection(TcpSocket&);
    void remove_connection(TcpSocket&);
    void unhash_connection(TcpSocket&);
    void passive_open(TcpListener&, Ipv4Address remote, const TcpSegment&);
    bool recycle_time_wait();
    void send_reset_for(Ipv4Address remote, const TcpSegment&);
    uint32_t initial_sequence_number(Ipv4Address remote, uint16_t remote_port, uint16_t local_port) const;
    void note_deadline(uint64_t deadline_ns)
    {
        if (deadline_ns && deadline_ns < m_next_deadline)
            m_next_deadline = deadline_ns;
    }
    void note_output_blocked(TcpSocket&);
    void reap_connections();
    void free_connection(TcpSocket&);

    uint64_t random() { return m_config.random ? m_config.random(m_config.random_context) : 0x9e3779b97f4a7c15ull * ++m_fallback_random; }

    Allocator& m_allocator;
    FrameTransmitter& m_transmitter;
    InterfaceConfig m_config;
    char m_hostname[64] {};
    NetCounters m_counters;
    uint64_t m_now { 0 };
    RxChecksum m_rx_checksum { RxChecksum::Unverified }; // of the frame being processed
    uint64_t m_next_deadline { ~0ull };
    uint64_t m_fallback_random { 0 };

    bool m_configured { false };
    Ipv4Address m_address;
    uint8_t m_prefix_length { 0 };
    Ipv4Address m_gateway;
    Ipv4Address m_dns;
    bool m_gratuitous_arp_due { false };
    uint16_t m_ip_identification { 0 };

    uint8_t* m_tx_frame { nullptr }; // mtu + 14, one frame being built

    ArpCache m_arp;
    // Frames waiting for ARP: a fixed pool, at most max_pending_per_address
    // for one next hop.
    static constexpr size_t pending_slots = 16;
    static constexpr size_t max_pending_per_address = 4;
    struct PendingFrame {
        bool in_use { false };
        Ipv4Address next_hop;
        uint16_t length { 0 };
        uint8_t* frame { nullptr };
    };
    PendingFrame m_pending[pending_slots] {};
    uint8_t* m_pending_storage { nullptr };

    Reassembler m_reassembler;

    struct UdpBinding {
        uint16_t port { 0 };
        UdpReceiver* receiver { nullptr };
    };
    static constexpr size_t max_udp_bindings = 8;
    UdpBinding m_udp[max_udp_bindings] {};

    DhcpClient* m_dhcp { nullptr };

    // ICMP echo replies: a token bucket (rate-limits ping floods).
    uint64_t m_icmp_tokens { 0 };
    uint64_t m_icmp_refill_ns { 0 };

    // TCP.
    SipKey m_hash_key;
    SipKey m_isn_key;
    TcpSocket** m_buckets { nullptr };
    size_t m_bucket_mask { 0 };
    TcpSocket* m_all_connections { nullptr };
    size_t m_connection_count { 0 };
    TcpListener* m_listeners { nullptr };
    size_t m_blocked_outputs { 0 };
    bool m_reap_due { false };
};

} // namespace aisos::net
