#include "lib/net/Stack.h"

#include "lib/net/Checksum.h"
#include "lib/net/DhcpClient.h"
#include "lib/net/Wire.h"

namespace aisos::net {

namespace EtherType {
constexpr uint16_t Ipv4 = 0x0800;
constexpr uint16_t Arp = 0x0806;
constexpr uint16_t Vlan = 0x8100;
constexpr uint16_t QinQ = 0x88a8;
}

constexpr size_t ethernet_header_size = 14;
constexpr size_t ipv4_header_size = 20;
constexpr size_t minimum_frame_size = 60; // without FCS
constexpr uint8_t default_ttl = 64;
constexpr uint64_t icmp_token_interval_ns = 1'000'000; // one reply per ms sustained
constexpr uint64_t icmp_token_burst = 100;

ErrorOr<Stack*> Stack::create(Allocator& allocator, FrameTransmitter& transmitter, const InterfaceConfig& config)
{
    if (config.mtu < 576 || config.mtu > 9000)
        return Error::invalid("MTU must be between 576 and 9000");
    if (!config.use_dhcp && (config.address.is_zero() || config.prefix_length > 32))
        return Error::invalid("static configuration needs an address and a prefix length up to 32");
    if (config.tcp_receive_buffer < 2048 || config.tcp_send_buffer < 2048 || config.tcp_receive_buffer > (1u << 30) || config.tcp_send_buffer > (1u << 30))
        return Error::invalid("TCP buffers must be between 2 KiB and 1 GiB");
    if (config.tcp_max_connections == 0 || config.tcp_max_connections > (1u << 20))
        return Error::invalid("TCP connection limit out of range");
    if (config.hostname.size() > 63)
        return Error::invalid("hostname longer than 63 bytes");
    void* memory = TRY(allocator.allocate(sizeof(Stack), alignof(Stack)));
    auto* stack = new (memory) Stack(allocator, transmitter, config);
    auto result = stack->initialize();
    if (result.is_error()) {
        destroy(stack);
        return result.error();
    }
    return stack;
}

ErrorOr<void> Stack::initialize()
{
    if (!m_config.hostname.empty())
        __builtin_memcpy(m_hostname, m_config.hostname.data(), m_config.hostname.size());
    m_config.hostname = std::string_view(m_hostname, m_config.hostname.size());

    m_hash_key = { random(), random() };
    m_isn_key = { random(), random() };
    m_ip_identification = static_cast<uint16_t>(random());
    m_icmp_tokens = icmp_token_burst;

    m_tx_frame = static_cast<uint8_t*>(TRY(m_allocator.allocate(m_config.mtu + ethernet_header_size + 64, 64)));
    size_t pending_frame_size = m_config.mtu + ethernet_header_size;
    m_pending_storage = static_cast<uint8_t*>(TRY(m_allocator.allocate(pending_frame_size * pending_slots, 64)));
    for (size_t i = 0; i < pending_slots; ++i)
        m_pending[i].frame = m_pending_storage + i * pending_frame_size;

    TRY(m_reassembler.initialize(m_allocator, 4));

    size_t buckets = 64;
    while (buckets < m_config.tcp_max_connections * 2)
        buckets *= 2;
    m_buckets = static_cast<TcpSocket**>(TRY(m_allocator.allocate(sizeof(TcpSocket*) * buckets, alignof(TcpSocket*))));
    for (size_t i = 0; i < buckets; ++i)
        m_buckets[i] = nullptr;
    m_bucket_mask = buckets - 1;

    if (m_config.use_dhcp) {
        m_dhcp = TRY(m_allocator.create<DhcpClient>(*this, static_cast<uint32_t>(random())));
        TRY(udp_bind(DhcpClient::client_port, *m_dhcp));
        m_next_deadline = 0; // the first poll sends DHCPDISCOVER
    } else {
        configure(m_config.address, m_config.prefix_length, m_config.gateway, m_config.dns);
    }
    return {};
}

void Stack::destroy(Stack* stack)
{
    if (!stack)
        return;
    stack->destroy_everything();
    Allocator& allocator = stack->m_allocator;
    stack->~Stack();
    allocator.free(stack);
}

void Stack::destroy_everything()
{
    while (m_all_connections)
        free_connection(*m_all_connections);
    while (m_listeners) {
        TcpListener* next = m_listeners->m_next;
        m_allocator.destroy(m_listeners);
        m_listeners = next;
    }
    if (m_dhcp) {
        m_allocator.destroy(m_dhcp);
        m_dhcp = nullptr;
    }
    m_reassembler.release(m_allocator);
    m_allocator.free(m_buckets);
    m_allocator.free(m_pending_storage);
    m_allocator.free(m_tx_frame);
    m_buckets = nullptr;
    m_pending_storage = nullptr;
    m_tx_frame = nullptr;
}

void Stack::configure(Ipv4Address address, uint8_t prefix_length, Ipv4Address gateway, Ipv4Address dns)
{
    bool changed = !m_configured || !(address == m_address);
    m_configured = true;
    m_address = address;
    m_prefix_length = prefix_length > 32 ? 32 : prefix_length;
    m_gateway = gateway;
    m_dns = dns;
    if (changed) {
        // Announce the address (gratuitous ARP) at the next poll, when the
        // clock is known.
        m_gratuitous_arp_due = true;
        m_next_deadline = 0;
    }
}

void Stack::unconfigure()
{
    m_configured = false;
    m_address = {};
    m_prefix_length = 0;
    m_gateway = {};
    m_dns = {};
}

bool Stack::is_local_broadcast(Ipv4Address address) const
{
    if (address.is_broadcast())
        return true;
    if (!m_configured || m_prefix_length >= 31)
        return false;
    uint32_t mask = prefix_mask(m_prefix_length);
    return (address.value & mask) == (m_address.value & mask) && (address.value & ~mask) == ~mask;
}

// ---------------------------------------------------------------------------
// Input

void Stack::receive(std::span<const uint8_t> frame, uint64_t now_ns, RxChecksum checksum)
{
    m_now = now_ns;
    m_rx_checksum = checksum;
    ++m_counters.frames_in;
    m_counters.bytes_in += frame.size();
    if (frame.size() < ethernet_header_size) {
        ++m_counters.drop_runt;
        return;
    }
    MacAddress destination = MacAddress::from(frame.data());
    if (!(destination == m_config.mac) && !destination.is_broadcast()) {
        ++m_counters.drop_not_for_us;
        return;
    }
    uint16_t type = load_be16(&frame[12]);
    auto payload = frame.subspan(ethernet_header_size);
    switch (type) {
    case EtherType::Ipv4:
        handle_ipv4(payload);
        break;
    case EtherType::Arp:
        handle_arp(payload);
        break;
    case EtherType::Vlan:
    case EtherType::QinQ:
        // This interface is not a VLAN member: tagged frames are not ours.
        ++m_counters.drop_vlan;
        break;
    default:
        ++m_counters.drop_unknown_ethertype;
        break;
    }
    reap_connections();
}

void Stack::handle_arp(std::span<const uint8_t> packet)
{
    ++m_counters.arp_in;
    // Ethernet/IPv4 ARP is 28 bytes (RFC 826); anything else is not for us.
    if (packet.size() < 28 || load_be16(&packet[0]) != 1 || load_be16(&packet[2]) != EtherType::Ipv4 || packet[4] != 6 || packet[5] != 4) {
        ++m_counters.arp_malformed;
        return;
    }
    uint16_t operation = load_be16(&packet[6]);
    MacAddress sender_mac = MacAddress::from(&packet[8]);
    Ipv4Address sender_ip { load_be32(&packet[14]) };
    Ipv4Address target_ip { load_be32(&packet[24]) };
    if ((operation != 1 && operation != 2) || sender_mac.is_group()) {
        ++m_counters.arp_malformed;
        return;
    }
    if (sender_ip.is_zero() || !m_configured) // ARP probes (RFC 5227) teach nothing
        return;

    // RFC 826 "Packet Reception": update an existing entry for the sender;
    // create one only when the packet is addressed to us.
    bool for_us = target_ip == m_address;
    bool evicted = false;
    bool was_waiting = m_arp.learn(sender_ip, sender_mac, for_us ? ArpCache::Merge::CreateIfMissing : ArpCache::Merge::UpdateOnly, m_now, evicted);
    if (evicted)
        ++m_counters.arp_cache_evictions;
    if (was_waiting)
        flush_pending(sender_ip, sender_mac);
    if (for_us && operation == 1) {
        send_arp(2, sender_mac, sender_ip, sender_mac);
        ++m_counters.arp_replies_sent;
    }
}

void Stack::handle_ipv4(std::span<const uint8_t> packet)
{
    ++m_counters.ip_in;
    if (packet.size() < ipv4_header_size || (packet[0] >> 4) != 4) {
        ++m_counters.ip_malformed;
        return;
    }
    size_t header_length = static_cast<size_t>(packet[0] & 0xf) * 4;
    size_t total_length = load_be16(&packet[2]);
    if (header_length < ipv4_header_size || total_length < header_length || total_length > packet.size()) {
        ++m_counters.ip_malformed;
        return;
    }
    // Options (header_length > 20) are covered by the checksum and skipped.
    if (internet_checksum(packet.first(header_length)) != 0) {
        ++m_counters.ip_bad_checksum;
        return;
    }
    packet = packet.first(total_length); // drop Ethernet padding
    Ipv4Address source { load_be32(&packet[12]) };
    Ipv4Address destination { load_be32(&packet[16]) };
    uint8_t protocol = packet[9];

    bool for_us = (m_configured && destination == m_address) || is_local_broadcast(destination);
    // Before a lease is bound, a DHCP server may unicast to the offered
    // address: accept UDP then and let the DHCP client filter by xid.
    if (!for_us && !m_configured && protocol == IpProtocol::Udp)
        for_us = true;
    if (!for_us) {
        ++m_counters.ip_not_for_us;
        return;
    }
    if (source.is_broadcast() || source.is_multicast()) {
        ++m_counters.ip_malformed;
        return;
    }

    uint16_t fragment = load_be16(&packet[6]);
    bool more_fragments = (fragment & 0x2000) != 0;
    size_t fragment_offset = static_cast<size_t>(fragment & 0x1fff) * 8;
    auto payload = packet.subspan(header_length);
    if (more_fragments || fragment_offset != 0) {
        Reassembler::Key key { source.value, destination.value, load_be16(&packet[4]), protocol };
        auto whole = m_reassembler.add(key, fragment_offset, more_fragments, payload, m_now, m_counters);
        if (!whole) {
            note_deadline(m_now + 1'000'000'000ull); // check the reassembly lifetime
            return;
        }
        payload = *whole;
    }
    deliver_ipv4(packet.data(), source, destination, protocol, payload);
}

void Stack::deliver_ipv4(const uint8_t*, Ipv4Address source, Ipv4Address destination, uint8_t protocol, std::span<const uint8_t> payload)
{
    switch (protocol) {
    case IpProtocol::Icmp:
        handle_icmp(source, destination, payload);
        break;
    case IpProtocol::Udp:
        handle_udp(source, destination, payload);
        break;
    case IpProtocol::Tcp:
        handle_tcp(source, destination, payload);
        break;
    default:
        ++m_counters.ip_unknown_protocol;
        break;
    }
}

void Stack::handle_icmp(Ipv4Address source, Ipv4Address destination, std::span<const uint8_t> message)
{
    ++m_counters.icmp_in;
    if (message.size() < 8) {
        ++m_counters.icmp_malformed;
        return;
    }
    if (internet_checksum(message) != 0) {
        ++m_counters.icmp_bad_checksum;
        return;
    }
    if (message[0] != 8 || message[1] != 0) // only echo requests need an answer
        return;
    ++m_counters.icmp_echo_requests;
    // RFC 1122 3.2.2.6: echo requests to a broadcast address may be ignored.
    if (!m_configured || !(destination == m_address))
        return;
    if (message.size() > ip_payload_capacity()) {
        ++m_counters.ip_too_big;
        return;
    }
    // Token bucket: a ping flood cannot keep the NIC's TX ring full.
    uint64_t refill = (m_now - m_icmp_refill_ns) / icmp_token_interval_ns;
    if (refill) {
        m_icmp_tokens = m_icmp_tokens + refill > icmp_token_burst ? icmp_token_burst : m_icmp_tokens + refill;
        m_icmp_refill_ns = m_now;
    }
    if (m_icmp_tokens == 0) {
        ++m_counters.icmp_rate_limited;
        return;
    }
    --m_icmp_tokens;
    uint8_t* reply = ip_payload();
    __builtin_memcpy(reply, message.data(), message.size());
    reply[0] = 0; // echo reply
    store_be16(reply + 2, 0);
    store_be16(reply + 2, internet_checksum({ reply, message.size() }));
    if (send_ipv4(source, IpProtocol::Icmp, message.size()) != SendResult::Dropped)
        ++m_counters.icmp_echo_replies_sent;
}

void Stack::handle_udp(Ipv4Address source, Ipv4Address destination, std::span<const uint8_t> datagram)
{
    ++m_counters.udp_in;
    if (datagram.size() < 8) {
        ++m_counters.udp_malformed;
        return;
    }
    size_t length = load_be16(&datagram[4]);
    if (length < 8 || length > datagram.size()) {
        ++m_counters.udp_malformed;
        return;
    }
    datagram = datagram.first(length);
    // RFC 768: a zero checksum means the sender computed none.
    if (load_be16(&datagram[6]) != 0 && m_rx_checksum == RxChecksum::Unverified) {
        ChecksumAccumulator sum;
        add_pseudo_header(sum, source.value, destination.value, IpProtocol::Udp, static_cast<uint16_t>(length));
        sum.add(datagram);
        if (sum.finish() != 0) {
            ++m_counters.udp_bad_checksum;
            return;
        }
    }
    uint16_t source_port = load_be16(&datagram[0]);
    uint16_t destination_port = load_be16(&datagram[2]);
    for (auto& binding : m_udp) {
        if (binding.receiver && binding.port == destination_port) {
            binding.receiver->datagram_received(source, source_port, destination, datagram.subspan(8), m_now);
            return;
        }
    }
    ++m_counters.udp_no_socket;
}

// ---------------------------------------------------------------------------
// UDP API

ErrorOr<void> Stack::udp_bind(uint16_t port, UdpReceiver& receiver)
{
    if (port == 0)
        return Error::invalid("UDP port 0");
    UdpBinding* free_binding = nullptr;
    for (auto& binding : m_udp) {
        if (binding.receiver && binding.port == port)
            return Error { ErrorCode::Exists, "UDP port already bound" };
        if (!binding.receiver && !free_binding)
            free_binding = &binding;
    }
    if (!free_binding)
        return Error { ErrorCode::NoSpace, "too many UDP bindings" };
    *free_binding = { port, &receiver };
    return {};
}

void Stack::udp_unbind(uint16_t port)
{
    for (auto& binding : m_udp) {
        if (binding.receiver && binding.port == port)
            binding = {};
    }
}

ErrorOr<void> Stack::udp_send(uint16_t source_port, Ipv4Address destination, uint16_t destination_port, std::span<const uint8_t> payload)
{
    size_t length = payload.size() + 8;
    if (length > ip_payload_capacity())
        return Error { ErrorCode::Overflow, "UDP datagram larger than the MTU" };
    uint8_t* out = ip_payload();
    store_be16(out + 0, source_port);
    store_be16(out + 2, destination_port);
    store_be16(out + 4, static_cast<uint16_t>(length));
    store_be16(out + 6, 0);
    if (!payload.empty())
        __builtin_memcpy(out + 8, payload.data(), payload.size());
    ChecksumAccumulator sum;
    add_pseudo_header(sum, m_configured ? m_address.value : 0, destination.value, IpProtocol::Udp, static_cast<uint16_t>(length));
    sum.add({ out, length });
    uint16_t checksum = sum.finish();
    store_be16(out + 6, checksum == 0 ? 0xffff : checksum);
    switch (send_ipv4(destination, IpProtocol::Udp, length)) {
    case SendResult::Sent:
    case SendResult::Queued:
        ++m_counters.udp_out;
        return {};
    case SendResult::Busy:
        return Error { ErrorCode::Busy, "transmit ring full" };
    case SendResult::Dropped:
        break;
    }
    return Error { ErrorCode::NotFound, "no route to the destination" };
}

// ---------------------------------------------------------------------------
// Output

Stack::SendResult Stack::transmit_frame(uint8_t* frame, size_t length)
{
    if (length < minimum_frame_size) {
        __builtin_memset(frame + length, 0, minimum_frame_size - length);
        length = minimum_frame_size;
    }
    auto result = m_transmitter.transmit({ frame, length });
    if (result.is_error()) {
        if (result.error().code() == ErrorCode::Busy) {
            ++m_counters.drop_ring_full;
            return SendResult::Busy;
        }
        ++m_counters.transmit_errors;
        return SendResult::Dropped;
    }
    ++m_counters.frames_out;
    m_counters.bytes_out += length;
    return SendResult::Sent;
}

Stack::SendResult Stack::send_ipv4(Ipv4Address destination, uint8_t protocol, size_t payload_length)
{
    if (payload_length > ip_payload_capacity()) {
        ++m_counters.ip_too_big;
        return SendResult::Dropped;
    }
    uint8_t* frame = m_tx_frame;
    uint8_t* ip = frame + ethernet_header_size;
    size_t total = ipv4_header_size + payload_length;
    ip[0] = 0x45;
    ip[1] = 0;
    store_be16(ip + 2, static_cast<uint16_t>(total));
    store_be16(ip + 4, m_ip_identification++);
    store_be16(ip + 6, 0);
    ip[8] = default_ttl;
    ip[9] = protocol;
    store_be16(ip + 10, 0);
    store_be32(ip + 12, m_configured ? m_address.value : 0);
    store_be32(ip + 16, destination.value);
    store_be16(ip + 10, internet_checksum({ ip, ipv4_header_size }));
    m_config.mac.store(frame + 6);
    store_be16(frame + 12, EtherType::Ipv4);
    size_t frame_length = ethernet_header_size + total;

    // Routing: broadcast, on-link, or through the gateway.
    if (is_local_broadcast(destination)) {
        MacAddress::broadcast().store(frame);
        ++m_counters.ip_out;
        return transmit_frame(frame, frame_length);
    }
    if (!m_configured || destination.is_zero() || destination.is_multicast()) {
        ++m_counters.ip_no_route;
        return SendResult::Dropped;
    }
    uint32_t mask = prefix_mask(m_prefix_length);
    Ipv4Address next_hop = destination;
    if ((destination.value & mask) != (m_address.value & mask)) {
        if (m_gateway.is_zero()) {
            ++m_counters.ip_no_route;
            return SendResult::Dropped;
        }
        next_hop = m_gateway;
    }
    ++m_counters.ip_out;
    bool refresh = false;
    if (const MacAddress* mac = m_arp.lookup(next_hop, m_now, refresh)) {
        mac->store(frame);
        auto result = transmit_frame(frame, frame_length);
        if (refresh) {
            // The entry is old: confirm it (the frame above already used it).
            send_arp(1, MacAddress {}, next_hop, MacAddress::broadcast());
            ++m_counters.arp_requests_sent;
            if (ArpCache::Entry* entry = m_arp.find(next_hop)) {
                entry->requests_sent = 1;
                entry->retry_ns = m_now + ArpCache::retry_ns;
                note_deadline(entry->retry_ns);
            }
        }
        return result;
    }

    // Park the frame until ARP answers (bounded per address and overall).
    size_t waiting = 0;
    PendingFrame* slot = nullptr;
    for (auto& pending : m_pending) {
        if (pending.in_use && pending.next_hop == next_hop)
            ++waiting;
        else if (!pending.in_use && !slot)
            slot = &pending;
    }
    bool evicted = false;
    ArpCache::Entry& entry = m_arp.start_resolution(next_hop, m_now, evicted);
    if (evicted)
        ++m_counters.arp_cache_evictions;
    SendResult result = SendResult::Queued;
    if (!slot || waiting >= max_pending_per_address) {
        ++m_counters.arp_queue_full;
        result = SendResult::Dropped;
    } else {
        slot->in_use = true;
        slot->next_hop = next_hop;
        slot->length = static_cast<uint16_t>(frame_length);
        __builtin_memcpy(slot->frame, frame, frame_length);
    }
    if (entry.requests_sent == 0) {
        send_arp(1, MacAddress {}, next_hop, MacAddress::broadcast());
        ++m_counters.arp_requests_sent;
        entry.requests_sent = 1;
        entry.expires_ns = m_now + ArpCache::retry_ns;
        note_deadline(entry.expires_ns);
    }
    return result;
}

void Stack::send_arp(uint16_t operation, const MacAddress& target_mac, Ipv4Address target_ip, const MacAddress& ethernet_destination)
{
    uint8_t frame[minimum_frame_size] {};
    ethernet_destination.store(frame);
    m_config.mac.store(frame + 6);
    store_be16(frame + 12, EtherType::Arp);
    uint8_t* arp = frame + ethernet_header_size;
    store_be16(arp + 0, 1); // Ethernet
    store_be16(arp + 2, EtherType::Ipv4);
    arp[4] = 6;
    arp[5] = 4;
    store_be16(arp + 6, operation);
    m_config.mac.store(arp + 8);
    store_be32(arp + 14, m_address.value);
    target_mac.store(arp + 18);
    store_be32(arp + 24, target_ip.value);
    transmit_frame(frame, sizeof(frame));
}

void Stack::send_gratuitous_arp()
{
    // RFC 5227 section 3: an ARP announcement is a request with sender and
    // target IP both set to our address.
    send_arp(1, MacAddress {}, m_address, MacAddress::broadcast());
    ++m_counters.arp_gratuitous_sent;
}

void Stack::flush_pending(Ipv4Address next_hop, const MacAddress& mac)
{
    for (auto& pending : m_pending) {
        if (!pending.in_use || !(pending.next_hop == next_hop))
            continue;
        mac.store(pending.frame);
        transmit_frame(pending.frame, pending.length);
        pending.in_use = false;
    }
}

void Stack::drop_pending(Ipv4Address next_hop)
{
    for (auto& pending : m_pending) {
        if (pending.in_use && pending.next_hop == next_hop) {
            pending.in_use = false;
            ++m_counters.arp_resolution_failed;
        }
    }
}

void Stack::arp_timers(uint64_t now_ns)
{
    for (auto& entry : m_arp) {
        if (entry.state == ArpCache::State::Reachable && entry.requests_sent > 0) {
            // Refreshing an expired entry.
            if (now_ns < entry.retry_ns) {
                note_deadline(entry.retry_ns);
            } else if (entry.requests_sent >= ArpCache::max_requests) {
                m_arp.remove(entry);
            } else {
                send_arp(1, MacAddress {}, entry.address, MacAddress::broadcast());
                ++m_counters.arp_requests_sent;
                ++entry.requests_sent;
                entry.retry_ns = now_ns + ArpCache::retry_ns;
                note_deadline(entry.retry_ns);
            }
            continue;
        }
        if (entry.state != ArpCache::State::Incomplete)
            continue;
        if (entry.requests_sent == 0) {
            // Started without sending (should not happen); send now.
            entry.expires_ns = now_ns;
        }
        if (now_ns < entry.expires_ns) {
            note_deadline(entry.expires_ns);
            continue;
        }
        if (entry.requests_sent >= ArpCache::max_requests) {
            drop_pending(entry.address);
            m_arp.remove(entry);
            continue;
        }
        send_arp(1, MacAddress {}, entry.address, MacAddress::broadcast());
        ++m_counters.arp_requests_sent;
        ++entry.requests_sent;
        entry.expires_ns = now_ns + ArpCache::retry_ns;
        note_deadline(entry.expires_ns);
    }
}

// ---------------------------------------------------------------------------
// Timers

void Stack::poll(uint64_t now_ns)
{
    m_now = now_ns;
    if (m_blocked_outputs) {
        // The NIC ring was full: let blocked connections try again.
        m_blocked_outputs = 0;
        for (TcpSocket* socket = m_all_connections; socket; socket = socket->m_all_next) {
            if (socket->m_output_blocked) {
                socket->m_output_blocked = false;
                ++m_counters.transmit_retries;
                socket->output(now_ns);
            }
        }
    }
    if (now_ns < m_next_deadline) {
        reap_connections();
        return;
    }
    m_next_deadline = ~0ull;
    if (m_configured && m_gratuitous_arp_due) {
        m_gratuitous_arp_due = false;
        send_gratuitous_arp();
    }
    if (m_dhcp)
        m_dhcp->poll(now_ns);
    arp_timers(now_ns);
    m_reassembler.expire(now_ns, m_counters);
    if (m_reassembler.datagrams_in_progress())
        note_deadline(now_ns + 1'000'000'000ull);
    for (TcpSocket* socket = m_all_connections; socket;) {
        TcpSocket* next = socket->m_all_next;
        socket->handle_timers(now_ns);
        note_deadline(socket->next_deadline());
        socket = next;
    }
    reap_connections();
}

} // namespace aisos::net
