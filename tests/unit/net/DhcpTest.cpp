// The DHCP client against a fake server shaped like QEMU's slirp
// (10.0.2.15/24, gateway 10.0.2.2, DNS 10.0.2.3), on the virtual clock.
#include "NetTestHarness.h"
#include "lib/net/DhcpClient.h"

#include <gtest/gtest.h>
#include <map>

using namespace aisos;
using namespace aisos::net;
using namespace aisos::net::test;

namespace {

constexpr uint64_t second = 1'000'000'000ull;
constexpr Ipv4Address server_ip = Ipv4Address::from_octets(10, 0, 2, 2);
constexpr Ipv4Address offered_ip = Ipv4Address::from_octets(10, 0, 2, 15);
constexpr Ipv4Address dns_ip = Ipv4Address::from_octets(10, 0, 2, 3);

struct DhcpMessage {
    uint8_t op { 0 };
    uint32_t xid { 0 };
    uint16_t flags { 0 };
    Ipv4Address ciaddr;
    MacAddress chaddr;
    std::map<uint8_t, Bytes> options;
    Ipv4Address ip_source, ip_destination;
    MacAddress mac_destination;
    uint8_t type() const { return options.count(53) ? options.at(53)[0] : 0; }
};

std::optional<DhcpMessage> decode_dhcp(const Sent& sent)
{
    if (sent.ethertype != 0x0800 || sent.protocol != 17 || load_be16(&sent.l4[2]) != 67)
        return std::nullopt;
    EXPECT_EQ(load_be16(&sent.l4[0]), 68);
    Bytes m(sent.l4.begin() + 8, sent.l4.end());
    EXPECT_GE(m.size(), 300u);
    DhcpMessage d;
    d.op = m[0];
    d.xid = load_be32(&m[4]);
    d.flags = load_be16(&m[10]);
    d.ciaddr = { load_be32(&m[12]) };
    d.chaddr = MacAddress::from(&m[28]);
    d.ip_source = sent.source;
    d.ip_destination = sent.destination;
    d.mac_destination = sent.destination_mac;
    EXPECT_EQ(load_be32(&m[236]), 0x63825363u);
    for (size_t i = 240; i < m.size() && m[i] != 255;) {
        if (m[i] == 0) {
            ++i;
            continue;
        }
        d.options[m[i]] = Bytes(m.begin() + i + 2, m.begin() + i + 2 + m[i + 1]);
        i += 2 + m[i + 1];
    }
    return d;
}

Bytes address_bytes(Ipv4Address a)
{
    Bytes b;
    put32(b, a.value);
    return b;
}

struct Reply {
    uint8_t type;
    uint32_t xid;
    uint32_t lease { 3600 };
    Ipv4Address yiaddr { offered_ip };
    bool with_server_id { true };
};

Bytes server_message(const Reply& r)
{
    Bytes m(240, 0);
    m[0] = 2;
    m[1] = 1;
    m[2] = 6;
    store_be32(&m[4], r.xid);
    store_be32(&m[16], r.yiaddr.value);
    store_be32(&m[20], server_ip.value);
    stack_mac.store(&m[28]);
    store_be32(&m[236], 0x63825363);
    auto option = [&](uint8_t code, const Bytes& value) {
        m.push_back(code);
        m.push_back(static_cast<uint8_t>(value.size()));
        m.insert(m.end(), value.begin(), value.end());
    };
    option(53, { r.type });
    if (r.with_server_id)
        option(54, address_bytes(server_ip));
    if (r.type != 6) {
        option(1, { 255, 255, 255, 0 });
        option(3, address_bytes(server_ip));
        Bytes dns = address_bytes(dns_ip);
        Bytes second_dns = address_bytes(Ipv4Address::from_octets(8, 8, 8, 8));
        dns.insert(dns.end(), second_dns.begin(), second_dns.end());
        option(6, dns);
        Bytes lease;
        put32(lease, r.lease);
        option(51, lease);
    }
    m.push_back(255);
    return m;
}

struct DhcpTest : ::testing::Test {
    MallocAllocator allocator;
    RecordingTransmitter wire;
    uint64_t seed { 5 };
    uint64_t now { 10 * second };
    Stack* stack { nullptr };

