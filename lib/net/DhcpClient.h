#pragma once

// DHCP client (RFC 2131, options from RFC 2132): INIT -> SELECTING
// (DISCOVER) -> REQUESTING (REQUEST for the first OFFER) -> BOUND (ACK);
// at T1 RENEWING (REQUEST unicast to the server), at T2 REBINDING
// (broadcast REQUEST), at lease expiry or on a NAK back to INIT with the
// address removed. Retransmissions back off 4, 8, 16, 32, 64 s (4.1).

#include "lib/net/Addresses.h"
#include "lib/net/Stack.h"

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::net {

class DhcpClient final : public UdpReceiver {
public:
    static constexpr uint16_t client_port = 68;
    static constexpr uint16_t server_port = 67;

    enum class State : uint8_t { Init, Selecting, Requesting, Bound, Renewing, Rebinding };

    DhcpClient(Stack& stack, uint32_t xid)
        : m_stack(stack)
        , m_xid(xid)
    {
    }

    void poll(uint64_t now_ns);
    void datagram_received(Ipv4Address source, uint16_t source_port, Ipv4Address destination, std::span<const uint8_t> payload, uint64_t now_ns) override;

    State state() const { return m_state; }
    uint32_t xid() const { return m_xid; }
    Ipv4Address server() const { return m_server; }
    uint32_t lease_seconds() const { return m_lease_seconds; }
    uint64_t renew_at_ns() const { return m_t1_ns; }
    uint64_t rebind_at_ns() const { return m_t2_ns; }
    uint64_t expires_at_ns() const { return m_expiry_ns; }

private:
    enum MessageType : uint8_t { Discover = 1, Offer = 2, Request = 3, Decline = 4, Ack = 5, Nak = 6, Release = 7, Inform = 8 };
    struct Reply {
        uint8_t type { 0 };
        Ipv4Address your_address;
        Ipv4Address server_id;
        bool has_mask { false };
        Ipv4Address mask;
        Ipv4Address router;
        Ipv4Address dns;
        uint32_t lease { 0 };
        uint32_t t1 { 0 };
        uint32_t t2 { 0 };
    };
    bool parse(std::span<const uint8_t>, Reply&) const;
    void send(uint8_t type, uint64_t now_ns);
    void restart(uint64_t now_ns);
    void bind(const Reply&, uint64_t now_ns);
    void schedule_retransmission(uint64_t now_ns);
    void set_deadline(uint64_t deadline_ns);

    Stack& m_stack;
    State m_state { State::Init };
    uint32_t m_xid;
    uint64_t m_started_ns { 0 };
    uint64_t m_next_send_ns { 0 };
    uint8_t m_attempts { 0 };
    Ipv4Address m_offered;
    Ipv4Address m_server;
    uint32_t m_lease_seconds { 0 };
    uint64_t m_t1_ns { 0 };
    uint64_t m_t2_ns { 0 };
    uint64_t m_expiry_ns { 0 };
};

} // namespace aisos::net
