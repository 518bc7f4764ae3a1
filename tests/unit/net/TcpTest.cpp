// Packet-level TCP tests: handshake and options, data both ways, ACK
// timing, Nagle, retransmission, fast retransmit/NewReno, reordering,
// windows, closing in each direction, resets, limits.
#include "TcpFixture.h"

#include <gtest/gtest.h>

using namespace aisos;
using namespace aisos::net;
using namespace aisos::net::test;

namespace {
struct TcpTest : TcpFixture {
    void SetUp() override
    {
        TcpFixture::SetUp();
        start();
    }
};
}

TEST_F(TcpTest, HandshakeNegotiatesMssAndWindowScale)
{
    TcpFields syn = fields(TcpFlag::Syn);
    syn.mss = 1400;
    syn.window_scale = 7;
    syn.sack_permitted = true;
    syn.timestamps = true;
    inject(syn);
    ++client_seq;
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    const TcpSegment& synack = *out[0].tcp;
    EXPECT_EQ(out[0].destination_mac, peer_mac);
    EXPECT_EQ(synack.flags, TcpFlag::Syn | TcpFlag::Ack);
    EXPECT_EQ(synack.source_port, 80);
    EXPECT_EQ(synack.destination_port, client_port);
    EXPECT_EQ(synack.acknowledgment, client_seq);
    EXPECT_TRUE(synack.options.has_mss);
    EXPECT_EQ(synack.options.mss, 1460); // MTU 1500 - 40
    EXPECT_TRUE(synack.options.has_window_scale);
    EXPECT_EQ(synack.options.window_scale, 3); // 256 KiB needs a shift of 3
    EXPECT_EQ(synack.window, 65535); // never scaled in a SYN
    EXPECT_FALSE(synack.options.sack_permitted); // not offered back
    EXPECT_EQ(stack->counters().tcp_connections_active, 0u);
    EXPECT_EQ(listener->accept(), nullptr); // not established yet
    EXPECT_EQ(listener->half_open(), 1u);

    server_seq = synack.sequence + 1;
    client_send(TcpFlag::Ack);
    TcpSocket* socket = listener->accept();
    ASSERT_NE(socket, nullptr);
    EXPECT_EQ(socket->state(), TcpState::Established);
    EXPECT_EQ(socket->remote_address(), peer_ip);
    EXPECT_EQ(socket->remote_port(), client_port);
    EXPECT_EQ(socket->send_mss(), 1400u);
    EXPECT_EQ(socket->send_window_scale(), 7);
    EXPECT_EQ(socket->receive_window_scale(), 3);
    EXPECT_EQ(socket->send_window(), 65535u << 7);
    EXPECT_EQ(stack->counters().tcp_connections_opened, 1u);
    EXPECT_EQ(stack->counters().tcp_connections_active, 1u);
    EXPECT_EQ(listener->half_open(), 0u);
    socket->release();
}

TEST_F(TcpTest, WithoutOptionsTheDefaultsApply)
{
    TcpSocket* socket = open(std::nullopt, std::nullopt);
    ASSERT_NE(socket, nullptr);
    EXPECT_EQ(socket->send_mss(), 536u); // RFC 9293 default
    EXPECT_EQ(socket->receive_window_scale(), 0);
    // Our window is capped at 64 KiB without scaling, and segments honour the MSS.
    socket->send(pattern(2000));
    auto out = tcp_out();
    ASSERT_GE(out.size(), 3u);
    for (auto& s : out) {
        EXPECT_LE(s.tcp_payload.size(), 536u);
        EXPECT_EQ(s.tcp->window, 65535);
    }
    socket->release();
}

TEST_F(TcpTest, DataFromTheClientIsDeliveredAndAckedWithDelay)
{
    TcpSocket* socket = open();
    Bytes first = pattern(1000, 2);
    client_send(TcpFlag::Ack | TcpFlag::Psh, first);
    EXPECT_TRUE(tcp_out().empty()); // delayed ACK
    EXPECT_EQ(socket->available(), 1000u);
    run_until(now + 39 * ms);
    EXPECT_TRUE(tcp_out().empty());
    run_until(now + 2 * ms);
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].tcp->acknowledgment, client_seq);
    EXPECT_TRUE(out[0].tcp_payload.empty());
    // The window is scaled by 8 and shrank by what is buffered.
    EXPECT_EQ(out[0].tcp->window, (256 * 1024 - 1000 + 7) / 8);

    // Two segments: the second is acknowledged at once.
    client_send(TcpFlag::Ack, pattern(1460, 3));
    EXPECT_TRUE(tcp_out().empty());
    client_send(TcpFlag::Ack, pattern(1460, 4));
    out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].tcp->acknowledgment, client_seq);

    Bytes received = read_all(socket);
    Bytes expected = first;
    for (uint64_t seed : { 3, 4 }) {
        Bytes more = pattern(1460, seed);
        expected.insert(expected.end(), more.begin(), more.end());
    }
    EXPECT_EQ(received, expected);
    EXPECT_EQ(stack->counters().tcp_bytes_received, expected.size());
    socket->release();
}

