// Packet-level tests below TCP: Ethernet, ARP, IPv4 (checksum, options,
// fragments, routing), ICMP echo and UDP.
#include "NetTestHarness.h"

#include <gtest/gtest.h>

using namespace aisos;
using namespace aisos::net;
using namespace aisos::net::test;

namespace {

struct RecordingUdp final : UdpReceiver {
    struct Datagram {
        Ipv4Address source;
        uint16_t source_port;
        Bytes payload;
    };
    void datagram_received(Ipv4Address source, uint16_t source_port, Ipv4Address, std::span<const uint8_t> payload, uint64_t) override
    {
        received.push_back({ source, source_port, Bytes(payload.begin(), payload.end()) });
    }
    std::vector<Datagram> received;
};

struct LinkTest : StackFixture {
    void SetUp() override
    {
        StackFixture::SetUp();
        create();
    }
    Bytes ping_frame(Ipv4Fields f, uint16_t sequence, const Bytes& data)
    {
        f.protocol = 1;
        return ip_frame(f, icmp_echo(0x77, sequence, data));
    }
};

Bytes pattern(size_t size, uint64_t seed)
{
    Bytes data(size);
    for (auto& b : data)
        b = static_cast<uint8_t>(test_random(&seed));
    return data;
}

}

TEST(StackCreate, GratuitousArpAnnouncesStaticAddress)
{
    MallocAllocator allocator;
    RecordingTransmitter wire;
    uint64_t seed = 1;
    auto stack = MUST(Stack::create(allocator, wire, static_config(&seed)));
    EXPECT_TRUE(stack->is_configured());
    EXPECT_EQ(stack->address(), stack_ip);
    stack->poll(5);
    ASSERT_EQ(wire.frames.size(), 1u);
    Sent announcement = decode(wire.frames[0]);
    EXPECT_EQ(announcement.destination_mac, MacAddress::broadcast());
    EXPECT_EQ(announcement.ethertype, 0x0806);
    EXPECT_EQ(load_be16(&announcement.l3[6]), 1); // request
    EXPECT_EQ(load_be32(&announcement.l3[14]), stack_ip.value); // sender IP
    EXPECT_EQ(load_be32(&announcement.l3[24]), stack_ip.value); // target IP = sender IP
    EXPECT_EQ(stack->counters().arp_gratuitous_sent, 1u);
    Stack::destroy(stack);
    EXPECT_EQ(allocator.live_allocations(), 0);
}

TEST(StackCreate, RejectsBadConfiguration)
{
    MallocAllocator allocator;
    RecordingTransmitter wire;
    uint64_t seed = 1;
    auto config = static_config(&seed);
    config.address = {};
    EXPECT_TRUE(Stack::create(allocator, wire, config).is_error());
    config = static_config(&seed);
    config.mtu = 100;
    EXPECT_TRUE(Stack::create(allocator, wire, config).is_error());
    config = static_config(&seed);
    config.tcp_receive_buffer = 0;
    EXPECT_TRUE(Stack::create(allocator, wire, config).is_error());
    EXPECT_EQ(allocator.live_allocations(), 0);
}

TEST(StackCreate, AllocationFailureAtEveryStepIsCleanedUp)
{
    for (long budget = 0; budget < 12; ++budget) {
        MallocAllocator allocator;
        RecordingTransmitter wire;
        uint64_t seed = 1;
        auto config = static_config(&seed);
        config.use_dhcp = budget % 2; // both paths
        allocator.fail_after(budget);
        auto result = Stack::create(allocator, wire, config);
        if (!result.is_error())
            Stack::destroy(result.value());
        else
            EXPECT_EQ(result.error().code(), ErrorCode::OutOfMemory);
        EXPECT_EQ(allocator.live_allocations(), 0) << budget;
    }
}

TEST_F(LinkTest, AnswersArpRequestForItsAddressOnly)
{
    MacAddress other { { 0x02, 0, 0, 0, 0, 7 } };
    Ipv4Address other_ip = Ipv4Address::from_octets(10, 0, 2, 7);
    receive(ethernet(MacAddress::broadcast(), other, 0x0806, arp_packet(1, other, other_ip, MacAddress {}, stack_ip)));
    auto out = sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].destination_mac, other);
    EXPECT_EQ(out[0].source_mac, stack_mac);
    EXPECT_EQ(load_be16(&out[0].l3[6]), 2); // reply
    EXPECT_EQ(MacAddress::from(&out[0].l3[8]), stack_mac);
    EXPECT_EQ(load_be32(&out[0].l3[14]), stack_ip.value);
    EXPECT_EQ(MacAddress::from(&out[0].l3[18]), other);
    EXPECT_EQ(load_be32(&out[0].l3[24]), other_ip.value);

    // A request for someone else: no reply.
    receive(ethernet(MacAddress::broadcast(), other, 0x0806, arp_packet(1, other, other_ip, MacAddress {}, Ipv4Address::from_octets(10, 0, 2, 99))));
    EXPECT_TRUE(sent().empty());
    // Truncated and non-Ethernet ARP: counted as malformed.
    Bytes truncated = arp_packet(1, other, other_ip, MacAddress {}, stack_ip);
    truncated.resize(20);
    receive(ethernet(MacAddress::broadcast(), other, 0x0806, truncated));
    Bytes wrong_hardware = arp_packet(1, other, other_ip, MacAddress {}, stack_ip);
    wrong_hardware[1] = 6;
    receive(ethernet(MacAddress::broadcast(), other, 0x0806, wrong_hardware));
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(stack->counters().arp_malformed, 2u);
}

