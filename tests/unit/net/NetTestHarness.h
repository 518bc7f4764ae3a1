#pragma once

// Test scaffolding for packet-level tests of aisos::net::Stack: a recording
// FrameTransmitter, frame builders (Ethernet/ARP/IPv4/ICMP/UDP/TCP) and a
// parser for what the stack sent. The host's checksum helpers are
// re-implemented here independently (byte-by-byte) so a checksum bug in
// the stack cannot cancel itself out.

#include "host/MallocAllocator.h"
#include "lib/net/Stack.h"
#include "lib/net/TcpSegment.h"
#include "lib/net/Wire.h"

#include <cstring>
#include <deque>
#include <gtest/gtest.h>
#include <optional>
#include <vector>

namespace aisos::net::test {

using Bytes = std::vector<uint8_t>;

inline constexpr MacAddress stack_mac { { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } };
inline constexpr MacAddress peer_mac { { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 } };
inline constexpr Ipv4Address stack_ip = Ipv4Address::from_octets(10, 0, 2, 15);
inline constexpr Ipv4Address peer_ip = Ipv4Address::from_octets(10, 0, 2, 2); // on-link peer (also the gateway)
inline constexpr Ipv4Address remote_ip = Ipv4Address::from_octets(192, 168, 7, 9); // off-link, via gateway

inline uint64_t test_random(void* context)
{
    // splitmix64
    auto* state = static_cast<uint64_t*>(context);
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

class RecordingTransmitter final : public FrameTransmitter {
public:
    ErrorOr<void> transmit(std::span<const uint8_t> frame) override
    {
        if (busy_remaining > 0) {
            --busy_remaining;
            return Error { ErrorCode::Busy, "ring full" };
        }
        frames.emplace_back(frame.begin(), frame.end());
        return {};
    }
    std::vector<Bytes> take()
    {
        std::vector<Bytes> out(frames.begin(), frames.end());
        frames.clear();
        return out;
    }
    std::deque<Bytes> frames;
    int busy_remaining { 0 };
};

// Reference Internet checksum, written the slow obvious way.
inline uint16_t reference_checksum(const Bytes& data, uint32_t initial = 0)
{
    uint32_t sum = initial;
    for (size_t i = 0; i + 1 < data.size(); i += 2)
        sum += (data[i] << 8) | data[i + 1];
    if (data.size() & 1)
        sum += data.back() << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

inline uint32_t pseudo_sum(Ipv4Address source, Ipv4Address destination, uint8_t protocol, size_t length)
{
    return (source.value >> 16) + (source.value & 0xffff) + (destination.value >> 16) + (destination.value & 0xffff) + protocol + static_cast<uint32_t>(length);
}

inline void put16(Bytes& b, uint16_t v)
{
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}
inline void put32(Bytes& b, uint32_t v)
{
    put16(b, static_cast<uint16_t>(v >> 16));
    put16(b, static_cast<uint16_t>(v));
}
inline void put_mac(Bytes& b, const MacAddress& mac) { b.insert(b.end(), mac.bytes.begin(), mac.bytes.end()); }

inline Bytes ethernet(const MacAddress& destination, const MacAddress& source, uint16_t type, const Bytes& payload)
{
    Bytes frame;
    put_mac(frame, destination);
    put_mac(frame, source);
    put16(frame, type);
    frame.insert(frame.end(), payload.begin(), payload.end());
    return frame;
}

inline Bytes arp_packet(uint16_t operation, const MacAddress& sender_mac, Ipv4Address sender_ip, const MacAddress& target_mac, Ipv4Address target_ip)
{
    Bytes p;
    put16(p, 1);
    put16(p, 0x0800);
    p.push_back(6);
    p.push_back(4);
    put16(p, operation);
    put_mac(p, sender_mac);
    put32(p, sender_ip.value);
    put_mac(p, target_mac);
    put32(p, target_ip.value);
    return p;
}

struct Ipv4Fields {
    Ipv4Address source { peer_ip };
    Ipv4Address destination { stack_ip };
    uint8_t protocol { 6 };
    uint16_t identification { 1 };
    bool more_fragments { false };
    uint16_t fragment_offset_bytes { 0 };
    uint8_t ttl { 64 };
    Bytes options;
    bool corrupt_checksum { false };
};

inline Bytes ipv4(const Ipv4Fields& f, const Bytes& payload)
{
    Bytes p;
    size_t header = 20 + f.options.size();
    p.push_back(static_cast<uint8_t>(0x40 | (header / 4)));
    p.push_back(0);
    put16(p, static_cast<uint16_t>(header + payload.size()));
    put16(p, f.identification);
    put16(p, static_cast<uint16_t>((f.more_fragments ? 0x2000 : 0) | (f.fragment_offset_bytes / 8)));
    p.push_back(f.ttl);
    p.push_back(f.protocol);
    put16(p, 0);
    put32(p, f.source.value);
    put32(p, f.destination.value);
    p.insert(p.end(), f.options.begin(), f.options.end());
    uint16_t checksum = reference_checksum(p);
    if (f.corrupt_checksum)
        checksum ^= 0x1234;
    p[10] = static_cast<uint8_t>(checksum >> 8);
    p[11] = static_cast<uint8_t>(checksum);
    p.insert(p.end(), payload.begin(), payload.end());
    return p;
}

inline Bytes ip_frame(const Ipv4Fields& f, const Bytes& payload) { return ethernet(stack_mac, peer_mac, 0x0800, ipv4(f, payload)); }

inline Bytes udp(Ipv4Address source, Ipv4Address destination, uint16_t source_port, uint16_t destination_port, const Bytes& payload, bool with_checksum = true)
{
    Bytes d;
    put16(d, source_port);
    put16(d, destination_port);
    put16(d, static_cast<uint16_t>(8 + payload.size()));
    put16(d, 0);
    d.insert(d.end(), payload.begin(), payload.end());
    if (with_checksum) {
        uint16_t checksum = reference_checksum(d, pseudo_sum(source, destination, 17, d.size()));
        if (checksum == 0)
            checksum = 0xffff;
        d[6] = static_cast<uint8_t>(checksum >> 8);
        d[7] = static_cast<uint8_t>(checksum);
    }
    return d;
}

inline Bytes icmp_echo(uint16_t id, uint16_t sequence, const Bytes& data, uint8_t type = 8)
{
    Bytes m;
    m.push_back(type);
    m.push_back(0);
    put16(m, 0);
    put16(m, id);
    put16(m, sequence);
    m.insert(m.end(), data.begin(), data.end());
    uint16_t checksum = reference_checksum(m);
    m[2] = static_cast<uint8_t>(checksum >> 8);
    m[3] = static_cast<uint8_t>(checksum);
    return m;
}

struct TcpFields {
    uint16_t source_port { 40000 };
    uint16_t destination_port { 80 };
    uint32_t sequence { 0 };
    uint32_t acknowledgment { 0 };
    uint8_t flags { 0 };
    uint16_t window { 65535 };
    std::optional<uint16_t> mss;
    std::optional<uint8_t> window_scale;
    bool sack_permitted { false };
    bool timestamps { false };
    bool corrupt_checksum { false };
};

inline Bytes tcp(Ipv4Address source, Ipv4Address destination, const TcpFields& f, const Bytes& payload)
{
    Bytes options;
    if (f.mss) {
        options.push_back(2);
        options.push_back(4);
        put16(options, *f.mss);
    }
    if (f.sack_permitted) {
        options.push_back(4);
        options.push_back(2);
    }
    if (f.timestamps) {
        options.push_back(8);
        options.push_back(10);
        put32(options, 12345);
        put32(options, 0);
    }
    if (f.window_scale) {
        options.push_back(1);
        options.push_back(3);
        options.push_back(3);
        options.push_back(*f.window_scale);
    }
    while (options.size() % 4)
        options.push_back(0);
    Bytes s;
    put16(s, f.source_port);
    put16(s, f.destination_port);
    put32(s, f.sequence);
    put32(s, f.acknowledgment);
    s.push_back(static_cast<uint8_t>(((20 + options.size()) / 4) << 4));
    s.push_back(f.flags);
    put16(s, f.window);
    put16(s, 0);
    put16(s, 0);
    s.insert(s.end(), options.begin(), options.end());
    s.insert(s.end(), payload.begin(), payload.end());
    uint16_t checksum = reference_checksum(s, pseudo_sum(source, destination, 6, s.size()));
    if (f.corrupt_checksum)
        checksum ^= 0x0101;
    s[16] = static_cast<uint8_t>(checksum >> 8);
    s[17] = static_cast<uint8_t>(checksum);
    return s;
}

// What the stack sent, decoded (and its checksums verified by the reference code).
struct Sent {
    MacAddress destination_mac;
    MacAddress source_mac;
    uint16_t ethertype { 0 };
    Bytes l3; // everything after the Ethernet header, padding removed for IPv4
    // IPv4
    Ipv4Address source;
    Ipv4Address destination;
    uint8_t protocol { 0 };
    Bytes l4;
    // TCP
    std::optional<TcpSegment> tcp;
    Bytes tcp_payload;
};

inline Sent decode(const Bytes& frame)
{
    Sent s;
    EXPECT_GE(frame.size(), 60u) << "frames are padded to the Ethernet minimum";
    s.destination_mac = MacAddress::from(frame.data());
    s.source_mac = MacAddress::from(frame.data() + 6);
    s.ethertype = load_be16(&frame[12]);
    s.l3.assign(frame.begin() + 14, frame.end());
    if (s.ethertype != 0x0800)
        return s;
    size_t total = load_be16(&s.l3[2]);
    EXPECT_LE(total, s.l3.size());
    s.l3.resize(total);
    Bytes header(s.l3.begin(), s.l3.begin() + 20);
    EXPECT_EQ(reference_checksum(header), 0) << "IPv4 header checksum";
    EXPECT_EQ(s.l3[8], 64) << "TTL";
    s.source = { load_be32(&s.l3[12]) };
    s.destination = { load_be32(&s.l3[16]) };
    s.protocol = s.l3[9];
    s.l4.assign(s.l3.begin() + 20, s.l3.end());
    if (s.protocol == 6) {
        EXPECT_EQ(reference_checksum(s.l4, pseudo_sum(s.source, s.destination, 6, s.l4.size())), 0) << "TCP checksum";
        auto parsed = parse_tcp_segment(s.l4);
        EXPECT_FALSE(parsed.is_error());
        if (!parsed.is_error()) {
            s.tcp = parsed.value();
            s.tcp_payload.assign(s.tcp->payload.begin(), s.tcp->payload.end());
            s.tcp->payload = {};
        }
    } else if (s.protocol == 17) {
        uint16_t checksum = load_be16(&s.l4[6]);
        if (checksum) {
            EXPECT_EQ(reference_checksum(s.l4, pseudo_sum(s.source, s.destination, 17, s.l4.size())), 0) << "UDP checksum";
        }
    } else if (s.protocol == 1) {
        EXPECT_EQ(reference_checksum(s.l4), 0) << "ICMP checksum";
    }
    return s;
}

inline InterfaceConfig static_config(uint64_t* seed)
{
    InterfaceConfig config;
    config.mac = stack_mac;
    config.use_dhcp = false;
    config.address = stack_ip;
    config.prefix_length = 24;
    config.gateway = peer_ip;
    config.dns = Ipv4Address::from_octets(10, 0, 2, 3);
    config.random = test_random;
    config.random_context = seed;
    return config;
}

constexpr uint64_t ms = 1'000'000;

// A stack with a static address whose gateway's MAC is already known, so
// tests start with no ARP traffic in the way.
struct StackFixture : ::testing::Test {
    MallocAllocator allocator;
    RecordingTransmitter wire;
    uint64_t seed { 42 };
    uint64_t now { 1'000 * ms };
    Stack* stack { nullptr };
    InterfaceConfig config;

    void SetUp() override { config = static_config(&seed); }
    void create()
    {
        auto result = Stack::create(allocator, wire, config);
        ASSERT_FALSE(result.is_error()) << result.error().reason();
        stack = result.value();
        stack->poll(now); // gratuitous ARP
        wire.take();
        // The peer ARPs for us first: the stack learns the peer's MAC.
        receive(ethernet(MacAddress::broadcast(), peer_mac, 0x0806, arp_packet(1, peer_mac, peer_ip, MacAddress {}, stack_ip)));
        wire.take();
    }
    void TearDown() override
    {
        if (stack) {
            EXPECT_TRUE(stack->invariants_hold());
        }
        Stack::destroy(stack);
        EXPECT_EQ(allocator.live_allocations(), 0);
    }
    void receive(const Bytes& frame) { stack->receive(frame, now); }
    void advance(uint64_t ns)
    {
        now += ns;
        stack->poll(now);
    }
    // Polls in small steps until `until`, the way the network core does.
    void run_until(uint64_t until, uint64_t step = 1 * ms)
    {
        while (now < until) {
            now = now + step < until ? now + step : until;
            stack->poll(now);
        }
    }
    std::vector<Sent> sent()
    {
        std::vector<Sent> out;
        for (auto& frame : wire.take()) {
            out.push_back(decode(frame));
            const Sent& s = out.back();
            // The peer answers ARP requests for itself when asked to.
            if (answer_arp && s.ethertype == 0x0806 && load_be16(&s.l3[6]) == 1 && load_be32(&s.l3[24]) == peer_ip.value)
                stack->receive(ethernet(stack_mac, peer_mac, 0x0806, arp_packet(2, peer_mac, peer_ip, stack_mac, stack_ip)), now);
        }
        return out;
    }
    bool answer_arp { true };
};

} // namespace aisos::net::test