TEST_F(TcpTest, NagleHoldsTheSmallTailUntilAcked)
{
    TcpSocket* socket = open();
    Bytes data = pattern(3000, 5);
    EXPECT_EQ(socket->send(data), 3000u);
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 2u); // two full segments; 80 bytes wait (Nagle)
    EXPECT_EQ(out[0].tcp_payload.size(), 1460u);
    EXPECT_EQ(out[1].tcp_payload.size(), 1460u);
    EXPECT_FALSE(out[0].tcp->has(TcpFlag::Psh));
    take_data(out);
    client_ack_all();
    out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].tcp_payload.size(), 80u);
    EXPECT_TRUE(out[0].tcp->has(TcpFlag::Psh));
    EXPECT_EQ(take_data(out), Bytes(data.begin() + 2920, data.end()));
    client_ack_all();

    // A small write with nothing in flight goes at once.
    socket->send(pattern(10, 6));
    EXPECT_EQ(tcp_out().size(), 1u);
    socket->send(pattern(10, 7)); // 10 bytes in flight: held
    EXPECT_TRUE(tcp_out().empty());
    socket->set_nagle(Nagle::Disabled);
    socket->send(pattern(10, 8)); // no delay: both small writes go now
    out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].tcp_payload.size(), 20u);
    socket->release();
}

TEST_F(TcpTest, SendRespectsThePeersScaledWindow)
{
    client_window = 1000;
    TcpSocket* socket = open(1460, 2); // window 1000 << 2 = 4000 bytes
    EXPECT_EQ(socket->send_window(), 4000u);
    socket->send(pattern(10000, 9));
    auto out = tcp_out();
    // Two full segments; the 1080 bytes left in the window are held back
    // (sender SWS avoidance: less than half the largest window offered).
    EXPECT_EQ(take_data(out).size(), 2920u);
    client_ack(server_seq, 2000); // opens to 8000
    out = tcp_out();
    EXPECT_EQ(take_data(out).size(), 5840u);
    client_ack(server_seq, 2000);
    out = tcp_out();
    EXPECT_EQ(take_data(out).size(), 1240u); // the rest: nothing in flight now
    socket->release();
}

