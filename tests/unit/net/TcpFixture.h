#pragma once

// A scripted TCP client for packet-level tests: it sends segments into the
// Stack and reads back what the stack transmitted.

#include "NetTestHarness.h"
#include "lib/net/TcpSequence.h"

namespace aisos::net::test {

struct TcpFixture : StackFixture {
    TcpListener* listener { nullptr };
    uint16_t client_port { 40000 };
    uint32_t client_seq { 1000 }; // the client's next sequence number
    uint32_t server_seq { 0 }; // the next sequence number expected from the server
    uint32_t server_isn { 0 };
    uint16_t client_window { 65535 };

    void start(size_t backlog = 16)
    {
        create();
        listener = MUST(stack->tcp_listen(80, backlog));
    }

    void inject(TcpFields f, const Bytes& payload = {}, Ipv4Address source = peer_ip)
    {
        Ipv4Fields ip;
        ip.source = source;
        receive(ip_frame(ip, tcp(source, stack_ip, f, payload)));
    }
    TcpFields fields(uint8_t flags)
    {
        TcpFields f;
        f.source_port = client_port;
        f.sequence = client_seq;
        f.acknowledgment = server_seq;
        f.flags = flags;
        f.window = client_window;
        return f;
    }
    // Sends from the client's current sequence number and advances it.
    void client_send(uint8_t flags, const Bytes& payload = {})
    {
        inject(fields(flags), payload);
        client_seq += static_cast<uint32_t>(payload.size()) + ((flags & TcpFlag::Syn) ? 1 : 0) + ((flags & TcpFlag::Fin) ? 1 : 0);
    }
    void client_ack(uint32_t ack, uint16_t window)
    {
        TcpFields f = fields(TcpFlag::Ack);
        f.acknowledgment = ack;
        f.window = window;
        inject(f);
    }
    void client_ack_all() { client_ack(server_seq, client_window); }

    std::vector<Sent> tcp_out()
    {
        std::vector<Sent> out;
        for (auto& s : sent()) {
            if (s.protocol == 6 && s.tcp)
                out.push_back(s);
        }
        return out;
    }
    // Collects data segments and moves server_seq over in-order data/FIN.
    Bytes take_data(std::vector<Sent>& out)
    {
        Bytes data;
        for (auto& s : out) {
            if (s.tcp->sequence == server_seq) {
                data.insert(data.end(), s.tcp_payload.begin(), s.tcp_payload.end());
                server_seq += static_cast<uint32_t>(s.tcp_payload.size()) + (s.tcp->has(TcpFlag::Fin) ? 1 : 0);
            }
        }
        return data;
    }

    // SYN -> SYN-ACK -> ACK, then accept().
    TcpSocket* open(std::optional<uint16_t> mss = 1460, std::optional<uint8_t> window_scale = 7)
    {
        TcpFields syn = fields(TcpFlag::Syn);
        syn.acknowledgment = 0;
        syn.mss = mss;
        syn.window_scale = window_scale;
        inject(syn);
        ++client_seq;
        auto out = tcp_out();
        EXPECT_EQ(out.size(), 1u);
        if (out.empty())
            return nullptr;
        const TcpSegment& synack = *out[0].tcp;
        EXPECT_EQ(synack.flags, TcpFlag::Syn | TcpFlag::Ack);
        EXPECT_EQ(synack.acknowledgment, client_seq);
        server_isn = synack.sequence;
        server_seq = synack.sequence + 1;
        client_send(TcpFlag::Ack);
        EXPECT_TRUE(tcp_out().empty());
        TcpSocket* socket = listener->accept();
        EXPECT_NE(socket, nullptr);
        return socket;
    }

    static Bytes pattern(size_t size, uint64_t seed = 1)
    {
        Bytes data(size);
        for (auto& b : data)
            b = static_cast<uint8_t>(test_random(&seed));
        return data;
    }
    Bytes read_all(TcpSocket* socket)
    {
        Bytes data(socket->available());
        size_t n = socket->receive(data);
        data.resize(n);
        return data;
    }
};

} // namespace aisos::net::test
