// libFuzzer target: WebSocket frames after a valid upgrade, through the
// server, in pieces whose sizes come from the input. Invariants: no crash,
// delivered text messages are valid UTF-8, delivered messages respect the
// size limit, the session is closed exactly once and memory comes back.
#include "TestSupport.h"
#include "lib/json/Utf8.h"
#include "lib/net/http/HttpServer.h"
#include "lib/net/http/WebSocket.h"

#include <cstddef>
#include <cstdint>

using namespace aisos;
using namespace aisos::http;
using namespace aisos::http::test;

namespace {

constexpr size_t max_message = 3000;

class Session final : public WebSocketSession {
public:
    explicit Session(int& closes)
        : m_closes(closes)
    {
    }
    void on_message(WebSocket& socket, WebSocketMessageType type, std::span<const uint8_t> payload) override
    {
        if (payload.size() > max_message)
            __builtin_trap();
        if (type == WebSocketMessageType::Text && !json::is_valid_utf8(payload))
            __builtin_trap();
        if (payload.size() > 0 && payload[0] == 'C')
            socket.close(4001, "asked");
        else if (type == WebSocketMessageType::Text)
            (void)socket.send_text({ reinterpret_cast<const char*>(payload.data()), payload.size() });
        else
            (void)socket.send_binary(payload);
    }
    void on_close(uint16_t) override { ++m_closes; }

private:
    int& m_closes;
};

class Factory final : public WebSocketFactory {
public:
    ErrorOr<WebSocketSession*> create(Allocator& allocator, const HttpRequest&) override { return TRY(allocator.create<Session>(closes)); }
    int closes { 0 };
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    size_t read_limit = 1 + data[0] % 97;
    TrackingAllocator allocator;
    Factory factory;
    {
        Router router;
        (void)router.add_websocket("/ws", factory, { .role = Role::Public });
        HttpLimits limits;
        limits.websocket_max_message = max_message;
        limits.websocket_max_send_queue = 8192;
        limits.input_buffer_size = 1024;
        HttpServer server(allocator, router, limits);
        TestStream stream;
        stream.read_limit = read_limit;
        stream.send("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        stream.send({ reinterpret_cast<const char*>(data + 1), size - 1 });
        stream.finish_sending();
        if (server.accept(&stream, {}).is_error())
            __builtin_trap();
        uint64_t now = 1;
        for (int i = 0; i < 3000 && server.active_connections() > 0; ++i) {
            server.poll(now);
            now += 10000000;
        }
    }
    if (factory.closes > 1)
        __builtin_trap();
    if (allocator.live != 0)
        __builtin_trap();
    return 0;
}