    void SetUp() override
    {
        InterfaceConfig config;
        config.mac = stack_mac;
        config.use_dhcp = true;
        config.hostname = "aisos-test";
        config.random = test_random;
        config.random_context = &seed;
        stack = MUST(Stack::create(allocator, wire, config));
    }
    void TearDown() override
    {
        Stack::destroy(stack);
        EXPECT_EQ(allocator.live_allocations(), 0);
    }
    std::vector<DhcpMessage> dhcp_sent()
    {
        std::vector<DhcpMessage> out;
        for (auto& frame : wire.take()) {
            if (auto message = decode_dhcp(decode(frame)))
                out.push_back(*message);
        }
        return out;
    }
    void poll_until(uint64_t until)
    {
        while (now < until) {
            now = std::min<uint64_t>(until, now + 100'000'000ull);
            stack->poll(now);
        }
    }
    void server_sends(const Reply& r, Ipv4Address destination = Ipv4Address::broadcast())
    {
        Ipv4Fields f;
        f.source = server_ip;
        f.destination = destination;
        f.protocol = 17;
        Bytes frame = ethernet(destination.is_broadcast() ? MacAddress::broadcast() : stack_mac, peer_mac, 0x0800, ipv4(f, udp(server_ip, destination, 67, 68, server_message(r))));
        stack->receive(frame, now);
    }
    // DISCOVER -> OFFER -> REQUEST -> ACK; returns the xid.
    uint32_t acquire(uint32_t lease = 3600)
    {
        stack->poll(now);
        auto discover = dhcp_sent();
        EXPECT_EQ(discover.size(), 1u);
        uint32_t xid = discover.at(0).xid;
        server_sends({ 2, xid, lease });
        auto request = dhcp_sent();
        EXPECT_EQ(request.size(), 1u);
        server_sends({ 5, xid, lease });
        return xid;
    }
};

}

TEST_F(DhcpTest, FullExchangeConfiguresTheInterface)
{
    EXPECT_FALSE(stack->is_configured());
    stack->poll(now);
    auto out = dhcp_sent();
    ASSERT_EQ(out.size(), 1u);
    DhcpMessage discover = out[0];
    EXPECT_EQ(discover.op, 1);
    EXPECT_EQ(discover.type(), 1);
    EXPECT_EQ(discover.flags, 0x8000); // broadcast replies: no address yet
    EXPECT_EQ(discover.chaddr, stack_mac);
    EXPECT_EQ(discover.ip_source, Ipv4Address::any());
    EXPECT_EQ(discover.ip_destination, Ipv4Address::broadcast());
    EXPECT_EQ(discover.mac_destination, MacAddress::broadcast());
    Bytes hostname = discover.options[12];
    EXPECT_EQ(std::string(hostname.begin(), hostname.end()), "aisos-test");
    Bytes parameters = discover.options[55];
    for (uint8_t wanted : { 1, 3, 6, 51, 54 })
        EXPECT_NE(std::find(parameters.begin(), parameters.end(), wanted), parameters.end()) << int(wanted);

    // An answer to someone else's transaction is ignored.
    server_sends({ 2, discover.xid + 1 });
    EXPECT_TRUE(dhcp_sent().empty());

    server_sends({ 2, discover.xid });
    out = dhcp_sent();
    ASSERT_EQ(out.size(), 1u);
    DhcpMessage request = out[0];
    EXPECT_EQ(request.type(), 3);
    EXPECT_EQ(request.xid, discover.xid);
    EXPECT_EQ(request.options[50], address_bytes(offered_ip));
    EXPECT_EQ(request.options[54], address_bytes(server_ip));
    EXPECT_EQ(request.ip_destination, Ipv4Address::broadcast());
    EXPECT_FALSE(stack->is_configured());

    server_sends({ 5, discover.xid });
    EXPECT_TRUE(stack->is_configured());
    EXPECT_EQ(stack->address(), offered_ip);
    EXPECT_EQ(stack->prefix_length(), 24);
    EXPECT_EQ(stack->gateway(), server_ip);
    EXPECT_EQ(stack->dns(), dns_ip);
    EXPECT_EQ(stack->dhcp()->state(), DhcpClient::State::Bound);
    EXPECT_EQ(stack->counters().dhcp_acks, 1u);

    // The new address is announced.
    stack->poll(now);
    auto frames = wire.take();
    ASSERT_EQ(frames.size(), 1u);
    Sent announcement = decode(frames[0]);
    EXPECT_EQ(announcement.ethertype, 0x0806);
    EXPECT_EQ(load_be32(&announcement.l3[24]), offered_ip.value);
}

TEST_F(DhcpTest, DiscoverIsRetransmittedWithBackoff)
{
    stack->poll(now);
    uint32_t xid = dhcp_sent().at(0).xid;
    uint64_t start = now;
    std::vector<uint64_t> times;
    while (times.size() < 4) {
        poll_until(now + 100 * 1'000'000ull);
        for (auto& message : dhcp_sent()) {
            EXPECT_EQ(message.xid, xid); // same transaction
            times.push_back(now - start);
        }
    }
    // RFC 2131 4.1: about 4, 8, 16, 32 s apart, each +-1 s.
    uint64_t previous = 0;
    uint64_t expected_gap = 4 * second;
    for (uint64_t t : times) {
        uint64_t gap = t - previous;
        EXPECT_GE(gap + 100'000'000, expected_gap - second) << gap;
        EXPECT_LE(gap, expected_gap + second + 100'000'000) << gap;
        previous = t;
        expected_gap *= 2;
    }
}