TEST_F(TcpTest, RetransmitsOnTimeoutWithExponentialBackoff)
{
    TcpSocket* socket = open();
    uint64_t rto = socket->rtt().rto_ns();
    EXPECT_EQ(rto, 200 * ms); // handshake RTT 0: the minimum applies
    socket->send(pattern(100, 10));
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    uint32_t sequence = out[0].tcp->sequence;
    uint64_t sent_at = now;
    std::vector<uint64_t> retransmit_times;
    while (retransmit_times.size() < 4) {
        advance(1 * ms);
        for (auto& s : tcp_out()) {
            EXPECT_EQ(s.tcp->sequence, sequence);
            EXPECT_EQ(s.tcp_payload.size(), 100u);
            retransmit_times.push_back(now - sent_at);
        }
    }
    // 200, 200+400, 600+800, 1400+1600 ms.
    EXPECT_EQ(retransmit_times[0], 200 * ms);
    EXPECT_EQ(retransmit_times[1], 600 * ms);
    EXPECT_EQ(retransmit_times[2], 1400 * ms);
    EXPECT_EQ(retransmit_times[3], 3000 * ms);
    EXPECT_EQ(stack->counters().tcp_timeouts, 4u);
    EXPECT_EQ(socket->congestion_window(), 1460u); // loss window
    server_seq = sequence + 100;
    client_ack_all();
    run_until(now + 10'000 * ms, 10 * ms);
    EXPECT_TRUE(tcp_out().empty()); // timer off once everything is acknowledged
    socket->release();
}

TEST_F(TcpTest, GivesUpAfterTooManyRetransmissions)
{
    TcpSocket* socket = open();
    socket->send(pattern(100, 10));
    Sent last;
    size_t count = 0;
    while (now < 20 * 60'000 * ms && !socket->is_closed()) {
        advance(100 * ms);
        for (auto& s : tcp_out()) {
            last = s;
            ++count;
        }
    }
    EXPECT_TRUE(socket->is_closed());
    EXPECT_TRUE(socket->was_reset());
    EXPECT_EQ(stack->counters().tcp_connections_timed_out, 1u);
    EXPECT_EQ(count, 14u); // the original, 12 retransmissions, the reset
    ASSERT_TRUE(last.tcp);
    EXPECT_TRUE(last.tcp->has(TcpFlag::Rst)) << int(last.tcp->flags);
    socket->release();
    advance(1);
    EXPECT_EQ(stack->connection_count(), 0u);
}

TEST_F(TcpTest, RttSamplesSetTheTimeout)
{
    TcpFields syn = fields(TcpFlag::Syn);
    syn.mss = 1460;
    inject(syn);
    ++client_seq;
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    server_seq = out[0].tcp->sequence + 1;
    now += 100 * ms; // the handshake takes 100 ms
    client_send(TcpFlag::Ack);
    TcpSocket* socket = listener->accept();
    ASSERT_NE(socket, nullptr);
    // First sample: SRTT 100, RTTVAR 50, RTO 300 ms.
    EXPECT_EQ(socket->rtt().srtt_ns(), 100 * ms);
    EXPECT_EQ(socket->rtt().rto_ns(), 300 * ms);
    socket->send(pattern(100, 1));
    out = tcp_out();
    take_data(out);
    now += 100 * ms;
    client_ack_all();
    // Second sample of 100 ms: RTTVAR 37.5, RTO 250 ms.
    EXPECT_EQ(socket->rtt().rto_ns(), 250 * ms);
    socket->release();
}

TEST_F(TcpTest, FastRetransmitAfterThreeDuplicateAcksAndNewRenoPartialAck)
{
    TcpSocket* socket = open();
    Bytes data = pattern(20 * 1460, 12);
    socket->send(data);
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 10u); // initial window: 10 segments
    uint32_t base = server_seq;
    auto segment_start = [&](int i) { return base + static_cast<uint32_t>(i) * 1460; };
    // Segments 1 and 4 (0-based) are lost. The client ACKs segment 0, then
    // sends a duplicate ACK for each later segment that arrives.
    client_ack(segment_start(1), 65535);
    out = tcp_out(); // the window slides: one more segment may go
    for (int i = 0; i < 3; ++i)
        client_ack(segment_start(1), 65535);
    out = tcp_out();
    ASSERT_GE(out.size(), 1u);
    EXPECT_EQ(out[0].tcp->sequence, segment_start(1)); // fast retransmit, no timeout
    EXPECT_EQ(out[0].tcp_payload, Bytes(data.begin() + 1460, data.begin() + 2 * 1460));
    EXPECT_EQ(stack->counters().tcp_fast_retransmits, 1u);
    EXPECT_EQ(stack->counters().tcp_timeouts, 0u);
    EXPECT_TRUE(socket->in_fast_recovery());
    uint32_t ssthresh = socket->slow_start_threshold();
    EXPECT_EQ(ssthresh, 11u * 1460 / 2); // FlightSize/2 (11 segments were out)

    // Partial ACK: segments 1..3 now covered, 4 still missing: NewReno
    // retransmits segment 4 at once and stays in recovery.
    client_ack(segment_start(4), 65535);
    out = tcp_out();
    ASSERT_GE(out.size(), 1u);
    EXPECT_EQ(out[0].tcp->sequence, segment_start(4));
    EXPECT_TRUE(socket->in_fast_recovery());
    EXPECT_EQ(stack->counters().tcp_timeouts, 0u);

    // Everything up to "recover" acknowledged: recovery ends, cwnd deflates.
    for (auto& s : out)
        (void)s;
    uint32_t recover_point = base + 12 * 1460; // SND.MAX when recovery began (12 segments out)
    client_ack(recover_point, 65535);
    EXPECT_FALSE(socket->in_fast_recovery());
    EXPECT_LE(socket->congestion_window(), ssthresh);
    socket->release();
}

