// Bulk transfers through a lossy, reordering, duplicating in-memory link on
// the virtual clock: the stack against a simple scripted TCP peer, in both
// directions. The proof that retransmission, fast recovery and the
// out-of-order queue together deliver every byte exactly once, in order.
#include "TcpFixture.h"

#include <gtest/gtest.h>
#include <map>

using namespace aisos;
using namespace aisos::net;
using namespace aisos::net::test;

namespace {

constexpr uint64_t us = 1'000;

struct LinkProfile {
    uint32_t loss_per_mille { 30 };
    uint32_t reorder_per_mille { 50 };
    uint32_t duplicate_per_mille { 10 };
    uint64_t delay_ns { 5 * ms };
};

struct LossyTransfer : TcpFixture, ::testing::WithParamInterface<uint64_t> {
    LinkProfile profile;
    uint64_t link_seed { GetParam() };
    std::multimap<uint64_t, std::pair<bool, Bytes>> in_flight; // time -> (to stack?, frame)
    uint64_t frames_dropped { 0 };

    uint32_t chance() { return static_cast<uint32_t>(test_random(&link_seed) % 1000); }
    void put_on_link(bool to_stack, const Bytes& frame)
    {
        if (chance() < profile.loss_per_mille) {
            ++frames_dropped;
            return;
        }
        uint64_t delay = profile.delay_ns;
        if (chance() < profile.reorder_per_mille)
            delay += (1 + test_random(&link_seed) % 4) * ms; // overtaken by later frames
        in_flight.emplace(now + delay, std::make_pair(to_stack, frame));
        if (chance() < profile.duplicate_per_mille)
            in_flight.emplace(now + delay + 1 * ms, std::make_pair(to_stack, frame));
    }
    Bytes client_frame(TcpFields f, const Bytes& payload = {}) { return ip_frame({}, tcp(peer_ip, stack_ip, f, payload)); }

    // Delivers what is due; frames for the client go to `client`.
    template<typename Client>
    void deliver(Client&& client)
    {
        while (!in_flight.empty() && in_flight.begin()->first <= now) {
            auto [to_stack, frame] = in_flight.begin()->second;
            in_flight.erase(in_flight.begin());
            if (to_stack)
                receive(frame);
            else
                client(decode(frame));
        }
    }
    // The stack's output onto the link (ARP is answered directly).
    void collect_stack_output()
    {
        for (auto& frame : wire.take()) {
            Sent s = decode(frame);
            if (s.ethertype == 0x0806) {
                if (load_be16(&s.l3[6]) == 1)
                    receive(ethernet(stack_mac, peer_mac, 0x0806, arp_packet(2, peer_mac, peer_ip, stack_mac, stack_ip)));
                continue;
            }
            put_on_link(false, frame);
        }
    }
};

// The receiving peer: cumulative ACKs, keeps out-of-order data.
struct PeerReceiver {
    uint32_t rcv_nxt { 0 };
    std::map<uint32_t, Bytes> out_of_order;
    std::optional<uint32_t> fin_sequence;
    bool fin_received { false };
    Bytes data;

    void take(uint32_t sequence, const Bytes& payload)
    {
        if (seq_leq(sequence + static_cast<uint32_t>(payload.size()), rcv_nxt))
            return;
        if (seq_gt(sequence, rcv_nxt)) {
            out_of_order[sequence] = payload;
            return;
        }
        uint32_t skip = rcv_nxt - sequence;
        data.insert(data.end(), payload.begin() + skip, payload.end());
        rcv_nxt += static_cast<uint32_t>(payload.size()) - skip;
    }
    void on_segment(const Sent& s)
    {
        take(s.tcp->sequence, s.tcp_payload);
        if (s.tcp->has(TcpFlag::Fin))
            fin_sequence = s.tcp->sequence + static_cast<uint32_t>(s.tcp_payload.size());
        bool progress = true;
        while (progress) {
            progress = false;
            for (auto it = out_of_order.begin(); it != out_of_order.end(); ++it) {
                if (seq_leq(it->first, rcv_nxt)) {
                    Bytes payload = it->second;
                    uint32_t sequence = it->first;
                    out_of_order.erase(it);
                    take(sequence, payload);
                    progress = true;
                    break;
                }
            }
        }
        if (fin_sequence && *fin_sequence == rcv_nxt && !fin_received) {
            fin_received = true;
            rcv_nxt += 1;
        }
    }
};

}

TEST_P(LossyTransfer, DownloadArrivesIntactThroughLossAndReordering)
{
    start();
    TcpSocket* socket = open(1460, 7);
    ASSERT_NE(socket, nullptr);
    Bytes payload = pattern(3 * 1024 * 1024, 77);
    size_t written = 0;
    bool closed = false;
    PeerReceiver peer;
    peer.rcv_nxt = server_seq;
    uint64_t deadline = now + 600'000 * ms;
    auto client = [&](const Sent& s) {
        if (!s.tcp)
            return;
        peer.on_segment(s);
        // ACK every segment, advertising 256 KiB (2048 << 7).
        TcpFields f = fields(TcpFlag::Ack);
        f.acknowledgment = peer.rcv_nxt;
        f.window = 2048;
        put_on_link(true, client_frame(f));
    };
    uint64_t started = now;
    while (now < deadline && !peer.fin_received) {
        now += 500 * us;
        deliver(client);
        stack->poll(now);
        if (written < payload.size())
            written += socket->send(std::span<const uint8_t>(payload).subspan(written));
        else if (!closed) {
            socket->close();
            closed = true;
        }
        collect_stack_output();
        ASSERT_TRUE(stack->invariants_hold());
    }
    ASSERT_TRUE(peer.fin_received) << "stalled at " << peer.data.size() << " bytes";
    EXPECT_EQ(peer.data.size(), payload.size());
    EXPECT_TRUE(peer.data == payload);
    EXPECT_GT(frames_dropped, 50u);
    const auto& c = stack->counters();
    std::printf("download: %zu bytes in %.2f virtual s, %lu frames dropped, %lu RTOs, %lu fast retransmits, %lu segments retransmitted\n", payload.size(),
        (now - started) / 1e9, (unsigned long)frames_dropped, (unsigned long)c.tcp_timeouts, (unsigned long)c.tcp_fast_retransmits, (unsigned long)c.tcp_retransmits);
    EXPECT_GT(c.tcp_fast_retransmits, 0u);
    EXPECT_GT(c.tcp_retransmits, 0u);
    EXPECT_EQ(c.tcp_bytes_sent, payload.size());
    socket->release();
}

