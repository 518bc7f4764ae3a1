// Prints HTTP server throughput on the host with in-memory streams (no
// TCP): requests/s on one keep-alive connection and across 200 concurrent
// connections, and upload MB/s of a 200 MB body through a handler that only
// counts it. Not a test; build it in a Release tree for meaningful figures:
//   build/http-release/bin/http_benchmark
#include "host/MallocAllocator.h"
#include "lib/net/http/HttpHandler.h"
#include "lib/net/http/HttpServer.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace aisos;
using namespace aisos::http;

namespace {

// Replays a request text `repeat` times, then an endless body of zeros when asked.
class BenchStream final : public ByteStream {
public:
    size_t read(std::span<uint8_t> buffer) override
    {
        size_t total = 0;
        while (total < buffer.size() && pending_requests > 0) {
            size_t n = std::min(buffer.size() - total, request.size() - offset);
            memcpy(buffer.data() + total, request.data() + offset, n);
            total += n;
            offset += n;
            if (offset == request.size()) {
                offset = 0;
                --pending_requests;
            }
            if (total > 0 && one_request_per_read)
                break;
        }
        if (total < buffer.size() && body_remaining > 0) {
            size_t n = std::min<uint64_t>(buffer.size() - total, body_remaining);
            memset(buffer.data() + total, 0x5a, n);
            body_remaining -= n;
            total += n;
        }
        return total;
    }
    size_t write(std::span<const uint8_t> data) override
    {
        written += data.size();
        for (size_t i = 0; i + 1 < data.size(); ++i) {
            if (data[i] == 'H' && data[i + 1] == 'T')
                ++responses_seen; // rough: counts "HT" of status lines
        }
        return data.size();
    }
    size_t writable() const override { return SIZE_MAX; }
    bool peer_closed() const override { return false; }
    void close() override { }
    void abort() override { }
    bool is_closed() const override { return false; }

    std::string request;
    size_t offset { 0 };
    uint64_t pending_requests { 0 };
    bool one_request_per_read { true };
    uint64_t body_remaining { 0 };
    uint64_t written { 0 };
    uint64_t responses_seen { 0 };
};

class CountingHandler final : public HttpHandler {
public:
    explicit CountingHandler(uint64_t& total)
        : m_total(total)
    {
    }
    size_t on_body(std::span<const uint8_t> piece, HttpResponse&) override
    {
        m_total += piece.size();
        return piece.size();
    }
    void on_body_end(const HttpRequest&, HttpResponse& response) override { response.send_empty(204); }

private:
    uint64_t& m_total;
};

class CountingFactory final : public HttpHandlerFactory {
public:
    ErrorOr<HttpHandler*> create(Allocator& allocator, const HttpRequest&) override { return TRY(allocator.create<CountingHandler>(total)); }
    uint64_t total { 0 };
};

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

int main()
{
    // Streams outlive the server (declared first) and their phase: the
    // server keeps polling every connection until it is destroyed.
    BenchStream keep_alive_stream;
    BenchStream upload_stream;
    std::vector<std::unique_ptr<BenchStream>> streams;
    MallocAllocator allocator;
    Router router;
    SimpleRoute health([](const HttpRequest&, std::span<const uint8_t>, HttpResponse& response) { response.send(200, "application/json", R"({"status":"ok"})"); });
    CountingFactory upload;
    (void)router.add(HttpMethod::Get, "/health", health, { .role = Role::Public });
    (void)router.add(HttpMethod::Put, "/fs/*path", upload, { .role = Role::Public, .body_limit = unlimited_body });
    HttpLimits limits;
    limits.max_connections = 1000;
    HttpServer server(allocator, router, limits);
    const char* request = "GET /health HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n";

    {
        auto& stream = keep_alive_stream;
        stream.request = request;
        stream.pending_requests = 1000000;
        (void)server.accept(&stream, {});
        auto start = std::chrono::steady_clock::now();
        uint64_t now = 1;
        while (server.counters().responses < 1000000)
            server.poll(++now);
        double elapsed = seconds_since(start);
        printf("keep-alive, 1 connection: %.0f requests/s (1000000 requests in %.2f s)\n", 1000000 / elapsed, elapsed);
    }
    {
        for (int i = 0; i < 200; ++i) {
            streams.push_back(std::make_unique<BenchStream>());
            streams.back()->request = request;
            streams.back()->pending_requests = 5000;
            (void)server.accept(streams.back().get(), {});
        }
        uint64_t before = server.counters().responses;
        auto start = std::chrono::steady_clock::now();
        uint64_t now = 1;
        while (server.counters().responses - before < 1000000)
            server.poll(++now);
        double elapsed = seconds_since(start);
        printf("keep-alive, 200 connections: %.0f requests/s (1000000 requests in %.2f s)\n", 1000000 / elapsed, elapsed);
    }
    {
        auto& stream = upload_stream;
        constexpr uint64_t size = 200ull * 1024 * 1024;
        stream.request = "PUT /fs/models/big.gguf HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n";
        stream.pending_requests = 1;
        stream.one_request_per_read = false;
        stream.body_remaining = size;
        (void)server.accept(&stream, {});
        auto start = std::chrono::steady_clock::now();
        uint64_t now = 1;
        while (upload.total < size)
            server.poll(++now);
        double elapsed = seconds_since(start);
        printf("upload 200 MB: %.0f MB/s (%.3f s; includes filling the body bytes in the fake stream)\n", size / 1e6 / elapsed, elapsed);
    }
    return 0;
}