TEST_F(TcpTest, OutOfOrderSegmentsAreQueuedNotDropped)
{
    TcpSocket* socket = open();
    Bytes a = pattern(1000, 20), b = pattern(1000, 21), c = pattern(500, 22);
    uint32_t start = client_seq;
    TcpFields f = fields(TcpFlag::Ack);
    f.sequence = start + 1000;
    inject(f, b); // arrives before a
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 1u); // immediate duplicate ACK
    EXPECT_EQ(out[0].tcp->acknowledgment, start);
    EXPECT_EQ(socket->available(), 0u);
    f.sequence = start + 2000;
    inject(f, c);
    EXPECT_EQ(tcp_out().size(), 1u);
    EXPECT_EQ(stack->counters().tcp_out_of_order_segments, 2u);
    f.sequence = start;
    inject(f, a); // fills the hole
    out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].tcp->acknowledgment, start + 2500);
    Bytes expected = a;
    expected.insert(expected.end(), b.begin(), b.end());
    expected.insert(expected.end(), c.begin(), c.end());
    EXPECT_EQ(read_all(socket), expected);
    socket->release();
}

TEST_F(TcpTest, OutOfOrderFinIsHeldUntilTheGapCloses)
{
    TcpSocket* socket = open();
    uint32_t start = client_seq;
    TcpFields f = fields(TcpFlag::Ack | TcpFlag::Fin);
    f.sequence = start + 100;
    inject(f, pattern(50, 1));
    tcp_out();
    EXPECT_EQ(socket->state(), TcpState::Established);
    f = fields(TcpFlag::Ack);
    f.sequence = start;
    inject(f, pattern(100, 2));
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].tcp->acknowledgment, start + 151); // data and FIN
    EXPECT_EQ(socket->state(), TcpState::CloseWait);
    EXPECT_EQ(read_all(socket).size(), 150u);
    EXPECT_TRUE(socket->peer_closed());
    socket->release();
}

TEST_F(TcpTest, ZeroWindowIsProbedUntilItOpens)
{
    TcpSocket* socket = open();
    client_ack(server_seq, 0); // the client's buffer is full
    socket->send(pattern(3000, 30));
    EXPECT_TRUE(tcp_out().empty());
    std::vector<uint64_t> probe_times;
    uint64_t start = now;
    while (probe_times.size() < 3) {
        advance(1 * ms);
        for (auto& s : tcp_out()) {
            EXPECT_TRUE(s.tcp_payload.empty());
            EXPECT_EQ(s.tcp->sequence, server_seq - 1); // an old sequence number: forces an ACK
            probe_times.push_back(now - start);
        }
    }
    EXPECT_EQ(probe_times[0], 200 * ms);
    EXPECT_EQ(probe_times[1], 600 * ms); // backed off
    EXPECT_EQ(probe_times[2], 1400 * ms);
    EXPECT_EQ(stack->counters().tcp_zero_window_probes, 3u);
    client_ack(server_seq, 65535); // the answer to a probe: window open
    auto out = tcp_out();
    EXPECT_EQ(take_data(out).size(), 2920u); // Nagle holds the last 80 bytes
    client_ack_all();
    out = tcp_out();
    EXPECT_EQ(take_data(out).size(), 80u);
    socket->release();
}

TEST_F(TcpTest, ReceiveWindowClosesAndReopensWithAWindowUpdate)
{
    config.tcp_receive_buffer = 8192;
    TearDown();
    allocator.never_fail();
    stack = nullptr;
    start();
    TcpSocket* socket = open();
    EXPECT_EQ(socket->receive_window_scale(), 0);
    for (int i = 0; i < 6; ++i)
        client_send(TcpFlag::Ack, pattern(1460, 40 + i)); // 8760 > 8192
    auto out = tcp_out();
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.back().tcp->window, 0);
    EXPECT_EQ(out.back().tcp->acknowledgment, client_seq - (6 * 1460 - 8192)); // only what fit
    EXPECT_EQ(socket->available(), 8192u);
    // The reader frees space: a window update goes out at once.
    Bytes some(4096);
    socket->receive(some);
    out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].tcp->window, 4096);
    socket->release();
}

