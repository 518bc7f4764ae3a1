// Unit tests of the stack's building blocks, each on its own.
#include "NetTestHarness.h"
#include "lib/net/ArpCache.h"
#include "lib/net/ByteRing.h"
#include "lib/net/Reassembler.h"
#include "lib/net/RttEstimator.h"
#include "lib/net/SequenceRanges.h"
#include "lib/net/TcpSegment.h"
#include "lib/net/TcpSequence.h"

#include <gtest/gtest.h>

using namespace aisos;
using namespace aisos::net;
using namespace aisos::net::test;

TEST(TcpSequence, ComparesAcrossWrap)
{
    EXPECT_TRUE(seq_lt(0xfffffff0u, 0x10u));
    EXPECT_TRUE(seq_gt(0x10u, 0xfffffff0u));
    EXPECT_TRUE(seq_leq(5, 5));
    EXPECT_FALSE(seq_lt(5, 5));
    EXPECT_EQ(seq_max(0xfffffffeu, 3), 3u);
}

TEST(ByteRing, WrapsAroundAndPeeks)
{
    MallocAllocator allocator;
    ByteRing ring;
    ASSERT_FALSE(ring.allocate(allocator, 10).is_error());
    uint8_t in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    EXPECT_EQ(ring.write(in), 8u);
    uint8_t out[8] {};
    EXPECT_EQ(ring.read({ out, 6 }), 6u);
    EXPECT_EQ(ring.write(in), 8u); // wraps
    EXPECT_EQ(ring.size(), 10u);
    EXPECT_EQ(ring.write(in), 0u); // full
    uint8_t peeked[4] {};
    EXPECT_EQ(ring.peek(1, peeked), 4u);
    EXPECT_EQ(peeked[0], 8);
    EXPECT_EQ(peeked[1], 1);
    uint8_t all[10] {};
    EXPECT_EQ(ring.read(all), 10u);
    uint8_t expected[10] = { 7, 8, 1, 2, 3, 4, 5, 6, 7, 8 };
    EXPECT_EQ(0, std::memcmp(all, expected, 10));
    EXPECT_EQ(ring.peek(0, peeked), 0u);
    ring.release(allocator);
    EXPECT_EQ(allocator.live_allocations(), 0);
}

TEST(ByteRing, WritesPastEndThenCommits)
{
    MallocAllocator allocator;
    ByteRing ring;
    ASSERT_FALSE(ring.allocate(allocator, 16).is_error());
    uint8_t filler[12] {};
    ring.write(filler);
    uint8_t skip[12];
    ring.read(skip); // head at 12: later data wraps
    uint8_t later[] = { 9, 9, 9 };
    ring.write_past_end(3, later); // bytes 3..5 after the end
    uint8_t first[] = { 1, 2, 3 };
    ring.write(first);
    ring.commit(3);
    uint8_t out[6];
    ASSERT_EQ(ring.read(out), 6u);
    uint8_t expected[] = { 1, 2, 3, 9, 9, 9 };
    EXPECT_EQ(0, std::memcmp(out, expected, 6));
    // Out-of-range writes past the end are clipped, never overflow.
    uint8_t big[32] {};
    ring.write_past_end(10, big);
    ring.write_past_end(100, big);
    EXPECT_EQ(ring.size(), 0u);
    ring.release(allocator);
}

TEST(ByteRing, DataPastTheEndSurvivesDrainingTheRing)
{
    MallocAllocator allocator;
    ByteRing ring;
    ASSERT_FALSE(ring.allocate(allocator, 16).is_error());
    uint8_t first[] = { 1, 2, 3, 4 };
    ring.write(first);
    uint8_t later[] = { 7, 8 };
    ring.write_past_end(2, later); // parked at stream offset 6
    uint8_t out[4];
    ring.read(out); // drains the ring completely
    uint8_t gap[] = { 5, 6 };
    ring.write(gap);
    ring.commit(2);
    uint8_t rest[4];
    ASSERT_EQ(ring.read(rest), 4u);
    uint8_t expected[] = { 5, 6, 7, 8 };
    EXPECT_EQ(0, std::memcmp(rest, expected, 4));
    ring.release(allocator);
}

TEST(ByteRing, AllocationFailureIsReported)
{
    MallocAllocator allocator;
    allocator.fail_after(0);
    ByteRing ring;
    auto result = ring.allocate(allocator, 1024);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), ErrorCode::OutOfMemory);
    EXPECT_FALSE(ring.is_allocated());
}

TEST(SequenceRanges, MergesAndAdvances)
{
    SequenceRanges ranges;
    EXPECT_TRUE(ranges.add(100, 200));
    EXPECT_TRUE(ranges.add(300, 400));
    EXPECT_TRUE(ranges.add(200, 250)); // touches the first
    ASSERT_EQ(ranges.count(), 2u);
    EXPECT_EQ(ranges[0].begin, 100u);
    EXPECT_EQ(ranges[0].end, 250u);
    EXPECT_TRUE(ranges.add(240, 310)); // bridges both
    ASSERT_EQ(ranges.count(), 1u);
    EXPECT_EQ(ranges[0].end, 400u);
    EXPECT_EQ(ranges.advance(50), 50u); // a hole before 100
    EXPECT_EQ(ranges.advance(100), 400u);
    EXPECT_EQ(ranges.count(), 0u);
}

