#include "lib/net/DhcpClient.h"

#include "lib/net/Wire.h"

namespace aisos::net {

namespace {
constexpr uint64_t second_ns = 1'000'000'000ull;
constexpr uint32_t magic_cookie = 0x63825363;
constexpr size_t fixed_header_size = 240; // BOOTP header + cookie
constexpr size_t minimum_message_size = 300; // BOOTP minimum, some servers insist
constexpr uint8_t max_request_attempts = 4;

namespace Option {
constexpr uint8_t Pad = 0;
constexpr uint8_t SubnetMask = 1;
constexpr uint8_t Router = 3;
constexpr uint8_t DomainNameServer = 6;
constexpr uint8_t HostName = 12;
constexpr uint8_t RequestedAddress = 50;
constexpr uint8_t LeaseTime = 51;
constexpr uint8_t MessageType = 53;
constexpr uint8_t ServerIdentifier = 54;
constexpr uint8_t ParameterRequestList = 55;
constexpr uint8_t MaximumMessageSize = 57;
constexpr uint8_t RenewalTime = 58;
constexpr uint8_t RebindingTime = 59;
constexpr uint8_t End = 255;
}
}

void DhcpClient::set_deadline(uint64_t deadline_ns)
{
    m_stack.note_deadline(deadline_ns ? deadline_ns : 1);
}

bool DhcpClient::parse(std::span<const uint8_t> message, Reply& reply) const
{
    if (message.size() < fixed_header_size || message[0] != 2 /* BOOTREPLY */ || message[1] != 1 || message[2] != 6)
        return false;
    if (load_be32(&message[4]) != m_xid || load_be32(&message[236]) != magic_cookie)
        return false;
    if (__builtin_memcmp(&message[28], m_stack.mac().bytes.data(), 6) != 0)
        return false;
    reply.your_address = { load_be32(&message[16]) };
    size_t i = fixed_header_size;
    while (i < message.size()) {
        uint8_t code = message[i];
        if (code == Option::End)
            break;
        if (code == Option::Pad) {
            ++i;
            continue;
        }
        if (i + 1 >= message.size() || i + 2 + message[i + 1] > message.size())
            return false;
        uint8_t length = message[i + 1];
        const uint8_t* value = &message[i + 2];
        auto address = [&](Ipv4Address& out) {
            if (length >= 4)
                out = { load_be32(value) };
        };
        auto seconds = [&](uint32_t& out) {
            if (length == 4)
                out = load_be32(value);
        };
        switch (code) {
        case Option::MessageType:
            if (length == 1)
                reply.type = value[0];
            break;
        case Option::ServerIdentifier:
            address(reply.server_id);
            break;
        case Option::SubnetMask:
            if (length == 4) {
                reply.has_mask = true;
                reply.mask = { load_be32(value) };
            }
            break;
        case Option::Router:
            address(reply.router); // the first router listed
            break;
        case Option::DomainNameServer:
            address(reply.dns);
            break;
        case Option::LeaseTime:
            seconds(reply.lease);
            break;
        case Option::RenewalTime:
            seconds(reply.t1);
            break;
        case Option::RebindingTime:
            seconds(reply.t2);
            break;
        default:
            break;
        }
        i += 2u + length;
    }
    return reply.type != 0;
}

void DhcpClient::send(uint8_t type, uint64_t now_ns)
{
    uint8_t message[576] {};
    message[0] = 1; // BOOTREQUEST
    message[1] = 1; // Ethernet
    message[2] = 6;
    store_be32(&message[4], m_xid);
    uint64_t elapsed = (now_ns - m_started_ns) / second_ns;
    store_be16(&message[8], static_cast<uint16_t>(elapsed > 0xffff ? 0xffff : elapsed));
    bool have_address = m_state == State::Renewing || m_state == State::Rebinding;
    // Without an address we cannot receive unicast before the ACK: ask for
    // broadcast replies (RFC 2131 4.1).
    store_be16(&message[10], have_address ? 0 : 0x8000);
    if (have_address)
        store_be32(&message[12], m_stack.address().value); // ciaddr
    m_stack.mac().store(&message[28]);
    store_be32(&message[236], magic_cookie);
    size_t i = fixed_header_size;
    message[i++] = Option::MessageType;
    message[i++] = 1;
    message[i++] = type;
    if (type == Request && m_state == State::Requesting) {
        // RFC 2131 4.3.2: in SELECTING the REQUEST carries 'requested IP
        // address' and 'server identifier'; in RENEWING/REBINDING neither.
        message[i++] = Option::RequestedAddress;
        message[i++] = 4;
        store_be32(&message[i], m_offered.value);
        i += 4;
        message[i++] = Option::ServerIdentifier;
        message[i++] = 4;
        store_be32(&message[i], m_server.value);
        i += 4;
    }
    message[i++] = Option::MaximumMessageSize;
    message[i++] = 2;
    store_be16(&message[i], 576);
    i += 2;
    auto hostname = m_stack.m_config.hostname;
    if (!hostname.empty()) {
        message[i++] = Option::HostName;
        message[i++] = static_cast<uint8_t>(hostname.size());
        __builtin_memcpy(&message[i], hostname.data(), hostname.size());
        i += hostname.size();
    }
    static constexpr uint8_t requested[] = { Option::SubnetMask, Option::Router, Option::DomainNameServer, Option::LeaseTime, Option::ServerIdentifier, Option::RenewalTime, Option::RebindingTime };
    message[i++] = Option::ParameterRequestList;
    message[i++] = sizeof(requested);
    __builtin_memcpy(&message[i], requested, sizeof(requested));
    i += sizeof(requested);
    message[i++] = Option::End;
    if (i < minimum_message_size)
        i = minimum_message_size;

    Ipv4Address destination = m_state == State::Renewing ? m_server : Ipv4Address::broadcast();
    if (type == Discover)
        ++m_stack.m_counters.dhcp_discovers_sent;
    else
        ++m_stack.m_counters.dhcp_requests_sent;
    (void)m_stack.udp_send(client_port, destination, server_port, { message, i });
}

void DhcpClient::schedule_retransmission(uint64_t now_ns)
{
    // RFC 2131 4.1: "a delay of 4 seconds before the first retransmission,
    // ... doubled ... up to a maximum of 64 seconds", randomized by +-1 s.
    uint64_t delay = (4ull << (m_attempts < 4 ? m_attempts : 4)) * second_ns;
    uint64_t jitter = m_stack.random() % (2 * second_ns);
    m_next_send_ns = now_ns + delay - second_ns + jitter;
    if (m_attempts < 255)
        ++m_attempts;
    set_deadline(m_next_send_ns);
}

void DhcpClient::restart(uint64_t now_ns)
{
    m_state = State::Init;
    m_xid = static_cast<uint32_t>(m_stack.random());
    m_attempts = 0;
    m_next_send_ns = now_ns;
    set_deadline(now_ns);
}

void DhcpClient::poll(uint64_t now_ns)
{
    switch (m_state) {
    case State::Init:
        m_started_ns = now_ns;
        m_state = State::Selecting;
        m_attempts = 0;
        send(Discover, now_ns);
        schedule_retransmission(now_ns);
        break;
    case State::Selecting:
        if (now_ns >= m_next_send_ns) {
            send(Discover, now_ns);
            schedule_retransmission(now_ns);
        } else {
            set_deadline(m_next_send_ns);
        }
        break;
    case State::Requesting:
        if (now_ns < m_next_send_ns) {
            set_deadline(m_next_send_ns);
        } else if (m_attempts >= max_request_attempts) {
            restart(now_ns); // the server went away: start over
        } else {
            send(Request, now_ns);
            schedule_retransmission(now_ns);
        }
        break;
    case State::Bound:
    case State::Renewing:
    case State::Rebinding: {
        if (now_ns >= m_expiry_ns) {
            // RFC 2131 4.4.5: "If the lease expires before the client
            // receives a DHCPACK, the client moves to INIT state, MUST
            // immediately stop any other network processing".
            ++m_stack.m_counters.dhcp_leases_expired;
            m_stack.unconfigure();
            restart(now_ns);
            break;
        }
        if (m_state == State::Bound && now_ns >= m_t1_ns) {
            m_state = State::Renewing;
            m_next_send_ns = now_ns;
        }
        if (m_state == State::Renewing && now_ns >= m_t2_ns) {
            m_state = State::Rebinding;
            m_next_send_ns = now_ns;
        }
        if (m_state != State::Bound && now_ns >= m_next_send_ns) {
            m_started_ns = now_ns;
            send(Request, now_ns);
            // 4.4.5: wait half the time remaining until T2 (RENEWING) or
            // until expiry (REBINDING), at least 60 s.
            uint64_t end = m_state == State::Renewing ? m_t2_ns : m_expiry_ns;
            uint64_t wait = (end - now_ns) / 2;
            if (wait < 60 * second_ns)
                wait = 60 * second_ns;
            m_next_send_ns = now_ns + wait;
        }
        uint64_t next = m_expiry_ns;
        if (m_state == State::Bound && m_t1_ns < next)
            next = m_t1_ns;
        if (m_state == State::Renewing && m_t2_ns < next)
            next = m_t2_ns;
        if (m_state != State::Bound && m_next_send_ns < next)
            next = m_next_send_ns;
        set_deadline(next);
        break;
    }
    }
}

void DhcpClient::bind(const Reply& reply, uint64_t now_ns)
{
    ++m_stack.m_counters.dhcp_acks;
    uint8_t prefix = 24;
    if (reply.has_mask) {
        uint32_t mask = reply.mask.value;
        uint8_t ones = static_cast<uint8_t>(__builtin_popcount(mask));
        if (ones == 32 || mask == prefix_mask(ones)) // contiguous
            prefix = ones;
    }
    if (!reply.server_id.is_zero())
        m_server = reply.server_id;
    m_lease_seconds = reply.lease ? reply.lease : 3600;
    // "The client begins the lease at the time it sent the request"
    // (4.4.1): measure from now, slightly conservative.
    if (m_lease_seconds == 0xffffffffu) {
        m_t1_ns = m_t2_ns = m_expiry_ns = ~0ull;
    } else {
        uint64_t lease = static_cast<uint64_t>(m_lease_seconds) * second_ns;
        // RFC 2131 4.4.5: T1 defaults to 0.5 * lease, T2 to 0.875 * lease.
        uint64_t t1 = reply.t1 ? static_cast<uint64_t>(reply.t1) * second_ns : lease / 2;
        uint64_t t2 = reply.t2 ? static_cast<uint64_t>(reply.t2) * second_ns : lease / 8 * 7;
        if (t2 > lease)
            t2 = lease;
        if (t1 > t2)
            t1 = t2;
        m_t1_ns = now_ns + t1;
        m_t2_ns = now_ns + t2;
        m_expiry_ns = now_ns + lease;
    }
    m_state = State::Bound;
    m_attempts = 0;
    m_stack.configure(reply.your_address, prefix, reply.router, reply.dns);
    set_deadline(m_t1_ns);
}

void DhcpClient::datagram_received(Ipv4Address, uint16_t source_port, Ipv4Address, std::span<const uint8_t> payload, uint64_t now_ns)
{
    if (source_port != server_port)
        return;
    Reply reply;
    if (!parse(payload, reply)) {
        ++m_stack.m_counters.dhcp_malformed;
        return;
    }
    switch (m_state) {
    case State::Selecting:
        // Take the first OFFER (RFC 2131 4.4.1 lets the client choose).
        if (reply.type != Offer || reply.your_address.is_zero() || reply.server_id.is_zero())
            return;
        m_offered = reply.your_address;
        m_server = reply.server_id;
        m_state = State::Requesting;
        m_attempts = 0;
        send(Request, now_ns);
        schedule_retransmission(now_ns);
        break;
    case State::Requesting:
        if (!reply.server_id.is_zero() && !(reply.server_id == m_server))
            return; // another server's answer
        if (reply.type == Ack && !reply.your_address.is_zero()) {
            bind(reply, now_ns);
        } else if (reply.type == Nak) {
            ++m_stack.m_counters.dhcp_naks;
            restart(now_ns);
        }
        break;
    case State::Renewing:
    case State::Rebinding:
        if (reply.type == Ack && !reply.your_address.is_zero()) {
            bind(reply, now_ns);
        } else if (reply.type == Nak) {
            // 4.4.5: "If the client receives a DHCPNAK message, it cannot
            // extend the lease ... and MUST stop using it."
            ++m_stack.m_counters.dhcp_naks;
            m_stack.unconfigure();
            restart(now_ns);
        }
        break;
    default:
        break;
    }
}

} // namespace aisos::net
