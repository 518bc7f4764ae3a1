// Two Stack instances talking to each other through an in-memory link that
// loses, reorders and duplicates frames: an active open on one side, a
// passive open on the other, megabytes both ways at once, then a graceful
// close. Both ends are this stack, so every rule is exercised from both
// sides (ARP between them included).
#include "NetTestHarness.h"
#include "lib/net/TcpSequence.h"

#include <gtest/gtest.h>
#include <map>

using namespace aisos;
using namespace aisos::net;
using namespace aisos::net::test;

namespace {

constexpr MacAddress client_mac { { 0x52, 0x54, 0x00, 0x00, 0x00, 0x02 } };
constexpr Ipv4Address client_ip = Ipv4Address::from_octets(10, 0, 2, 16);

struct Endpoint final : FrameTransmitter {
    ErrorOr<void> transmit(std::span<const uint8_t> frame) override
    {
        outgoing.emplace_back(frame.begin(), frame.end());
        return {};
    }
    std::vector<Bytes> outgoing;
    Stack* stack { nullptr };
};

struct TwoStacks : ::testing::TestWithParam<uint64_t> {
    MallocAllocator allocator;
    Endpoint server, client;
    uint64_t seed { 1 };
    uint64_t link_seed { GetParam() };
    uint64_t now { 1'000'000'000 };
    std::multimap<uint64_t, std::pair<Endpoint*, Bytes>> link;
    uint32_t loss_per_mille { 20 };

    void SetUp() override
    {
        auto server_config = static_config(&seed);
        server.stack = MUST(Stack::create(allocator, server, server_config));
        auto client_config = static_config(&seed);
        client_config.mac = client_mac;
        client_config.address = client_ip;
        client.stack = MUST(Stack::create(allocator, client, client_config));
    }
    void TearDown() override
    {
        EXPECT_TRUE(server.stack->invariants_hold());
        EXPECT_TRUE(client.stack->invariants_hold());
        Stack::destroy(server.stack);
        Stack::destroy(client.stack);
        EXPECT_EQ(allocator.live_allocations(), 0);
    }
    uint32_t chance() { return static_cast<uint32_t>(test_random(&link_seed) % 1000); }
    void carry(Endpoint& from, Endpoint& to)
    {
        for (auto& frame : from.outgoing) {
            if (chance() < loss_per_mille)
                continue;
            uint64_t delay = 2 * ms + (chance() < 50 ? (1 + test_random(&link_seed) % 3) * ms : 0);
            link.emplace(now + delay, std::make_pair(&to, frame));
            if (chance() < 10)
                link.emplace(now + delay + 500'000, std::make_pair(&to, frame));
        }
        from.outgoing.clear();
    }
    void step()
    {
        now += 250'000;
        while (!link.empty() && link.begin()->first <= now) {
            auto [to, frame] = link.begin()->second;
            link.erase(link.begin());
            to->stack->receive(frame, now);
        }
        server.stack->poll(now);
        client.stack->poll(now);
        carry(server, client);
        carry(client, server);
    }
};

Bytes TcpFixtureFreePattern(size_t size, uint64_t seed)
{
    Bytes data(size);
    for (auto& b : data)
        b = static_cast<uint8_t>(test_random(&seed));
    return data;
}

// Moves data between a socket and a buffer, returns true while work remains.
struct Pump {
    TcpSocket* socket;
    Bytes to_send;
    size_t sent { 0 };
    Bytes received;
    bool closed_by_us { false };
    void run()
    {
        if (sent < to_send.size())
            sent += socket->send(std::span<const uint8_t>(to_send).subspan(sent));
        else if (!closed_by_us && socket->is_connected()) {
            socket->close();
            closed_by_us = true;
        }
        uint8_t buffer[16384];
        size_t n;
        while ((n = socket->receive(buffer)) > 0)
            received.insert(received.end(), buffer, buffer + n);
    }
};

}

TEST_P(TwoStacks, BidirectionalTransferOverALossyLink)
{
    TcpListener* listener = MUST(server.stack->tcp_listen(80, 4));
    TcpSocket* client_socket = MUST(client.stack->tcp_connect(stack_ip, 80));
    EXPECT_FALSE(client_socket->is_connected());
    EXPECT_EQ(client_socket->send(Bytes { 1 }), 0u); // not connected yet
    TcpSocket* server_socket = nullptr;
    for (int i = 0; i < 40'000 && !server_socket; ++i) {
        step();
        server_socket = listener->accept();
    }
    ASSERT_NE(server_socket, nullptr);
    EXPECT_TRUE(client_socket->is_connected());
    EXPECT_EQ(server_socket->remote_address(), client_ip);
    EXPECT_EQ(server_socket->remote_port(), client_socket->local_port());
    EXPECT_GE(client_socket->local_port(), 49152);
    EXPECT_EQ(client_socket->send_window_scale(), 3); // both offered scaling
    EXPECT_EQ(server_socket->send_window_scale(), 3);

    Pump upload { client_socket, TcpFixtureFreePattern(2 * 1024 * 1024 + 777, 1) };
    Pump download { server_socket, TcpFixtureFreePattern(3 * 1024 * 1024 + 5, 2) };
    uint64_t deadline = now + 600'000 * ms;
    while (now < deadline) {
        upload.run();
        download.run();
        step();
        ASSERT_TRUE(server.stack->invariants_hold());
        ASSERT_TRUE(client.stack->invariants_hold());
        if (upload.closed_by_us && download.closed_by_us && client_socket->peer_closed() && server_socket->peer_closed()
            && client_socket->is_closed() && server_socket->is_closed())
            break;
    }
    upload.run();
    download.run();
    EXPECT_EQ(download.received.size(), upload.to_send.size());
    EXPECT_TRUE(download.received == upload.to_send);
    EXPECT_EQ(upload.received.size(), download.to_send.size());
    EXPECT_TRUE(upload.received == download.to_send);
    EXPECT_TRUE(client_socket->is_closed());
    EXPECT_TRUE(server_socket->is_closed());
    EXPECT_FALSE(client_socket->was_reset());
    EXPECT_FALSE(server_socket->was_reset());
    EXPECT_GT(server.stack->counters().tcp_retransmits + client.stack->counters().tcp_retransmits, 0u);
    std::printf("two stacks: %zu + %zu bytes in %.2f virtual s; retransmits %lu/%lu, fast %lu/%lu, OOO %lu/%lu\n", upload.to_send.size(), download.to_send.size(),
        (now - 1'000'000'000) / 1e9, (unsigned long)server.stack->counters().tcp_retransmits, (unsigned long)client.stack->counters().tcp_retransmits,
        (unsigned long)server.stack->counters().tcp_fast_retransmits, (unsigned long)client.stack->counters().tcp_fast_retransmits,
        (unsigned long)server.stack->counters().tcp_out_of_order_segments, (unsigned long)client.stack->counters().tcp_out_of_order_segments);
    server_socket->release();
    client_socket->release();
    // Both sides closed at the same time: both go through TIME-WAIT, then
    // everything is freed.
    for (int i = 0; i < 100'000; ++i)
        step();
    EXPECT_EQ(server.stack->connection_count(), 0u);
    EXPECT_EQ(client.stack->connection_count(), 0u);
}

TEST_P(TwoStacks, ConnectToAClosedPortFailsWithReset)
{
    loss_per_mille = 0;
    TcpSocket* socket = MUST(client.stack->tcp_connect(stack_ip, 81));
    for (int i = 0; i < 400 && !socket->is_closed(); ++i)
        step();
    EXPECT_TRUE(socket->is_closed());
    EXPECT_TRUE(socket->was_reset());
    EXPECT_FALSE(socket->is_connected());
    socket->release();
    step();
    EXPECT_EQ(client.stack->connection_count(), 0u);
}

TEST_P(TwoStacks, ConnectToASilentHostTimesOut)
{
    loss_per_mille = 1000; // nothing gets through
    TcpSocket* socket = MUST(client.stack->tcp_connect(stack_ip, 80));
    for (int i = 0; i < 4 * 200 * 1000 && !socket->is_closed(); ++i)
        step();
    EXPECT_TRUE(socket->is_closed());
    EXPECT_TRUE(socket->was_reset());
    EXPECT_EQ(client.stack->counters().tcp_connections_timed_out, 1u);
    socket->release();
}

INSTANTIATE_TEST_SUITE_P(Seeds, TwoStacks, ::testing::Values(3u, 17u, 2026u));