TEST_F(TcpTest, PassiveCloseFromTheClient)
{
    TcpSocket* socket = open();
    client_send(TcpFlag::Ack | TcpFlag::Fin, { 'b', 'y', 'e' });
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].tcp->acknowledgment, client_seq); // FIN acknowledged at once
    EXPECT_EQ(socket->state(), TcpState::CloseWait);
    EXPECT_FALSE(socket->peer_closed()); // data still unread
    EXPECT_EQ(read_all(socket), (Bytes { 'b', 'y', 'e' }));
    EXPECT_TRUE(socket->peer_closed());
    // The server may still send, then closes.
    EXPECT_EQ(socket->send(Bytes { 'o', 'k' }), 2u);
    socket->close();
    EXPECT_EQ(socket->state(), TcpState::LastAck);
    EXPECT_EQ(socket->send(Bytes { 'x' }), 0u);
    out = tcp_out();
    Bytes data = take_data(out);
    EXPECT_EQ(data, (Bytes { 'o', 'k' }));
    EXPECT_TRUE(out.back().tcp->has(TcpFlag::Fin));
    client_ack_all();
    EXPECT_EQ(socket->state(), TcpState::Closed);
    EXPECT_TRUE(socket->is_closed());
    EXPECT_FALSE(socket->was_reset());
    EXPECT_EQ(stack->connection_count(), 1u); // the owner still holds it
    socket->release();
    advance(1);
    EXPECT_EQ(stack->connection_count(), 0u);
    EXPECT_EQ(stack->counters().tcp_connections_active, 0u);
}

TEST_F(TcpTest, ActiveCloseGoesThroughTimeWait)
{
    config.tcp_msl_ms = 1000;
    TearDown();
    stack = nullptr;
    start();
    TcpSocket* socket = open();
    socket->send(Bytes { 'h', 'i' });
    socket->close();
    EXPECT_EQ(socket->state(), TcpState::FinWait1);
    auto out = tcp_out();
    EXPECT_EQ(take_data(out), (Bytes { 'h', 'i' }));
    EXPECT_TRUE(out.back().tcp->has(TcpFlag::Fin));
    client_ack_all();
    EXPECT_EQ(socket->state(), TcpState::FinWait2);
    socket->release(); // the owner is done; the stack finishes the close
    client_send(TcpFlag::Ack | TcpFlag::Fin);
    out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].tcp->acknowledgment, client_seq);
    EXPECT_EQ(stack->connection_count(), 1u); // TIME-WAIT holds the 4-tuple
    // A retransmitted FIN is acknowledged again.
    client_seq -= 1;
    run_until(now + 1500 * ms, 10 * ms);
    client_send(TcpFlag::Ack | TcpFlag::Fin);
    EXPECT_EQ(tcp_out().size(), 1u);
    run_until(now + 1999 * ms, 10 * ms); // 2*MSL restarted by that FIN
    EXPECT_EQ(stack->connection_count(), 1u);
    run_until(now + 2 * ms);
    EXPECT_EQ(stack->connection_count(), 0u);
}

TEST_F(TcpTest, SimultaneousCloseGoesThroughClosing)
{
    TcpSocket* socket = open();
    socket->close();
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(out[0].tcp->has(TcpFlag::Fin));
    // The client's FIN crosses ours: it does not acknowledge our FIN yet.
    client_send(TcpFlag::Ack | TcpFlag::Fin);
    EXPECT_EQ(socket->state(), TcpState::Closing);
    server_seq += 1;
    client_ack_all();
    EXPECT_EQ(socket->state(), TcpState::TimeWait);
    EXPECT_TRUE(socket->is_closed());
    socket->release();
}

TEST_F(TcpTest, ResetHandlingFollowsRfc5961)
{
    TcpSocket* socket = open();
    // In the window but not exactly RCV.NXT: challenge ACK, connection lives.
    TcpFields f = fields(TcpFlag::Rst);
    f.sequence = client_seq + 100;
    inject(f);
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].tcp->flags, TcpFlag::Ack);
    EXPECT_EQ(out[0].tcp->acknowledgment, client_seq);
    EXPECT_EQ(socket->state(), TcpState::Established);
    EXPECT_EQ(stack->counters().tcp_challenge_acks, 1u);
    // Outside the window: ignored silently.
    f.sequence = client_seq + 10'000'000;
    inject(f);
    EXPECT_TRUE(tcp_out().empty());
    EXPECT_EQ(socket->state(), TcpState::Established);
    // A SYN on an established connection: challenge ACK too.
    TcpFields syn = fields(TcpFlag::Syn);
    inject(syn);
    EXPECT_EQ(tcp_out().size(), 1u);
    EXPECT_EQ(socket->state(), TcpState::Established);
    // Exactly RCV.NXT: reset.
    client_send(TcpFlag::Rst);
    EXPECT_TRUE(tcp_out().empty());
    EXPECT_TRUE(socket->is_closed());
    EXPECT_TRUE(socket->was_reset());
    EXPECT_EQ(socket->send(Bytes { 1 }), 0u);
    EXPECT_EQ(stack->counters().tcp_connections_reset, 1u);
    socket->release();
}