TEST_F(LinkTest, PingIsAnswered)
{
    Bytes data = pattern(56, 9);
    receive(ping_frame({}, 3, data));
    auto out = sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].destination_mac, peer_mac);
    EXPECT_EQ(out[0].protocol, 1);
    EXPECT_EQ(out[0].source, stack_ip);
    EXPECT_EQ(out[0].destination, peer_ip);
    EXPECT_EQ(out[0].l4, icmp_echo(0x77, 3, data, 0)); // same id, sequence and data; type 0
    EXPECT_EQ(stack->counters().icmp_echo_replies_sent, 1u);
}

TEST_F(LinkTest, OffLinkPingGoesThroughTheGateway)
{
    Ipv4Fields f;
    f.source = remote_ip;
    receive(ping_frame(f, 1, { 1, 2, 3 }));
    auto out = sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].destination_mac, peer_mac); // the gateway's MAC
    EXPECT_EQ(out[0].destination, remote_ip);
}

TEST_F(LinkTest, IpOptionsAreSkipped)
{
    Ipv4Fields f;
    f.options = { 1, 1, 1, 0 }; // NOP NOP NOP EOL
    receive(ping_frame(f, 1, { 4, 5 }));
    auto out = sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].l4, icmp_echo(0x77, 1, { 4, 5 }, 0));
}

TEST_F(LinkTest, BadFramesAreDroppedAndCounted)
{
    Ipv4Fields bad;
    bad.corrupt_checksum = true;
    receive(ping_frame(bad, 1, { 1 }));
    EXPECT_EQ(stack->counters().ip_bad_checksum, 1u);

    Bytes icmp = icmp_echo(1, 1, { 1, 2 });
    icmp[5] ^= 0xff;
    Ipv4Fields f;
    f.protocol = 1;
    receive(ip_frame(f, icmp));
    EXPECT_EQ(stack->counters().icmp_bad_checksum, 1u);

    Bytes frame = ping_frame({}, 1, { 1 });
    Bytes tagged(frame.begin(), frame.begin() + 12);
    tagged.insert(tagged.end(), { 0x81, 0x00, 0x00, 0x05 });
    tagged.insert(tagged.end(), frame.begin() + 12, frame.end());
    receive(tagged);
    EXPECT_EQ(stack->counters().drop_vlan, 1u);

    Bytes other_mac = frame;
    other_mac[5] ^= 1;
    receive(other_mac);
    EXPECT_EQ(stack->counters().drop_not_for_us, 1u);

    receive(Bytes(10, 0xff));
    EXPECT_EQ(stack->counters().drop_runt, 1u);

    Bytes truncated = frame;
    truncated.resize(14 + 25); // IP total length says more
    receive(truncated);
    Bytes bad_ihl = frame;
    bad_ihl[14] = 0x44;
    receive(bad_ihl);
    EXPECT_EQ(stack->counters().ip_malformed, 2u);

    Ipv4Fields not_ours;
    not_ours.destination = Ipv4Address::from_octets(10, 0, 2, 99);
    receive(ping_frame(not_ours, 1, { 1 }));
    EXPECT_EQ(stack->counters().ip_not_for_us, 1u);

    receive(ethernet(stack_mac, peer_mac, 0x86dd, Bytes(40, 0)));
    EXPECT_EQ(stack->counters().drop_unknown_ethertype, 1u);

    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(stack->counters().icmp_echo_replies_sent, 0u);
}

TEST_F(LinkTest, EthernetPaddingIsIgnored)
{
    Bytes frame = ping_frame({}, 1, {});
    frame.resize(frame.size() + 18, 0xee); // padding beyond the IP total length
    receive(frame);
    auto out = sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].l4, icmp_echo(0x77, 1, {}, 0));
}