TEST(SequenceRanges, BoundedAndWrapSafe)
{
    SequenceRanges ranges;
    uint32_t base = 0xffffff00u;
    for (uint32_t i = 0; i < SequenceRanges::capacity; ++i)
        EXPECT_TRUE(ranges.add(base + i * 100, base + i * 100 + 10));
    EXPECT_FALSE(ranges.add(base + 2000, base + 2010)); // a ninth range
    EXPECT_TRUE(ranges.add(base + 5, base + 20)); // merging still works
    EXPECT_EQ(ranges.count(), SequenceRanges::capacity);
    EXPECT_EQ(ranges.advance(base), base + 20);
    EXPECT_EQ(ranges.count(), SequenceRanges::capacity - 1);
}

TEST(RttEstimator, FollowsRfc6298)
{
    RttEstimator rtt(200 * ms);
    EXPECT_EQ(rtt.rto_ns(), 1000 * ms); // initial RTO
    rtt.add_sample(100 * ms);
    // SRTT = 100, RTTVAR = 50, RTO = 100 + 4*50 = 300 ms
    EXPECT_EQ(rtt.srtt_ns(), 100 * ms);
    EXPECT_EQ(rtt.rttvar_ns(), 50 * ms);
    EXPECT_EQ(rtt.rto_ns(), 300 * ms);
    rtt.add_sample(100 * ms);
    // RTTVAR = 3/4*50 + 1/4*0 = 37.5; SRTT = 100; RTO = 250 ms
    EXPECT_EQ(rtt.rto_ns(), 250 * ms);
    rtt.back_off();
    EXPECT_EQ(rtt.rto_ns(), 500 * ms);
    for (int i = 0; i < 20; ++i)
        rtt.back_off();
    EXPECT_EQ(rtt.rto_ns(), RttEstimator::max_rto_ns);
    // A new sample ends the backoff: RTTVAR = (3*37.5 + 99)/4 = 52.875,
    // SRTT = (7*100 + 1)/8 = 87.625, RTO = 87.625 + 4*52.875 = 299.125 ms.
    rtt.add_sample(1 * ms);
    EXPECT_EQ(rtt.rto_ns(), 299'125'000u);
    RttEstimator fast(200 * ms);
    fast.add_sample(1 * ms); // 1 + 4*0.5 ms is below the minimum
    EXPECT_EQ(fast.rto_ns(), 200 * ms);
}

TEST(TcpSegment, ParsesOptionsAndRejectsMalformed)
{
    TcpFields f;
    f.sequence = 1000;
    f.flags = TcpFlag::Syn;
    f.mss = 1460;
    f.window_scale = 7;
    f.sack_permitted = true;
    f.timestamps = true;
    Bytes bytes = tcp(peer_ip, stack_ip, f, { 1, 2, 3 });
    auto segment = parse_tcp_segment(bytes);
    ASSERT_FALSE(segment.is_error());
    EXPECT_EQ(segment.value().sequence, 1000u);
    EXPECT_TRUE(segment.value().options.has_mss);
    EXPECT_EQ(segment.value().options.mss, 1460);
    EXPECT_EQ(segment.value().options.window_scale, 7);
    EXPECT_TRUE(segment.value().options.sack_permitted);
    EXPECT_EQ(segment.value().payload.size(), 3u);
    EXPECT_EQ(segment.value().length(), 4u); // SYN counts

    Bytes bad = bytes;
    bad[12] = 0x40; // data offset 16 bytes
    EXPECT_TRUE(parse_tcp_segment(bad).is_error());
    bad = bytes;
    bad[12] = 0xf0; // 60 bytes: beyond the segment
    EXPECT_TRUE(parse_tcp_segment(std::span<const uint8_t>(bad).first(40)).is_error());
    bad = bytes;
    bad[21] = 0; // MSS option length 0
    EXPECT_TRUE(parse_tcp_segment(bad).is_error());
    bad = bytes;
    bad[21] = 40; // option runs past the header
    EXPECT_TRUE(parse_tcp_segment(bad).is_error());
    EXPECT_TRUE(parse_tcp_segment(std::span<const uint8_t>(bytes).first(19)).is_error());
}

TEST(TcpSegment, WritesWhatItParses)
{
    uint8_t buffer[60] {};
    TcpHeaderFields fields { 80, 40000, 7, 9, TcpFlag::Syn | TcpFlag::Ack, 1234, true, 1460, true, 3 };
    size_t length = write_tcp_header(buffer, fields);
    EXPECT_EQ(length, 28u);
    auto parsed = parse_tcp_segment({ buffer, length });
    ASSERT_FALSE(parsed.is_error());
    EXPECT_EQ(parsed.value().flags, TcpFlag::Syn | TcpFlag::Ack);
    EXPECT_EQ(parsed.value().options.mss, 1460);
    EXPECT_EQ(parsed.value().options.window_scale, 3);
    EXPECT_EQ(parsed.value().window, 1234);
}

