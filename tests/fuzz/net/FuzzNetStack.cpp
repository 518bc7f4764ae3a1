// libFuzzer target: aisos::net::Stack fed with a script of records.
//
//   [0] config byte: bit 0 DHCP instead of static, bits 1-3 allocation
//       failure budget (0 = never fail), bits 4-5 receive buffer size
//   then records: [kind][length, 16-bit big-endian][length bytes]
//     kind 0: a raw Ethernet frame
//     kind 1: an IPv4 packet: the harness adds Ethernet and IPv4 headers
//             (fields from the first bytes) with a valid header checksum
//     kind 2: a TCP segment with valid checksums; sequence/ack may be
//             relative to what the stack last sent, so handshakes complete;
//             it may answer the last active open (control bit 0x20)
//     kind 3: a UDP datagram with a valid checksum (DHCP replies land here)
//     kind 4: advance the virtual clock and poll
//     kind 5: a socket call (accept, connect, read, write, close, abort, release, options)
//
// Invariants checked: every transmitted frame fits the MTU and has valid
// IPv4/TCP/UDP/ICMP checksums; destroying the stack frees every allocation.
#include "host/MallocAllocator.h"
#include "lib/net/Checksum.h"
#include "lib/net/DhcpClient.h"
#include "lib/net/Stack.h"
#include "lib/net/TcpSegment.h"
#include "lib/net/Wire.h"

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <vector>

using namespace aisos;
using namespace aisos::net;

