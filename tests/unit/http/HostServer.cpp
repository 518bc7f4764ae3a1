// Runs the portable HTTP server on a Linux TCP socket, so real clients
// (curl, wrk, Python websockets, browsers) can be pointed at it. Not a
// test; a tool for interoperability checks and profiling:
//   build/http-host/bin/http_host_server [port] [seconds]
// Routes: GET /health, POST /echo, PUT /upload/*path (counts the body),
// GET /stream (chunked, one token per poll), GET /file (Range), /ws (echo).
#include "host/MallocAllocator.h"
#include "lib/net/http/ByteRange.h"
#include "lib/net/http/HttpHandler.h"
#include "lib/net/http/HttpMetrics.h"
#include "lib/net/http/HttpServer.h"
#include "lib/net/http/WebSocket.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

using namespace aisos;
using namespace aisos::http;

namespace {

class SocketStream final : public ByteStream {
public:
    explicit SocketStream(int fd)
        : m_fd(fd)
    {
    }
    ~SocketStream() { ::close(m_fd); }
    size_t read(std::span<uint8_t> buffer) override
    {
        if (m_eof || m_reset)
            return 0;
        ssize_t n = recv(m_fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n > 0)
            return size_t(n);
        if (n == 0)
            m_eof = true;
        else if (errno != EAGAIN && errno != EWOULDBLOCK)
            m_reset = true;
        return 0;
    }
    size_t write(std::span<const uint8_t> data) override
    {
        if (m_reset || data.empty())
            return 0;
        ssize_t n = send(m_fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0)
            return size_t(n);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            m_reset = true;
        return 0;
    }
    size_t writable() const override { return 1 << 20; }
    bool peer_closed() const override { return m_eof; }
    void close() override { shutdown(m_fd, SHUT_WR); }
    void abort() override
    {
        linger option { 1, 0 };
        setsockopt(m_fd, SOL_SOCKET, SO_LINGER, &option, sizeof(option));
        m_reset = true;
    }
    bool is_closed() const override { return m_reset; }

private:
    int m_fd;
    bool m_eof { false };
    bool m_reset { false };
};

class UploadHandler final : public HttpHandler {
public:
    size_t on_body(std::span<const uint8_t> piece, HttpResponse&) override
    {
        m_bytes += piece.size();
        for (uint8_t byte : piece)
            m_sum = m_sum * 31 + byte; // so a client can check the bytes arrived intact
        return piece.size();
    }
    void on_body_end(const HttpRequest&, HttpResponse& response) override
    {
        char text[96];
        response.send(201, "application/json", format_to(text, sizeof(text), "{{\"bytes\":{},\"hash\":{}}}", m_bytes, m_sum));
    }

private:
    uint64_t m_bytes { 0 };
    uint64_t m_sum { 0 };
};

class UploadFactory final : public HttpHandlerFactory {
public:
    ErrorOr<HttpHandler*> create(Allocator& allocator, const HttpRequest&) override { return TRY(allocator.create<UploadHandler>()); }
};

class TokenHandler final : public HttpHandler {
public:
    void on_body_end(const HttpRequest&, HttpResponse& response) override { (void)response.start(200, "text/plain", ResponseLength::unknown()); }
    void on_poll(const HttpRequest&, HttpResponse& response) override
    {
        if (m_count == 100) {
            response.finish();
            return;
        }
        char text[32];
        auto piece = format_to(text, sizeof(text), "token{} ", m_count);
        if (response.write(piece) == piece.size())
            ++m_count;
    }

private:
    int m_count { 0 };
};

class TokenFactory final : public HttpHandlerFactory {
public:
    ErrorOr<HttpHandler*> create(Allocator& allocator, const HttpRequest&) override { return TRY(allocator.create<TokenHandler>()); }
};

class EchoSession final : public WebSocketSession {
public:
    void on_message(WebSocket& socket, WebSocketMessageType type, std::span<const uint8_t> payload) override
    {
        if (type == WebSocketMessageType::Text)
            (void)socket.send_text({ reinterpret_cast<const char*>(payload.data()), payload.size() });
        else
            (void)socket.send_binary(payload);
    }
};

class EchoFactory final : public WebSocketFactory {
public:
    ErrorOr<WebSocketSession*> create(Allocator& allocator, const HttpRequest&) override { return TRY(allocator.create<EchoSession>()); }
};

std::string& file_bytes()
{
    static std::string data = [] {
        std::string text;
        for (int i = 0; i < 100000; ++i)
            text += char('a' + i % 26);
        return text;
    }();
    return data;
}

HttpServer* s_server;

} // namespace