TEST_F(DhcpTest, RenewsAtT1WithUnicastToTheServer)
{
    uint32_t xid = acquire(3600);
    stack->poll(now);
    wire.take();
    uint64_t bound_at = now;
    EXPECT_EQ(stack->dhcp()->renew_at_ns(), bound_at + 1800 * second);

    poll_until(bound_at + 1799 * second);
    EXPECT_TRUE(dhcp_sent().empty());
    poll_until(bound_at + 1800 * second + 500'000'000);
    // Unicast to the server: its MAC is unknown, so ARP first.
    auto frames = wire.take();
    ASSERT_EQ(frames.size(), 1u);
    Sent arp = decode(frames[0]);
    ASSERT_EQ(arp.ethertype, 0x0806);
    EXPECT_EQ(load_be32(&arp.l3[24]), server_ip.value);
    stack->receive(ethernet(stack_mac, peer_mac, 0x0806, arp_packet(2, peer_mac, server_ip, stack_mac, offered_ip)), now);
    auto out = dhcp_sent();
    ASSERT_EQ(out.size(), 1u);
    DhcpMessage renew = out[0];
    EXPECT_EQ(renew.type(), 3);
    EXPECT_EQ(renew.ciaddr, offered_ip);
    EXPECT_EQ(renew.flags, 0);
    EXPECT_EQ(renew.options.count(50), 0u); // RENEWING: no requested address
    EXPECT_EQ(renew.options.count(54), 0u); // and no server identifier
    EXPECT_EQ(renew.ip_source, offered_ip);
    EXPECT_EQ(renew.ip_destination, server_ip);
    EXPECT_EQ(renew.mac_destination, peer_mac);
    EXPECT_EQ(stack->dhcp()->state(), DhcpClient::State::Renewing);

    server_sends({ 5, renew.xid, 7200 }, offered_ip);
    EXPECT_EQ(stack->dhcp()->state(), DhcpClient::State::Bound);
    EXPECT_EQ(stack->dhcp()->lease_seconds(), 7200u);
    EXPECT_EQ(stack->dhcp()->expires_at_ns(), now + 7200 * second);
    EXPECT_TRUE(stack->is_configured());
    (void)xid;
}

TEST_F(DhcpTest, RebindsAtT2AndRestartsWhenTheLeaseExpires)
{
    acquire(1000);
    stack->poll(now);
    wire.take();
    uint64_t bound_at = now;
    poll_until(bound_at + 875 * second + 200'000'000); // past T2 = 0.875 * lease
    auto out = dhcp_sent();
    ASSERT_FALSE(out.empty());
    DhcpMessage rebind = out.back();
    EXPECT_EQ(stack->dhcp()->state(), DhcpClient::State::Rebinding);
    EXPECT_EQ(rebind.ip_destination, Ipv4Address::broadcast());
    EXPECT_EQ(rebind.ciaddr, offered_ip);
    EXPECT_TRUE(stack->is_configured());

    poll_until(bound_at + 1000 * second + 200'000'000);
    EXPECT_FALSE(stack->is_configured());
    EXPECT_EQ(stack->counters().dhcp_leases_expired, 1u);
    out = dhcp_sent();
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.back().type(), 1); // DISCOVER again
    EXPECT_NE(out.back().xid, rebind.xid);
}

TEST_F(DhcpTest, NakRestartsAndMalformedRepliesAreIgnored)
{
    stack->poll(now);
    uint32_t xid = dhcp_sent().at(0).xid;
    server_sends({ 2, xid });
    dhcp_sent();
    // Truncated and garbage replies with our xid are counted, not trusted.
    Bytes truncated = server_message({ 5, xid });
    truncated.resize(100);
    Ipv4Fields f;
    f.source = server_ip;
    f.destination = Ipv4Address::broadcast();
    f.protocol = 17;
    stack->receive(ethernet(MacAddress::broadcast(), peer_mac, 0x0800, ipv4(f, udp(server_ip, f.destination, 67, 68, truncated))), now);
    Bytes bad_option = server_message({ 5, xid });
    bad_option[241] = 200; // first option's length runs off the end
    stack->receive(ethernet(MacAddress::broadcast(), peer_mac, 0x0800, ipv4(f, udp(server_ip, f.destination, 67, 68, bad_option))), now);
    EXPECT_FALSE(stack->is_configured());
    EXPECT_EQ(stack->counters().dhcp_malformed, 2u);

    server_sends({ 6, xid });
    EXPECT_EQ(stack->counters().dhcp_naks, 1u);
    stack->poll(now);
    auto out = dhcp_sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].type(), 1);
    EXPECT_NE(out[0].xid, xid);
    EXPECT_FALSE(stack->is_configured());
}

TEST_F(DhcpTest, NakWhileRenewingDropsTheAddress)
{
    acquire(100);
    // Make the server's MAC known so the renewal goes straight out.
    stack->receive(ethernet(stack_mac, peer_mac, 0x0806, arp_packet(1, peer_mac, server_ip, MacAddress {}, offered_ip)), now);
    wire.take();
    poll_until(now + 51 * second);
    auto out = dhcp_sent();
    ASSERT_EQ(out.size(), 1u);
    server_sends({ 6, out[0].xid }, offered_ip);
    EXPECT_FALSE(stack->is_configured());
    EXPECT_EQ(stack->dhcp()->state(), DhcpClient::State::Init);
}