TEST_F(LinkTest, PingFloodIsRateLimited)
{
    for (int i = 0; i < 150; ++i)
        receive(ping_frame({}, static_cast<uint16_t>(i), { 1 }));
    EXPECT_EQ(sent().size(), 100u);
    EXPECT_EQ(stack->counters().icmp_rate_limited, 50u);
    now += 10 * ms; // ten tokens later
    for (int i = 0; i < 20; ++i)
        receive(ping_frame({}, static_cast<uint16_t>(i), { 1 }));
    EXPECT_EQ(sent().size(), 10u);
}

TEST_F(LinkTest, UnknownNeighbourIsResolvedAndQueuedPacketsFlushed)
{
    Ipv4Address neighbour = Ipv4Address::from_octets(10, 0, 2, 77);
    MacAddress neighbour_mac { { 0x02, 0, 0, 0, 0, 77 } };
    Ipv4Fields f;
    f.source = neighbour;
    for (uint16_t i = 0; i < 6; ++i)
        receive(ping_frame(f, i, { static_cast<uint8_t>(i) }));
    // One ARP request; four replies wait, two did not fit the per-address queue.
    auto out = sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].ethertype, 0x0806);
    EXPECT_EQ(out[0].destination_mac, MacAddress::broadcast());
    EXPECT_EQ(load_be32(&out[0].l3[24]), neighbour.value);
    EXPECT_EQ(stack->counters().arp_queue_full, 2u);

    receive(ethernet(stack_mac, neighbour_mac, 0x0806, arp_packet(2, neighbour_mac, neighbour, stack_mac, stack_ip)));
    out = sent();
    ASSERT_EQ(out.size(), 4u);
    for (uint16_t i = 0; i < 4; ++i) {
        EXPECT_EQ(out[i].destination_mac, neighbour_mac);
        EXPECT_EQ(out[i].l4, icmp_echo(0x77, i, { static_cast<uint8_t>(i) }, 0));
    }
    // Now cached: the next reply goes out at once.
    receive(ping_frame(f, 9, {}));
    EXPECT_EQ(sent().size(), 1u);
}

TEST_F(LinkTest, ArpResolutionGivesUpAfterRetries)
{
    Ipv4Fields f;
    f.source = Ipv4Address::from_octets(10, 0, 2, 88);
    receive(ping_frame(f, 1, {}));
    EXPECT_EQ(sent().size(), 1u); // first request
    run_until(now + 1500 * ms);
    EXPECT_EQ(sent().size(), 1u); // second request after 1 s
    run_until(now + 1000 * ms);
    EXPECT_EQ(sent().size(), 1u); // third
    run_until(now + 5000 * ms);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(stack->counters().arp_requests_sent, 3u);
    EXPECT_EQ(stack->counters().arp_resolution_failed, 1u);
}

TEST_F(LinkTest, UdpDeliveryChecksumsAndUnboundPorts)
{
    RecordingUdp receiver;
    ASSERT_FALSE(stack->udp_bind(5000, receiver).is_error());
    EXPECT_TRUE(stack->udp_bind(5000, receiver).is_error());
    Ipv4Fields f;
    f.protocol = 17;
    receive(ip_frame(f, udp(peer_ip, stack_ip, 1234, 5000, { 'h', 'i' })));
    receive(ip_frame(f, udp(peer_ip, stack_ip, 1234, 5000, { 'n', 'o', 'c' }, false))); // checksum 0: none
    Bytes corrupted = udp(peer_ip, stack_ip, 1234, 5000, { 'x' });
    corrupted[8] ^= 1;
    receive(ip_frame(f, corrupted));
    receive(ip_frame(f, udp(peer_ip, stack_ip, 1234, 5001, { 'z' })));
    Bytes bad_length = udp(peer_ip, stack_ip, 1234, 5000, { 'y' });
    bad_length[5] = 200;
    receive(ip_frame(f, bad_length));
    ASSERT_EQ(receiver.received.size(), 2u);
    EXPECT_EQ(receiver.received[0].payload, (Bytes { 'h', 'i' }));
    EXPECT_EQ(receiver.received[0].source_port, 1234);
    EXPECT_EQ(receiver.received[1].payload, (Bytes { 'n', 'o', 'c' }));
    EXPECT_EQ(stack->counters().udp_bad_checksum, 1u);
    EXPECT_EQ(stack->counters().udp_no_socket, 1u);
    EXPECT_EQ(stack->counters().udp_malformed, 1u);

    ASSERT_FALSE(stack->udp_send(5000, peer_ip, 1234, Bytes { 'o', 'k' }).is_error());
    auto out = sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].protocol, 17);
    EXPECT_EQ(out[0].l4, udp(stack_ip, peer_ip, 5000, 1234, { 'o', 'k' }));
    EXPECT_TRUE(stack->udp_send(5000, peer_ip, 1234, Bytes(2000, 0)).is_error()); // larger than the MTU
    stack->udp_unbind(5000);
}