TEST_P(LossyTransfer, UploadArrivesIntactThroughLossAndReordering)
{
    start();
    TcpSocket* socket = open(1460, 7);
    ASSERT_NE(socket, nullptr);
    Bytes payload = pattern(3 * 1024 * 1024, 78);
    Bytes received;
    // A go-back-N sender with a fixed 128 KiB limit and a 200 ms timeout.
    uint32_t base = client_seq;
    size_t acked = 0, next = 0;
    uint32_t peer_window = 65535;
    uint64_t timer = 0;
    bool fin_acked = false;
    auto client = [&](const Sent& s) {
        if (!s.tcp || !s.tcp->has(TcpFlag::Ack))
            return;
        uint32_t ack = s.tcp->acknowledgment;
        peer_window = static_cast<uint32_t>(s.tcp->window) << 3;
        size_t offset = ack - base;
        if (offset > payload.size()) {
            fin_acked = true;
            offset = payload.size();
        }
        if (offset > acked) {
            acked = offset;
            if (next < acked)
                next = acked;
            timer = acked < payload.size() || !fin_acked ? now + 200 * ms : 0;
        }
    };
    uint64_t deadline = now + 600'000 * ms;
    while (now < deadline && !fin_acked) {
        now += 500 * us;
        deliver(client);
        stack->poll(now);
        // The server application reads whatever has arrived.
        Bytes chunk(64 * 1024);
        size_t n;
        while ((n = socket->receive(chunk)) > 0)
            received.insert(received.end(), chunk.begin(), chunk.begin() + n);
        collect_stack_output();
        if (timer && now >= timer) {
            next = acked; // go back N
            timer = now + 200 * ms;
        }
        uint32_t limit = std::min<uint32_t>(peer_window, 128 * 1024);
        while (next < payload.size() && next - acked < limit) {
            size_t length = std::min<size_t>({ 1460, payload.size() - next, limit - (next - acked) });
            TcpFields f = fields(TcpFlag::Ack);
            f.sequence = base + static_cast<uint32_t>(next);
            put_on_link(true, client_frame(f, Bytes(payload.begin() + next, payload.begin() + next + length)));
            next += length;
            if (!timer)
                timer = now + 200 * ms;
        }
        if (acked == payload.size() && !fin_acked && (next == payload.size())) {
            TcpFields f = fields(TcpFlag::Ack | TcpFlag::Fin);
            f.sequence = base + static_cast<uint32_t>(payload.size());
            put_on_link(true, client_frame(f));
            next = payload.size() + 1; // sent; the timer resends it
        }
        if (next > payload.size() && timer && now + 1 >= timer)
            next = payload.size();
        collect_stack_output();
        ASSERT_TRUE(stack->invariants_hold());
    }
    ASSERT_TRUE(fin_acked) << "stalled at " << acked << " bytes acknowledged";
    Bytes chunk(64 * 1024);
    size_t n;
    while ((n = socket->receive(chunk)) > 0)
        received.insert(received.end(), chunk.begin(), chunk.begin() + n);
    EXPECT_EQ(received.size(), payload.size());
    EXPECT_TRUE(received == payload);
    EXPECT_TRUE(socket->peer_closed());
    EXPECT_GT(stack->counters().tcp_out_of_order_segments, 100u);
    EXPECT_EQ(stack->counters().tcp_bytes_received, payload.size());
    socket->release();
}

TEST_P(LossyTransfer, AllocationFailuresNeverCrash)
{
    // Connections opened while the allocator fails at every possible point:
    // each attempt is refused or reset cleanly and nothing leaks.
    start();
    for (long budget = 0; budget < 4; ++budget) {
        client_port = static_cast<uint16_t>(45000 + budget);
        client_seq = 1000;
        allocator.fail_after(budget);
        TcpFields syn = fields(TcpFlag::Syn);
        syn.window_scale = 7;
        inject(syn);
        auto out = tcp_out();
        if (!out.empty()) {
            server_seq = out[0].tcp->sequence + 1;
            client_seq = 1001;
            client_send(TcpFlag::Ack, pattern(100, 1));
            tcp_out();
        }
        if (TcpSocket* socket = listener->accept()) {
            EXPECT_EQ(socket->available(), 100u);
            socket->abort();
            socket->release();
        }
        allocator.never_fail();
        advance(1);
    }
    EXPECT_GE(stack->counters().tcp_out_of_memory, 2u);
    EXPECT_EQ(stack->connection_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, LossyTransfer, ::testing::Values(99u, 7u, 12345u, 2026u));