TEST_F(TcpTest, ResetInSynReceivedDropsTheEmbryo)
{
    TcpFields syn = fields(TcpFlag::Syn);
    inject(syn);
    ++client_seq;
    tcp_out();
    EXPECT_EQ(stack->connection_count(), 1u);
    client_send(TcpFlag::Rst);
    EXPECT_EQ(stack->connection_count(), 0u);
    EXPECT_EQ(listener->half_open(), 0u);
    EXPECT_EQ(listener->accept(), nullptr);
}

TEST_F(TcpTest, ClosedPortsAnswerWithReset)
{
    TcpFields syn = fields(TcpFlag::Syn);
    syn.destination_port = 81;
    syn.sequence = 5000;
    inject(syn, { 1, 2, 3 });
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].tcp->flags, TcpFlag::Rst | TcpFlag::Ack);
    EXPECT_EQ(out[0].tcp->sequence, 0u);
    EXPECT_EQ(out[0].tcp->acknowledgment, 5004u); // SEG.SEQ + SEG.LEN
    TcpFields ack = fields(TcpFlag::Ack);
    ack.destination_port = 81;
    ack.acknowledgment = 777;
    inject(ack);
    out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].tcp->flags, TcpFlag::Rst);
    EXPECT_EQ(out[0].tcp->sequence, 777u);
    // A stray ACK to the listening port is reset too; a RST never is.
    ack.destination_port = 80;
    inject(ack);
    EXPECT_EQ(tcp_out().size(), 1u);
    TcpFields rst = fields(TcpFlag::Rst);
    rst.destination_port = 81;
    inject(rst);
    EXPECT_TRUE(tcp_out().empty());
    EXPECT_EQ(stack->counters().tcp_no_socket, 3u);
}

TEST_F(TcpTest, BadChecksumsAndMalformedHeadersAreDropped)
{
    TcpFields syn = fields(TcpFlag::Syn);
    syn.corrupt_checksum = true;
    inject(syn);
    EXPECT_EQ(stack->counters().tcp_bad_checksum, 1u);
    Bytes segment = tcp(peer_ip, stack_ip, fields(TcpFlag::Syn), {});
    segment[12] = 0x10; // data offset 4 bytes
    Ipv4Fields ip;
    receive(ip_frame(ip, segment)); // checksum no longer matches either way; fix it
    EXPECT_TRUE(tcp_out().empty());
    EXPECT_EQ(stack->connection_count(), 0u);
}