TEST(ArpCache, LearnsExpiresAndEvictsLeastRecentlyUsed)
{
    ArpCache cache;
    bool evicted = false;
    uint64_t now = 1000;
    for (uint32_t i = 0; i < ArpCache::capacity; ++i)
        cache.learn(Ipv4Address { 0x0a000000u + i }, peer_mac, ArpCache::Merge::CreateIfMissing, now + i, evicted);
    EXPECT_FALSE(evicted);
    bool refresh = false;
    EXPECT_NE(cache.lookup(Ipv4Address { 0x0a000000u }, now + 100, refresh), nullptr); // refreshes entry 0
    EXPECT_FALSE(refresh);
    cache.learn(Ipv4Address { 0x0b000000u }, peer_mac, ArpCache::Merge::CreateIfMissing, now + 200, evicted);
    EXPECT_TRUE(evicted);
    EXPECT_NE(cache.find(Ipv4Address { 0x0a000000u }), nullptr);
    EXPECT_EQ(cache.find(Ipv4Address { 0x0a000001u }), nullptr); // the least recently used went
    // UpdateOnly never creates.
    EXPECT_FALSE(cache.learn(Ipv4Address { 0x0c000000u }, peer_mac, ArpCache::Merge::UpdateOnly, now, evicted));
    EXPECT_EQ(cache.find(Ipv4Address { 0x0c000000u }), nullptr);
    // Expired entries are still used, but must be confirmed.
    EXPECT_NE(cache.lookup(Ipv4Address { 0x0b000000u }, now + 200 + ArpCache::reachable_ns, refresh), nullptr);
    EXPECT_TRUE(refresh);
}

namespace {
struct ReassemblyFixture : ::testing::Test {
    MallocAllocator allocator;
    Reassembler reassembler;
    NetCounters counters;
    Bytes datagram;
    void SetUp() override
    {
        ASSERT_FALSE(reassembler.initialize(allocator, 2).is_error());
        uint64_t seed = 3;
        datagram.resize(3000);
        for (auto& b : datagram)
            b = static_cast<uint8_t>(test_random(&seed));
    }
    void TearDown() override
    {
        reassembler.release(allocator);
        EXPECT_EQ(allocator.live_allocations(), 0);
    }
    std::optional<std::span<const uint8_t>> add(uint16_t id, size_t offset, size_t length, uint64_t now = 0)
    {
        bool more = offset + length < datagram.size();
        return reassembler.add({ 1, 2, id, 6 }, offset, more, std::span<const uint8_t>(datagram).subspan(offset, length), now, counters);
    }
};
}

TEST_F(ReassemblyFixture, OverlappingFragmentsInAnyOrder)
{
    EXPECT_FALSE(add(1, 2000, 1000));
    EXPECT_FALSE(add(1, 0, 1200));
    EXPECT_FALSE(add(1, 800, 800)); // overlaps the first
    auto whole = add(1, 1200, 1000); // overlaps both neighbours, completes
    ASSERT_TRUE(whole);
    ASSERT_EQ(whole->size(), 3000u);
    EXPECT_EQ(0, std::memcmp(whole->data(), datagram.data(), 3000));
    EXPECT_EQ(counters.fragments_reassembled, 1u);
    EXPECT_EQ(reassembler.datagrams_in_progress(), 0u);
}

TEST_F(ReassemblyFixture, LimitsAndMalformedFragments)
{
    EXPECT_FALSE(add(1, 0, 1000));
    EXPECT_FALSE(add(2, 0, 1000));
    EXPECT_FALSE(add(3, 0, 1000, 5)); // a third datagram evicts the oldest
    EXPECT_EQ(counters.reassembly_evictions, 1u);
    EXPECT_EQ(reassembler.datagrams_in_progress(), 2u);
    // Not a multiple of 8 while more fragments follow: dropped.
    EXPECT_FALSE(reassembler.add({ 1, 2, 4, 6 }, 0, true, std::span<const uint8_t>(datagram).first(13), 0, counters));
    EXPECT_EQ(counters.fragments_dropped, 1u);
    // Beyond 64 KiB: dropped.
    EXPECT_FALSE(reassembler.add({ 1, 2, 5, 6 }, 65528, false, std::span<const uint8_t>(datagram).first(100), 0, counters));
    EXPECT_EQ(counters.fragments_dropped, 2u);
    // Incomplete datagrams time out.
    reassembler.expire(Reassembler::lifetime_ns + 10, counters);
    EXPECT_EQ(reassembler.datagrams_in_progress(), 0u);
    EXPECT_EQ(counters.reassembly_timeouts, 2u);
}
