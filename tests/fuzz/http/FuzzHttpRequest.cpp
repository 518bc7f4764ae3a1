// libFuzzer target: raw bytes from a client through the whole HTTP server
// (head scanner and parser, router, auth, Content-Length and chunked
// bodies, responses, pipelining), delivered in pieces whose sizes come from
// the input. Invariants: no crash or sanitizer report, every response the
// server writes parses as HTTP/1.1, and all memory comes back.
#include "TestSupport.h"
#include "lib/net/http/HttpHandler.h"
#include "lib/net/http/HttpServer.h"

#include <cstddef>
#include <cstdint>

using namespace aisos;
using namespace aisos::http;
using namespace aisos::http::test;

namespace {

class Auth final : public Authenticator {
public:
    AuthResult authenticate(std::string_view authorization, std::string_view) override
    {
        if (authorization == "Bearer u")
            return AuthResult::user("u", Role::User);
        return authorization.empty() ? AuthResult::anonymous() : AuthResult::invalid();
    }
};

class SlowHandler final : public HttpHandler {
public:
    size_t on_body(std::span<const uint8_t> piece, HttpResponse&) override
    {
        // Takes odd amounts to exercise backpressure.
        ++m_calls;
        return m_calls % 3 == 0 ? 0 : (piece.size() + 1) / 2;
    }
    void on_body_end(const HttpRequest&, HttpResponse& response) override { (void)response.start(200, "text/plain", ResponseLength::unknown()); }
    void on_poll(const HttpRequest&, HttpResponse& response) override
    {
        if (response.write("piece") == 0)
            return;
        if (++m_pieces == 3)
            response.finish();
    }

private:
    int m_calls { 0 };
    int m_pieces { 0 };
};

class SlowFactory final : public HttpHandlerFactory {
public:
    ErrorOr<HttpHandler*> create(Allocator& allocator, const HttpRequest&) override { return TRY(allocator.create<SlowHandler>()); }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 2)
        return 0;
    size_t read_limit = 1 + data[0] % 64;
    size_t write_window = data[1] % 4 == 0 ? 7 : SIZE_MAX;
    data += 2;
    size -= 2;

    TrackingAllocator allocator;
    {
        Router router;
        SimpleRoute echo([](const HttpRequest& request, std::span<const uint8_t> body, HttpResponse& response) {
            (void)response.header("X-Path", request.path);
            response.send(200, "application/octet-stream", body);
        });
        SlowFactory slow;
        (void)router.add(HttpMethod::Post, "/echo", echo, { .role = Role::Public, .body_limit = 4096 });
        (void)router.add(HttpMethod::Get, "/p/:name/*rest", echo, { .role = Role::Public });
        (void)router.add(HttpMethod::Put, "/slow/*path", slow, { .role = Role::User, .body_limit = unlimited_body });
        (void)router.add(HttpMethod::Get, "/admin", echo);
        HttpLimits limits;
        limits.max_request_line = 256;
        limits.max_header_bytes = 1024;
        limits.max_header_fields = 10;
        limits.input_buffer_size = 512;
        HttpServer server(allocator, router, limits);
        Auth auth;
        server.set_authenticator(&auth);
        TestStream stream;
        stream.read_limit = read_limit;
        stream.write_window = write_window;
        stream.send({ reinterpret_cast<const char*>(data), size });
        stream.finish_sending();
        if (server.accept(&stream, {}).is_error())
            __builtin_trap();
        uint64_t now = 1;
        for (int i = 0; i < 2000 && server.active_connections() > 0; ++i) {
            if (write_window != SIZE_MAX)
                stream.write_window = 7;
            server.poll(now);
            now += 100000000; // 0.1 s: timeouts happen within the loop
        }
        // Everything the server wrote is a sequence of complete, parseable responses.
        std::string_view output = stream.outbound;
        while (!output.empty()) {
            auto response = parse_response(output);
            if (!response)
                break;
            if (response->status < 100 || response->status > 599)
                __builtin_trap();
            if (response->status >= 200 && (!response->has("date") || !response->has("server")))
                __builtin_trap();
            output.remove_prefix(response->consumed);
        }
    }
    if (allocator.live != 0)
        __builtin_trap();
    return 0;
}