TEST_F(TcpTest, SynBacklogBoundsHalfOpenConnections)
{
    config.tcp_syn_backlog = 4;
    TearDown();
    stack = nullptr;
    start();
    for (uint16_t i = 0; i < 10; ++i) {
        TcpFields syn = fields(TcpFlag::Syn);
        syn.source_port = static_cast<uint16_t>(50000 + i);
        inject(syn);
    }
    EXPECT_EQ(tcp_out().size(), 4u); // four SYN-ACKs
    EXPECT_EQ(stack->counters().tcp_backlog_full, 6u);
    EXPECT_EQ(listener->half_open(), 4u);
    // Half-open connections give up after the SYN-ACK retries; room again.
    run_until(now + 120'000 * ms, 100 * ms);
    EXPECT_EQ(listener->half_open(), 0u);
    EXPECT_EQ(stack->connection_count(), 0u);
    EXPECT_EQ(stack->counters().tcp_connections_timed_out, 4u);
}

TEST_F(TcpTest, AcceptQueueAndConnectionLimits)
{
    config.tcp_max_connections = 3;
    TearDown();
    stack = nullptr;
    create();
    listener = MUST(stack->tcp_listen(80, 2));
    std::vector<TcpSocket*> sockets;
    for (int i = 0; i < 2; ++i) {
        client_port = static_cast<uint16_t>(41000 + i);
        client_seq = 1000;
        TcpFields syn = fields(TcpFlag::Syn);
        inject(syn);
        auto out = tcp_out();
        ASSERT_EQ(out.size(), 1u);
        server_seq = out[0].tcp->sequence + 1;
        client_seq = 1001;
        client_send(TcpFlag::Ack);
    }
    EXPECT_EQ(listener->pending(), 2u);
    client_port = 42000;
    inject(fields(TcpFlag::Syn)); // accept queue full
    EXPECT_EQ(stack->counters().tcp_backlog_full, 1u);
    sockets.push_back(listener->accept());
    sockets.push_back(listener->accept());
    inject(fields(TcpFlag::Syn)); // third connection: allowed
    EXPECT_EQ(tcp_out().size(), 1u);
    client_port = 42001;
    inject(fields(TcpFlag::Syn)); // fourth: over the limit
    EXPECT_TRUE(tcp_out().empty());
    EXPECT_EQ(stack->counters().tcp_connection_limit, 1u);
    for (auto* socket : sockets)
        socket->abort(), socket->release();
}

TEST_F(TcpTest, LostSynAckIsRetransmittedAndARepeatedSynAnswered)
{
    TcpFields syn = fields(TcpFlag::Syn);
    inject(syn);
    auto first = tcp_out();
    ASSERT_EQ(first.size(), 1u);
    inject(syn); // the client did not get it and retries
    auto again = tcp_out();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].tcp->flags, TcpFlag::Syn | TcpFlag::Ack);
    EXPECT_EQ(again[0].tcp->sequence, first[0].tcp->sequence);
    run_until(now + 1000 * ms);
    auto timeout = tcp_out();
    ASSERT_EQ(timeout.size(), 1u); // initial RTO 1 s
    EXPECT_EQ(timeout[0].tcp->flags, TcpFlag::Syn | TcpFlag::Ack);
    // A bad ACK in SYN-RECEIVED is answered with <SEQ=SEG.ACK><CTL=RST>.
    TcpFields bad = fields(TcpFlag::Ack);
    bad.sequence = client_seq + 1;
    bad.acknowledgment = first[0].tcp->sequence + 1000;
    inject(bad);
    auto reset = tcp_out();
    ASSERT_EQ(reset.size(), 1u);
    EXPECT_EQ(reset[0].tcp->flags, TcpFlag::Rst);
    EXPECT_EQ(reset[0].tcp->sequence, bad.acknowledgment);
}

TEST_F(TcpTest, KeepaliveProbesThenResets)
{
    TcpSocket* socket = open();
    socket->set_keepalive(1000, 500, 3);
    run_until(now + 999 * ms);
    EXPECT_TRUE(tcp_out().empty());
    run_until(now + 1 * ms);
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].tcp->sequence, server_seq - 1);
    client_ack_all(); // answered: idle again
    run_until(now + 999 * ms);
    EXPECT_TRUE(tcp_out().empty());
    run_until(now + 1000 * ms + 3 * 500 * ms);
    out = tcp_out();
    ASSERT_EQ(out.size(), 4u); // three probes, then a reset
    EXPECT_TRUE(out.back().tcp->has(TcpFlag::Rst));
    EXPECT_TRUE(socket->was_reset());
    EXPECT_EQ(stack->counters().tcp_keepalive_probes, 4u);
    socket->release();
}

TEST_F(TcpTest, ReleasingWithUnreadDataResets)
{
    TcpSocket* socket = open();
    client_send(TcpFlag::Ack, { 1, 2, 3 });
    tcp_out();
    socket->release();
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(out[0].tcp->has(TcpFlag::Rst));
    advance(1);
    EXPECT_EQ(stack->connection_count(), 0u);
}

TEST_F(TcpTest, FullTransmitRingDefersOutputUntilPoll)
{
    TcpSocket* socket = open();
    wire.busy_remaining = 1;
    EXPECT_EQ(socket->send(pattern(100, 50)), 100u);
    EXPECT_TRUE(tcp_out().empty());
    EXPECT_EQ(stack->counters().drop_ring_full, 1u);
    advance(1);
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].tcp_payload, pattern(100, 50));
    EXPECT_EQ(stack->counters().transmit_retries, 1u);
    socket->release();
}