namespace {
struct FragmentTest : LinkTest {
    RecordingUdp receiver;
    Bytes datagram;
    void SetUp() override
    {
        LinkTest::SetUp();
        ASSERT_FALSE(stack->udp_bind(7000, receiver).is_error());
        datagram = udp(peer_ip, stack_ip, 9, 7000, pattern(4000, 11));
    }
    Bytes fragment(uint16_t id, size_t offset, size_t length)
    {
        Ipv4Fields f;
        f.protocol = 17;
        f.identification = id;
        f.fragment_offset_bytes = static_cast<uint16_t>(offset);
        f.more_fragments = offset + length < datagram.size();
        return ip_frame(f, Bytes(datagram.begin() + offset, datagram.begin() + offset + length));
    }
    void expect_delivered(size_t count)
    {
        ASSERT_EQ(receiver.received.size(), count);
        EXPECT_EQ(receiver.received.back().payload, Bytes(datagram.begin() + 8, datagram.end()));
    }
};
}

TEST_F(FragmentTest, InOrder)
{
    for (size_t offset = 0; offset < datagram.size(); offset += 1480)
        receive(fragment(1, offset, std::min<size_t>(1480, datagram.size() - offset)));
    expect_delivered(1);
    EXPECT_EQ(stack->counters().fragments_reassembled, 1u);
}

TEST_F(FragmentTest, Reversed)
{
    receive(fragment(2, 2960, datagram.size() - 2960));
    receive(fragment(2, 1480, 1480));
    EXPECT_TRUE(receiver.received.empty());
    receive(fragment(2, 0, 1480));
    expect_delivered(1);
}

TEST_F(FragmentTest, OverlappingAndDuplicated)
{
    receive(fragment(3, 0, 1480));
    receive(fragment(3, 1000, 1480)); // overlaps the first
    receive(fragment(3, 1000, 1480)); // duplicate
    receive(fragment(3, 2400, datagram.size() - 2400));
    expect_delivered(1);
}

TEST_F(FragmentTest, TooManyConcurrentDatagramsAreEvictedAndStaleOnesExpire)
{
    for (uint16_t id = 10; id < 16; ++id)
        receive(fragment(id, 0, 1480)); // six first fragments, four slots
    EXPECT_EQ(stack->counters().reassembly_evictions, 2u);
    // The oldest two are gone: completing them cannot deliver.
    receive(fragment(10, 1480, 1480));
    receive(fragment(10, 2960, datagram.size() - 2960));
    EXPECT_TRUE(receiver.received.empty());
    // A recent one still completes.
    receive(fragment(15, 1480, 1480));
    receive(fragment(15, 2960, datagram.size() - 2960));
    expect_delivered(1);
    // What is left times out.
    run_until(now + 20'000 * ms, 500 * ms);
    EXPECT_GE(stack->counters().reassembly_timeouts, 3u);
    receive(fragment(12, 1480, 1480));
    receive(fragment(12, 2960, datagram.size() - 2960));
    EXPECT_EQ(receiver.received.size(), 1u);
}

TEST_F(FragmentTest, FragmentWithBadLengthIsDropped)
{
    Ipv4Fields f;
    f.protocol = 17;
    f.identification = 20;
    f.more_fragments = true;
    receive(ip_frame(f, Bytes(datagram.begin(), datagram.begin() + 1001))); // not a multiple of 8
    EXPECT_EQ(stack->counters().fragments_dropped, 1u);
}

TEST_F(LinkTest, ExpiredNeighbourIsStillUsedWhileBeingConfirmed)
{
    answer_arp = false;
    now += ArpCache::reachable_ns + 1;
    receive(ping_frame({}, 1, {}));
    auto out = sent();
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].protocol, 1); // the reply goes out with the old MAC at once
    EXPECT_EQ(out[0].destination_mac, peer_mac);
    EXPECT_EQ(out[1].ethertype, 0x0806); // and the entry is confirmed
    // No answer: two more requests, then the entry is gone and the next
    // packet has to wait for a fresh resolution.
    run_until(now + 3500 * ms, 100 * ms);
    EXPECT_EQ(sent().size(), 2u);
    receive(ping_frame({}, 2, {}));
    out = sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].ethertype, 0x0806);
    // Answered this time: the parked reply is flushed.
    receive(ethernet(stack_mac, peer_mac, 0x0806, arp_packet(2, peer_mac, peer_ip, stack_mac, stack_ip)));
    out = sent();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].l4, icmp_echo(0x77, 2, {}, 0));
}