namespace {

constexpr MacAddress our_mac { { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } };
constexpr MacAddress peer_mac { { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 } };
constexpr Ipv4Address our_ip = Ipv4Address::from_octets(10, 0, 2, 15);
constexpr Ipv4Address peers[] = {
    Ipv4Address::from_octets(10, 0, 2, 2),
    Ipv4Address::from_octets(10, 0, 2, 3),
    Ipv4Address::from_octets(192, 168, 1, 1),
    Ipv4Address::from_octets(10, 0, 2, 255),
};

uint64_t fuzz_random(void* context)
{
    auto* state = static_cast<uint64_t*>(context);
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return *state;
}

class CheckingTransmitter final : public FrameTransmitter {
public:
    ErrorOr<void> transmit(std::span<const uint8_t> frame) override
    {
        if (frame.size() < 60 || frame.size() > 1514)
            __builtin_trap();
        if (load_be16(&frame[12]) == 0x0800) {
            auto ip = frame.subspan(14);
            size_t header = (ip[0] & 0xf) * 4u;
            size_t total = load_be16(&ip[2]);
            if (total > ip.size() || internet_checksum(ip.first(header)) != 0)
                __builtin_trap();
            auto l4 = ip.subspan(header, total - header);
            uint8_t protocol = ip[9];
            if (protocol == 6 || (protocol == 17 && load_be16(&l4[6]) != 0)) {
                ChecksumAccumulator sum;
                add_pseudo_header(sum, load_be32(&ip[12]), load_be32(&ip[16]), protocol, static_cast<uint16_t>(l4.size()));
                sum.add(l4);
                if (sum.finish() != 0)
                    __builtin_trap();
            }
            if (protocol == 6) {
                auto segment = parse_tcp_segment(l4);
                if (segment.is_error())
                    __builtin_trap();
                last_sequence = segment.value().sequence + segment.value().length();
                last_ack = segment.value().acknowledgment;
            }
            if (protocol == 1 && internet_checksum(l4) != 0)
                __builtin_trap();
        }
        if (busy)
            return Error { ErrorCode::Busy, "ring full" };
        return {};
    }
    uint32_t last_sequence { 0 };
    uint32_t last_ack { 0 };
    bool busy { false };
};

struct Reader {
    const uint8_t* data;
    size_t size;
    size_t offset { 0 };
    uint8_t byte() { return offset < size ? data[offset++] : 0; }
    uint16_t u16() { return static_cast<uint16_t>((byte() << 8) | byte()); }
    uint32_t u32() { return (static_cast<uint32_t>(u16()) << 16) | u16(); }
    bool done() const { return offset >= size; }
};

void put_ethernet(std::vector<uint8_t>& frame, uint16_t type)
{
    frame.resize(14);
    our_mac.store(frame.data());
    peer_mac.store(frame.data() + 6);
    store_be16(&frame[12], type);
}

void append_ipv4(std::vector<uint8_t>& frame, Ipv4Address source, Ipv4Address destination, uint8_t protocol, uint16_t fragment, uint16_t id, const std::vector<uint8_t>& payload)
{
    size_t start = frame.size();
    frame.resize(start + 20);
    uint8_t* ip = &frame[start];
    ip[0] = 0x45;
    store_be16(ip + 2, static_cast<uint16_t>(20 + payload.size()));
    store_be16(ip + 4, id);
    store_be16(ip + 6, fragment);
    ip[8] = 64;
    ip[9] = protocol;
    store_be32(ip + 12, source.value);
    store_be32(ip + 16, destination.value);
    store_be16(ip + 10, internet_checksum({ ip, 20 }));
    frame.insert(frame.end(), payload.begin(), payload.end());
}

void fix_l4_checksum(std::vector<uint8_t>& l4, size_t checksum_offset, Ipv4Address source, Ipv4Address destination, uint8_t protocol)
{
    if (l4.size() < checksum_offset + 2)
        return;
    l4[checksum_offset] = l4[checksum_offset + 1] = 0;
    ChecksumAccumulator sum;
    add_pseudo_header(sum, source.value, destination.value, protocol, static_cast<uint16_t>(l4.size()));
    sum.add(l4);
    store_be16(&l4[checksum_offset], sum.finish());
}

}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    Reader input { data, size };
    uint8_t setup = input.byte();
    MallocAllocator allocator;
    CheckingTransmitter transmitter;
    uint64_t seed = 1;
    InterfaceConfig config;
    config.mac = our_mac;
    config.use_dhcp = setup & 1;
    config.address = our_ip;
    config.prefix_length = 24;
    config.gateway = peers[0];
    config.hostname = "fuzz";
    config.tcp_receive_buffer = 2048u << ((setup >> 4) & 3);
    config.tcp_send_buffer = 4096;
    config.tcp_syn_backlog = 4;
    config.tcp_max_connections = 8;
    config.random = fuzz_random;
    config.random_context = &seed;
    uint8_t budget = (setup >> 1) & 7;
    if (budget)
        allocator.fail_after(budget * 3);
    auto created = Stack::create(allocator, transmitter, config);
    if (created.is_error())
        return 0;
    allocator.never_fail();
    Stack* stack = created.value();
    uint64_t now = 1'000'000'000;
    stack->poll(now);
    // The neighbours introduce themselves so replies need no ARP round trip
    // (the fuzzer would otherwise have to answer ARP to get anywhere).
    for (int i = 0; i < 2; ++i) {
        std::vector<uint8_t> arp;
        put_ethernet(arp, 0x0806);
        uint8_t body[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };
        peer_mac.store(body + 8);
        store_be32(body + 14, peers[i].value);
        store_be32(body + 24, our_ip.value);
        arp.insert(arp.end(), body, body + 28);
        stack->receive(arp, now);
    }
    TcpListener* listener = nullptr;
    if (auto result = stack->tcp_listen(80, 4); !result.is_error())
        listener = result.value();
    std::vector<TcpSocket*> sockets;
    size_t connect_peer = 0;
    uint16_t connect_remote_port = 0, connect_local_port = 0;

    while (!input.done()) {
        uint8_t kind = input.byte() % 6;
        size_t length = input.u16();
        if (length > input.size - input.offset)
            length = input.size - input.offset;
        Reader record { input.data + input.offset, length };
        input.offset += length;
        std::vector<uint8_t> frame;
        switch (kind) {
        case 0:
            frame.assign(record.data, record.data + record.size);
            stack->receive(frame, now);
            break;
        case 1: {
            uint8_t protocol = record.byte();
            uint16_t fragment = record.u16();
            uint16_t id = record.u16() & 3;
            Ipv4Address source = peers[record.byte() & 3];
            std::vector<uint8_t> payload(record.data + record.offset, record.data + record.size);
            put_ethernet(frame, 0x0800);
            append_ipv4(frame, source, our_ip, protocol, fragment, id, payload);
            stack->receive(frame, now);
            break;
        }
        case 2: {
            uint8_t control = record.byte();
            Ipv4Address source = peers[control & 1];
            std::vector<uint8_t> segment(20);
            store_be16(&segment[0], static_cast<uint16_t>(40000 + ((control >> 1) & 3)));
            store_be16(&segment[2], (control & 0x08) ? record.u16() : 80);
            if ((control & 0x20) && connect_local_port) { // an answer to our active open
                source = peers[connect_peer];
                store_be16(&segment[0], connect_remote_port);
                store_be16(&segment[2], connect_local_port);
            }
            uint32_t sequence = record.u32();
            uint32_t ack = record.u32();
            if (control & 0x10) { // relative to the stack's last segment
                sequence = transmitter.last_ack + (sequence & 0xffff) - 0x100;
                ack = transmitter.last_sequence + (ack & 0xffff) - 0x100;
            }
            store_be32(&segment[4], sequence);
            store_be32(&segment[8], ack);
            uint8_t option_words = record.byte() & 7;
            segment[12] = static_cast<uint8_t>((5 + option_words) << 4);
            segment[13] = record.byte();
            store_be16(&segment[14], record.u16());
            for (int i = 0; i < option_words * 4; ++i)
                segment.push_back(record.byte());
            segment.insert(segment.end(), record.data + record.offset, record.data + record.size);
            fix_l4_checksum(segment, 16, source, our_ip, 6);
            put_ethernet(frame, 0x0800);
            append_ipv4(frame, source, our_ip, 6, 0, 1, segment);
            stack->receive(frame, now);
            break;
        }
        case 3: {
            uint8_t control = record.byte();
            Ipv4Address source = peers[control & 3];
            bool patch_xid = control & 4; // a reply to the DHCP client's transaction
            uint16_t source_port = (record.byte() & 1) ? 67 : record.u16();
            uint16_t destination_port = (record.byte() & 1) ? 68 : record.u16();
            Ipv4Address destination = (record.byte() & 1) ? Ipv4Address::broadcast() : our_ip;
            std::vector<uint8_t> datagram(8);
            store_be16(&datagram[0], source_port);
            store_be16(&datagram[2], destination_port);
            datagram.insert(datagram.end(), record.data + record.offset, record.data + record.size);
            if (patch_xid && stack->dhcp() && datagram.size() >= 16)
                store_be32(&datagram[12], stack->dhcp()->xid());
            store_be16(&datagram[4], static_cast<uint16_t>(datagram.size()));
            fix_l4_checksum(datagram, 6, source, destination, 17);
            put_ethernet(frame, 0x0800);
            append_ipv4(frame, source, destination, 17, 0, 1, datagram);
            stack->receive(frame, now);
            break;
        }
        case 4: {
            uint32_t step = record.u32();
            now += static_cast<uint64_t>(step) * 1000; // up to ~71 minutes
            transmitter.busy = record.byte() & 1;
            stack->poll(now);
            break;
        }
        case 5: {
            uint8_t action = record.byte();
            if (listener) {
                if (TcpSocket* socket = listener->accept())
                    sockets.push_back(socket);
            }
            if (action >= 0xf0 && sockets.size() < 8) {
                // Active open towards a peer; its answers come as kind 2
                // records from that peer's port 80... or any other.
                if (auto connected = stack->tcp_connect(peers[action & 1], (action & 2) ? 80 : 40000); !connected.is_error()) {
                    sockets.push_back(connected.value());
                    connect_peer = action & 1;
                    connect_remote_port = connected.value()->remote_port();
                    connect_local_port = connected.value()->local_port();
                }
                break;
            }
            if (sockets.empty())
                break;
            size_t index = record.byte() % sockets.size();
            TcpSocket* socket = sockets[index];
            uint8_t buffer[3000];
            switch (action % 7) {
            case 0:
                socket->receive({ buffer, static_cast<size_t>(record.u16() % sizeof(buffer)) });
                break;
            case 1: {
                size_t count = record.u16() % sizeof(buffer);
                __builtin_memset(buffer, 'x', count);
                socket->send({ buffer, count });
                break;
            }
            case 2:
                socket->close();
                break;
            case 3:
                socket->abort();
                break;
            case 4:
                socket->set_nagle((record.byte() & 1) ? Nagle::Disabled : Nagle::Enabled);
                socket->set_keepalive(record.u16(), record.u16() % 5000, record.byte() % 10);
                break;
            default:
                socket->release();
                sockets.erase(sockets.begin() + static_cast<long>(index));
                break;
            }
            break;
        }
        }
        if (!stack->invariants_hold())
            __builtin_trap();
    }
    if (std::getenv("FUZZ_NET_VERBOSE")) {
        auto& c = stack->counters();
        std::fprintf(stderr, "opened %lu bytes in %lu out %lu ooo %lu resets %lu dhcp acks %lu echo %lu reassembled %lu configured %d\n", (unsigned long)c.tcp_connections_opened,
            (unsigned long)c.tcp_bytes_received, (unsigned long)c.tcp_bytes_sent, (unsigned long)c.tcp_out_of_order_segments, (unsigned long)c.tcp_connections_reset,
            (unsigned long)c.dhcp_acks, (unsigned long)c.icmp_echo_replies_sent, (unsigned long)c.fragments_reassembled, stack->is_configured());
    }
    // Let every timer run out, then tear down.
    for (TcpSocket* socket : sockets)
        socket->release();
    for (int i = 0; i < 40; ++i) {
        now += 30'000'000'000ull;
        stack->poll(now);
    }
    Stack::destroy(stack);
    if (allocator.live_allocations() != 0)
        __builtin_trap();
    return 0;
}
