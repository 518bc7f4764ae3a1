// Not a test: throughput of the TCP path on one core, without a NIC.
//   upload:   N MB of in-order 1460-byte segments into Stack::receive, the
//             application reading as it goes (the stack ACKs every second
//             segment through a transmitter that only counts);
//   download: the application writes N MB; a peer ACKs every second
//             segment with a wide window.
// Frames for the upload are built before the clock starts; ACK frames for
// the download are built inside the loop (a 54-byte frame and its checksum).
// Run from an optimized build:  build/net-release/bin/net_benchmark [MB]
#include "host/MallocAllocator.h"
#include "lib/net/Checksum.h"
#include "lib/net/Stack.h"
#include "lib/net/Wire.h"

#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace aisos;
using namespace aisos::net;

namespace {

constexpr MacAddress our_mac { { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } };
constexpr MacAddress peer_mac { { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 } };
constexpr Ipv4Address our_ip = Ipv4Address::from_octets(10, 0, 2, 15);
constexpr Ipv4Address peer_ip = Ipv4Address::from_octets(10, 0, 2, 2);

uint64_t bench_random(void* context)
{
    auto* state = static_cast<uint64_t*>(context);
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return *state;
}

struct CountingTransmitter final : FrameTransmitter {
    ErrorOr<void> transmit(std::span<const uint8_t> frame) override
    {
        ++frames;
        bytes += frame.size();
        if (load_be16(&frame[12]) == 0x0800 && frame[23] == 6) {
            const uint8_t* tcp = &frame[34];
            last_sequence = load_be32(tcp + 4);
            last_payload = frame.size() - 34 - (tcp[12] >> 4) * 4u;
            last_ack = load_be32(tcp + 8);
            last_flags = tcp[13];
        }
        return {};
    }
    uint64_t frames { 0 }, bytes { 0 };
    uint32_t last_sequence { 0 }, last_ack { 0 };
    size_t last_payload { 0 };
    uint8_t last_flags { 0 };
};

std::vector<uint8_t> tcp_frame(uint32_t sequence, uint32_t ack, uint8_t flags, uint16_t window, const uint8_t* payload, size_t length, bool window_scale_option)
{
    size_t tcp_length = 20 + (window_scale_option ? 4 : 0) + length;
    std::vector<uint8_t> frame(14 + 20 + tcp_length);
    our_mac.store(&frame[0]);
    peer_mac.store(&frame[6]);
    store_be16(&frame[12], 0x0800);
    uint8_t* ip = &frame[14];
    ip[0] = 0x45;
    store_be16(ip + 2, static_cast<uint16_t>(20 + tcp_length));
    ip[8] = 64;
    ip[9] = 6;
    store_be32(ip + 12, peer_ip.value);
    store_be32(ip + 16, our_ip.value);
    store_be16(ip + 10, internet_checksum({ ip, 20 }));
    uint8_t* tcp = ip + 20;
    store_be16(tcp, 40000);
    store_be16(tcp + 2, 80);
    store_be32(tcp + 4, sequence);
    store_be32(tcp + 8, ack);
    tcp[12] = static_cast<uint8_t>(((20 + (window_scale_option ? 4 : 0)) / 4) << 4);
    tcp[13] = flags;
    store_be16(tcp + 14, window);
    size_t header = 20;
    if (window_scale_option) {
        tcp[20] = 1;
        tcp[21] = 3;
        tcp[22] = 3;
        tcp[23] = 7;
        header = 24;
    }
    if (length)
        __builtin_memcpy(tcp + header, payload, length);
    ChecksumAccumulator sum;
    add_pseudo_header(sum, peer_ip.value, our_ip.value, 6, static_cast<uint16_t>(tcp_length));
    sum.add({ tcp, tcp_length });
    store_be16(tcp + 16, sum.finish());
    return frame;
}

// CPU time of this thread: the figure does not depend on other load on the machine.
double cpu_seconds()
{
    timespec t {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

}

int main(int argc, char** argv)
{
    size_t megabytes = argc > 1 ? static_cast<size_t>(std::atoi(argv[1])) : 200;
    size_t total = megabytes * 1024 * 1024;
    MallocAllocator allocator;
    CountingTransmitter wire;
    uint64_t seed = 1;
    InterfaceConfig config;
    config.mac = our_mac;
    config.use_dhcp = false;
    config.address = our_ip;
    config.gateway = peer_ip;
    config.random = bench_random;
    config.random_context = &seed;
    Stack* stack = MUST(Stack::create(allocator, wire, config));
    uint64_t now = 1'000'000'000;
    // The peer announces itself; then the handshake.
    {
        std::vector<uint8_t> arp(42);
        MacAddress::broadcast().store(&arp[0]);
        peer_mac.store(&arp[6]);
        store_be16(&arp[12], 0x0806);
        uint8_t body[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };
        peer_mac.store(body + 8);
        store_be32(body + 14, peer_ip.value);
        store_be32(body + 24, our_ip.value);
        __builtin_memcpy(&arp[14], body, 28);
        stack->receive(arp, now);
    }
    TcpListener* listener = MUST(stack->tcp_listen(80, 4));
    uint32_t client_seq = 1000;
    stack->receive(tcp_frame(client_seq, 0, TcpFlag::Syn, 65535, nullptr, 0, true), now);
    uint32_t server_seq = wire.last_sequence + 1;
    ++client_seq;
    stack->receive(tcp_frame(client_seq, server_seq, TcpFlag::Ack, 65535, nullptr, 0, false), now);
    TcpSocket* socket = listener->accept();
    if (!socket) {
        std::fprintf(stderr, "handshake failed\n");
        return 1;
    }

    // Upload.
    std::vector<uint8_t> payload(1460);
    for (size_t i = 0; i < payload.size(); ++i)
        payload[i] = static_cast<uint8_t>(i * 7);
    size_t segments = total / 1460;
    std::vector<std::vector<uint8_t>> frames;
    frames.reserve(segments);
    for (size_t i = 0; i < segments; ++i)
        frames.push_back(tcp_frame(client_seq + static_cast<uint32_t>(i * 1460), server_seq, TcpFlag::Ack, 65535, payload.data(), payload.size(), false));
    std::vector<uint8_t> sink(64 * 1024);
    uint64_t frames_before = wire.frames;
    size_t read = 0;
    double start = cpu_seconds();
    for (size_t i = 0; i < segments; ++i) {
        now += 1000;
        stack->receive(frames[i], now);
        if ((i & 7) == 7 || i + 1 == segments) {
            size_t n;
            while ((n = socket->receive(sink)) > 0)
                read += n;
        }
    }
    double upload_time = cpu_seconds() - start;
    std::printf("upload:   %zu MB in %.3f s CPU = %.0f MB/s (%.0f ns/segment), %lu ACK frames sent\n", read >> 20, upload_time, read / upload_time / 1e6, upload_time * 1e9 / segments,
        (unsigned long)(wire.frames - frames_before));
    if (read != segments * 1460 || stack->counters().tcp_bytes_received != read) {
        std::fprintf(stderr, "upload lost data\n");
        return 1;
    }
    frames.clear();
    frames.shrink_to_fit();
    client_seq += static_cast<uint32_t>(segments * 1460);

    // Download.
    std::vector<uint8_t> data(64 * 1024, 'd');
    size_t written = 0;
    uint32_t acked = server_seq;
    size_t ack_frames = 0;
    start = cpu_seconds();
    while (acked - server_seq < total) {
        now += 1000;
        if (written < total) {
            size_t chunk = total - written < data.size() ? total - written : data.size();
            written += socket->send({ data.data(), chunk });
        }
        // The peer acknowledges everything sent so far, two segments per ACK.
        uint32_t highest = wire.last_sequence + static_cast<uint32_t>(wire.last_payload);
        while (acked != highest) {
            uint32_t step = highest - acked > 2920 ? 2920 : highest - acked;
            acked += step;
            stack->receive(tcp_frame(client_seq, acked, TcpFlag::Ack, 65535, nullptr, 0, false), now);
            ++ack_frames;
            highest = wire.last_sequence + static_cast<uint32_t>(wire.last_payload);
        }
    }
    double download_time = cpu_seconds() - start;
    std::printf("download: %zu MB in %.3f s CPU = %.0f MB/s, %zu ACK frames received, cwnd %u\n", total >> 20, download_time, total / download_time / 1e6, ack_frames, socket->congestion_window());
    socket->abort();
    socket->release();
    Stack::destroy(stack);
    return 0;
}