int main(int argc, char** argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    int seconds = argc > 2 ? atoi(argv[2]) : 0;
    MallocAllocator allocator;
    Router router;
    SimpleRoute health([](const HttpRequest&, std::span<const uint8_t>, HttpResponse& response) { response.send(200, "application/json", R"({"status":"ok"})"); });
    SimpleRoute echo([](const HttpRequest&, std::span<const uint8_t> body, HttpResponse& response) { response.send(200, "application/octet-stream", body); });
    SimpleRoute metrics([](const HttpRequest&, std::span<const uint8_t>, HttpResponse& response) {
        write_http_metrics(response.body_buffer(), s_server->counters());
        response.send_buffer(200, "text/plain; version=0.0.4");
    });
    SimpleRoute file([](const HttpRequest& request, std::span<const uint8_t>, HttpResponse& response) {
        auto& data = file_bytes();
        auto range = parse_byte_range(request.header("range").value_or(""), data.size());
        char content_range[content_range_max_length];
        if (range.kind != ByteRange::Kind::Ignore)
            (void)response.header("Content-Range", format_content_range(range, data.size(), content_range));
        if (range.kind == ByteRange::Kind::Unsatisfiable)
            return response.send_error(416, "range not satisfiable");
        if (range.kind == ByteRange::Kind::Satisfiable)
            return response.send_static(206, "text/plain", { reinterpret_cast<const uint8_t*>(data.data()) + range.first, size_t(range.length()) });
        response.send_static(200, "text/plain", { reinterpret_cast<const uint8_t*>(data.data()), data.size() });
    });
    UploadFactory upload;
    TokenFactory tokens;
    EchoFactory websocket_echo;
    MUST(router.add(HttpMethod::Get, "/health", health, { .role = Role::Public }));
    MUST(router.add(HttpMethod::Get, "/metrics", metrics, { .role = Role::Public }));
    MUST(router.add(HttpMethod::Post, "/echo", echo, { .role = Role::Public }));
    MUST(router.add(HttpMethod::Put, "/upload/*path", upload, { .role = Role::Public, .body_limit = unlimited_body }));
    MUST(router.add(HttpMethod::Get, "/stream", tokens, { .role = Role::Public }));
    MUST(router.add(HttpMethod::Get, "/file", file, { .role = Role::Public }));
    MUST(router.add_websocket("/ws", websocket_echo, { .role = Role::Public }));

    HttpLimits limits;
    limits.max_connections = 1024;
    limits.websocket_max_message = 16 * 1024 * 1024;
    limits.websocket_max_send_queue = 40 * 1024 * 1024;
    HttpServer server(allocator, router, limits);
    s_server = &server;
    server.set_server_name("aiSOS/0.1.0");
    server.set_release_callback([](void*, ByteStream* stream) { delete static_cast<SocketStream*>(stream); }, nullptr);

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_port = htons(uint16_t(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || listen(listener, 512) != 0) {
        perror("bind/listen");
        return 1;
    }
    printf("http_host_server: listening on 127.0.0.1:%d\n", port);
    fflush(stdout);
    auto start = std::chrono::steady_clock::now();
    int idle_polls = 0;
    while (seconds == 0 || std::chrono::steady_clock::now() - start < std::chrono::seconds(seconds)) {
        sockaddr_in peer {};
        socklen_t length = sizeof(peer);
        int fd;
        while ((fd = accept4(listener, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK)) >= 0) {
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            auto* stream = new SocketStream(fd);
            if (server.accept(stream, { ntohl(peer.sin_addr.s_addr), ntohs(peer.sin_port) }).is_error())
                delete stream;
        }
        server.set_wall_clock(uint64_t(time(nullptr)));
        uint64_t now = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
        uint64_t before = server.counters().bytes_received + server.counters().bytes_sent;
        server.poll(now);
        // Busy-poll while traffic flows; back off only after a while idle
        // (the kernel's network core does the same with pause/hlt).
        if (server.counters().bytes_received + server.counters().bytes_sent != before)
            idle_polls = 0;
        else if (++idle_polls > 20000)
            usleep(100);
    }
    close(listener);
    return 0;
}