TEST_F(TcpTest, ReopensATimeWaitConnectionWithAHigherSequence)
{
    TcpSocket* socket = open();
    socket->close();
    tcp_out();
    server_seq += 1;
    client_send(TcpFlag::Ack | TcpFlag::Fin);
    EXPECT_EQ(socket->state(), TcpState::TimeWait);
    socket->release();
    tcp_out();
    client_seq += 100'000;
    TcpFields syn = fields(TcpFlag::Syn);
    inject(syn);
    auto out = tcp_out();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].tcp->flags, TcpFlag::Syn | TcpFlag::Ack);
    EXPECT_EQ(out[0].tcp->acknowledgment, client_seq + 1);
}

TEST_F(TcpTest, NicVerifiedChecksumsAreTrusted)
{
    TcpFields syn = fields(TcpFlag::Syn);
    syn.corrupt_checksum = true;
    Ipv4Fields ip;
    stack->receive(ip_frame(ip, tcp(peer_ip, stack_ip, syn, {})), now, Stack::RxChecksum::Verified);
    EXPECT_EQ(tcp_out().size(), 1u); // answered: the NIC vouched for it
    EXPECT_EQ(stack->counters().tcp_bad_checksum, 0u);
}

TEST(NetCounters, EveryFieldIsExportedOnceByName)
{
    NetCounters counters;
    counters.tcp_retransmits = 7;
    size_t gauges = 0;
    bool found = false;
    for (auto& field : net_counter_fields()) {
        EXPECT_NE(field.name, nullptr);
        if (field.kind == NetCounterField::Kind::Gauge)
            ++gauges;
        if (std::string(field.name) == "tcp_retransmits") {
            EXPECT_EQ(counters.*field.field, 7u);
            found = true;
        }
    }
    EXPECT_TRUE(found);
    EXPECT_EQ(gauges, 1u);
    EXPECT_EQ(net_counter_fields().size() * sizeof(uint64_t), sizeof(NetCounters));
}

TEST_F(TcpTest, TimeWaitConnectionsMakeRoomAtTheLimit)
{
    config.tcp_max_connections = 2;
    TearDown();
    stack = nullptr;
    start();
    for (int i = 0; i < 4; ++i) {
        // The server closes first: each connection ends in TIME-WAIT.
        client_port = static_cast<uint16_t>(43000 + i);
        client_seq = 1000;
        TcpSocket* socket = open();
        ASSERT_NE(socket, nullptr) << i;
        socket->close();
        tcp_out();
        server_seq += 1;
        client_send(TcpFlag::Ack | TcpFlag::Fin);
        EXPECT_EQ(socket->state(), TcpState::TimeWait);
        socket->release();
        tcp_out();
    }
    EXPECT_EQ(stack->connection_count(), 2u);
    EXPECT_EQ(stack->counters().tcp_time_wait_recycled, 2u);
    EXPECT_EQ(stack->counters().tcp_connection_limit, 0u);
}

TEST_F(TcpTest, OrphanFacingAClosedWindowIsEventuallyReset)
{
    TcpSocket* socket = open();
    client_ack(server_seq, 0);
    socket->send(pattern(1000, 1));
    socket->release(); // FIN queued behind data the peer never accepts
    run_until(now + 30 * 60'000 * ms, 100 * ms);
    EXPECT_EQ(stack->connection_count(), 0u);
    EXPECT_EQ(stack->counters().tcp_connections_timed_out, 1u);
}

TEST_F(TcpTest, ReleasingAnOrphanInFinWait2EndsAfterATimeout)
{
    TcpSocket* socket = open();
    socket->close();
    tcp_out();
    server_seq += 1;
    client_ack_all();
    EXPECT_EQ(socket->state(), TcpState::FinWait2);
    socket->release(); // the peer never sends its FIN
    run_until(now + 59'000 * ms, 100 * ms);
    EXPECT_EQ(stack->connection_count(), 1u);
    run_until(now + 2'000 * ms, 100 * ms);
    EXPECT_EQ(stack->connection_count(), 0u);
}

TEST_F(TcpTest, KeepaliveOnAClosedConnectionArmsNothing)
{
    TcpSocket* socket = open();
    socket->abort();
    socket->set_keepalive(1000);
    EXPECT_TRUE(stack->invariants_hold()); // found by fuzz_net_stack: a closed socket kept a timer
    socket->release();
}
