// HTTP server behaviour with raw bytes through an in-memory ByteStream and
// a virtual clock.
#include "TestSupport.h"
#include "host/MallocAllocator.h"
#include "lib/json/JsonDocument.h"
#include "lib/json/JsonWriter.h"
#include "lib/net/http/ByteRange.h"
#include "lib/net/http/HttpHandler.h"
#include "lib/net/http/HttpMetrics.h"
#include "lib/net/http/HttpServer.h"

#include <gtest/gtest.h>
#include <memory>
#include <vector>

using namespace aisos;
using namespace aisos::http;
using namespace aisos::http::test;
using namespace std::string_literals;

namespace {

constexpr uint64_t second = 1000000000ull;

class FakeAuthenticator final : public Authenticator {
public:
    AuthResult authenticate(std::string_view authorization, std::string_view protocol) override
    {
        ++calls;
        if (authorization == "Bearer user-token")
            return AuthResult::user("bob", Role::User);
        if (authorization == "Bearer admin-token")
            return AuthResult::user("admin", Role::Admin);
        if (!authorization.empty())
            return AuthResult::invalid();
        if (protocol.starts_with("bearer.user-token")) {
            auto result = AuthResult::user("bob", Role::User);
            result.websocket_protocol = protocol.substr(0, 17);
            return result;
        }
        return AuthResult::anonymous();
    }
    int calls { 0 };
};

// Counts the body without keeping it; can refuse pieces (backpressure).
struct UploadState {
    uint64_t bytes { 0 };
    uint64_t pattern_errors { 0 };
    size_t max_per_call { SIZE_MAX };
    bool refuse { false };
    int handlers_created { 0 };
    int handlers_destroyed { 0 };
    int aborted { 0 };
    bool respond_early { false };
    std::string user;
};

class UploadHandler final : public HttpHandler {
public:
    explicit UploadHandler(UploadState& state)
        : m_state(state)
    {
        ++m_state.handlers_created;
    }
    ~UploadHandler() override { ++m_state.handlers_destroyed; }
    void on_request(const HttpRequest& request, HttpResponse& response) override
    {
        m_state.user = std::string(request.identity.user_name());
        if (m_state.respond_early)
            response.send_error(507, "disk full");
    }
    size_t on_body(std::span<const uint8_t> piece, HttpResponse&) override
    {
        if (m_state.refuse)
            return 0;
        size_t take = std::min(piece.size(), m_state.max_per_call);
        for (size_t i = 0; i < take; ++i) {
            if (piece[i] != uint8_t(m_state.bytes + i))
                ++m_state.pattern_errors;
        }
        m_state.bytes += take;
        return take;
    }
    void on_body_end(const HttpRequest&, HttpResponse& response) override
    {
        char text[64];
        auto body = format_to(text, sizeof(text), "{{\"bytes\":{}}}", m_state.bytes);
        response.send(201, "application/json", body);
    }
    void on_abort() override { ++m_state.aborted; }

private:
    UploadState& m_state;
};

class UploadFactory final : public HttpHandlerFactory {
public:
    ErrorOr<HttpHandler*> create(Allocator& allocator, const HttpRequest&) override { return TRY(allocator.create<UploadHandler>(state)); }
    UploadState state;
};

// Produces `pieces` pieces of text, one per poll, length unknown in advance.
struct StreamState {
    int pieces { 5 };
    int produced { 0 };
    bool ready { true }; // tokens "arrive" only when ready
};

class StreamHandler final : public HttpHandler {
public:
    explicit StreamHandler(StreamState& state)
        : m_state(state)
    {
    }
    void on_body_end(const HttpRequest&, HttpResponse& response) override { (void)response.start(200, "text/plain", ResponseLength::unknown()); }
    void on_poll(const HttpRequest&, HttpResponse& response) override
    {
        if (!m_state.ready)
            return;
        if (m_state.produced == m_state.pieces) {
            response.finish();
            return;
        }
        char text[32];
        auto piece = format_to(text, sizeof(text), "token{} ", m_state.produced);
        if (response.write(piece) == piece.size())
            ++m_state.produced;
    }

private:
    StreamState& m_state;
};

class StreamFactory final : public HttpHandlerFactory {
public:
    ErrorOr<HttpHandler*> create(Allocator& allocator, const HttpRequest&) override { return TRY(allocator.create<StreamHandler>(state)); }
    StreamState state;
};

const std::string& file_data()
{
    static const std::string data = [] {
        std::string text;
        for (int i = 0; i < 1000; ++i)
            text += char('a' + i % 26);
        return text;
    }();
    return data;
}

void serve_file(const HttpRequest& request, std::span<const uint8_t>, HttpResponse& response)
{
    auto& data = file_data();
    auto range = parse_byte_range(request.header("range").value_or(""), data.size());
    char content_range[content_range_max_length];
    if (range.kind == ByteRange::Kind::Unsatisfiable) {
        (void)response.header("Content-Range", format_content_range(range, data.size(), content_range));
        response.send_error(416, "range not satisfiable");
        return;
    }
    if (range.kind == ByteRange::Kind::Satisfiable) {
        (void)response.header("Content-Range", format_content_range(range, data.size(), content_range));
        response.send_static(206, "text/plain", { reinterpret_cast<const uint8_t*>(data.data()) + range.first, size_t(range.length()) });
        return;
    }
    response.send_static(200, "text/plain", { reinterpret_cast<const uint8_t*>(data.data()), data.size() });
}

class ServerTest : public ::testing::Test {
protected:
    ServerTest()
        : hello([](const HttpRequest&, std::span<const uint8_t>, HttpResponse& response) { response.send(200, "text/plain", "hello world"); })
        , echo([](const HttpRequest&, std::span<const uint8_t> body, HttpResponse& response) { response.send(200, "application/octet-stream", body); })
        , whoami([](const HttpRequest& request, std::span<const uint8_t>, HttpResponse& response) { response.send(200, "text/plain", request.identity.user_name()); })
        , file(serve_file)
        , big([](const HttpRequest&, std::span<const uint8_t>, HttpResponse& response) {
            std::string body(100000, 'z');
            response.send(200, "text/plain", body); // copied: the local string goes away
        })
        , json_route([](const HttpRequest&, std::span<const uint8_t> body, HttpResponse& response) {
            MallocAllocator allocator;
            auto document = json::JsonDocument::parse(allocator, { reinterpret_cast<const char*>(body.data()), body.size() });
            if (document.is_error()) {
                response.send_error(400, document.error().reason());
                return;
            }
            auto prompt = document.value().root().get("prompt").as_string();
            json::JsonWriter out(response.body_buffer());
            out.begin_object();
            out.member("prompt", prompt.value_or("?"));
            out.end_object();
            response.send_buffer(200, "application/json");
        })
        , params([](const HttpRequest& request, std::span<const uint8_t>, HttpResponse& response) { response.send(200, "text/plain", request.parameter("name")); })
        , nothing([](const HttpRequest&, std::span<const uint8_t>, HttpResponse&) { })
        , header_echo([](const HttpRequest& request, std::span<const uint8_t> body, HttpResponse& response) {
            char text[256];
            auto reply = format_to(text, sizeof(text), "{} {} {} {}", request.path, request.header("x-tag").value_or("-"), request.parameter("name"), body.size());
            response.send(200, "text/plain", reply);
        })
    {
        limits.max_connections = 300;
        EXPECT_FALSE(router.add(HttpMethod::Get, "/hello", hello, { .role = Role::Public }).is_error());
        EXPECT_FALSE(router.add(HttpMethod::Post, "/echo", echo, { .role = Role::Public }).is_error());
        EXPECT_FALSE(router.add(HttpMethod::Put, "/upload/*path", upload, { .role = Role::Public, .body_limit = unlimited_body }).is_error());
        EXPECT_FALSE(router.add(HttpMethod::Put, "/admin-upload/*path", upload, { .role = Role::Admin, .body_limit = unlimited_body }).is_error());
        EXPECT_FALSE(router.add(HttpMethod::Get, "/stream", stream, { .role = Role::Public }).is_error());
        EXPECT_FALSE(router.add(HttpMethod::Get, "/file", file, { .role = Role::Public }).is_error());
        EXPECT_FALSE(router.add(HttpMethod::Get, "/big", big, { .role = Role::Public }).is_error());
        EXPECT_FALSE(router.add(HttpMethod::Post, "/json", json_route, { .role = Role::Public }).is_error());
        EXPECT_FALSE(router.add(HttpMethod::Get, "/user", whoami, { .role = Role::User }).is_error());
        EXPECT_FALSE(router.add(HttpMethod::Get, "/admin", whoami, { .role = Role::Admin }).is_error());
        EXPECT_FALSE(router.add(HttpMethod::Get, "/forgotten", whoami).is_error()); // no role declared
        EXPECT_FALSE(router.add(HttpMethod::Get, "/users/:name", params, { .role = Role::Public }).is_error());
        EXPECT_FALSE(router.add(HttpMethod::Delete, "/users/:name", params, { .role = Role::Public }).is_error());
        EXPECT_FALSE(router.add(HttpMethod::Get, "/nothing", nothing, { .role = Role::Public }).is_error());
        EXPECT_FALSE(router.add(HttpMethod::Post, "/tag/:name", header_echo, { .role = Role::Public }).is_error());
    }
    ~ServerTest() override
    {
        server.reset();
        EXPECT_EQ(allocator.live, 0) << "memory leaked";
    }

    void start()
    {
        server = std::make_unique<HttpServer>(allocator, router, limits);
        server->set_server_name("aiSOS/0.1.0");
        server->set_wall_clock(784111777);
        server->set_authenticator(&auth);
        server->set_release_callback([](void* context, ByteStream* stream) {
            auto* self = static_cast<ServerTest*>(context);
            static_cast<TestStream*>(stream)->released = true;
            ++self->released;
        }, this);
    }

    TestStream& connect()
    {
        if (!server)
            start();
        streams.push_back(std::make_unique<TestStream>());
        auto& stream = *streams.back();
        EXPECT_FALSE(server->accept(&stream, { 0x0A000202, 40000 }).is_error());
        return stream;
    }

    void run(int polls = 8)
    {
        for (int i = 0; i < polls; ++i)
            server->poll(now);
    }

    // Sends `request`, runs the server and parses every response it sent.
    std::vector<ParsedResponse> exchange(TestStream& stream, std::string_view request, BodyExpected body = BodyExpected::Yes, int polls = 8)
    {
        stream.send(request);
        run(polls);
        return parse_all(stream.take_output(), body);
    }

    static std::vector<ParsedResponse> parse_all(std::string output, BodyExpected body = BodyExpected::Yes)
    {
        std::vector<ParsedResponse> responses;
        std::string_view rest = output;
        while (!rest.empty()) {
            auto response = parse_response(rest, body);
            if (!response)
                break;
            rest.remove_prefix(response->consumed);
            responses.push_back(*response);
        }
        return responses;
    }

    ParsedResponse one(std::string_view request, BodyExpected body = BodyExpected::Yes)
    {
        auto& stream = connect();
        auto responses = exchange(stream, request, body);
        EXPECT_EQ(responses.size(), 1u) << request;
        return responses.empty() ? ParsedResponse {} : responses[0];
    }

    static void expect_json_error(const ParsedResponse& response, int status)
    {
        EXPECT_EQ(response.status, status);
        EXPECT_EQ(response.header("content-type"), "application/json");
        MallocAllocator allocator;
        auto document = json::JsonDocument::parse(allocator, response.body);
        ASSERT_FALSE(document.is_error()) << response.body;
        auto error = document.value().root().get("error");
        EXPECT_EQ(error.get("code").as_integer(), std::optional<int64_t>(status));
        EXPECT_TRUE(error.get("message").as_string().has_value());
    }

    TrackingAllocator allocator;
    Router router;
    HttpLimits limits;
    FakeAuthenticator auth;
    std::unique_ptr<HttpServer> server;
    std::vector<std::unique_ptr<TestStream>> streams;
    uint64_t now { 5 * second };
    int released { 0 };

    using Simple = SimpleRoute<void (*)(const HttpRequest&, std::span<const uint8_t>, HttpResponse&)>;
    Simple hello, echo, whoami, file, big, json_route, params, nothing, header_echo;
    UploadFactory upload;
    StreamFactory stream;
};

TEST_F(ServerTest, SimpleGetHasDateServerAndLength)
{
    auto response = one("GET /hello HTTP/1.1\r\nHost: aisos\r\n\r\n");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "hello world");
    EXPECT_EQ(response.header("date"), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(response.header("server"), "aiSOS/0.1.0");
    EXPECT_EQ(response.header("content-length"), "11");
    EXPECT_EQ(response.header("content-type"), "text/plain");
    EXPECT_FALSE(response.has("connection"));
    EXPECT_EQ(server->counters().responses_by_status[200], 1u);
    EXPECT_EQ(server->counters().responses_by_class[2], 1u);
}

TEST_F(ServerTest, KeepAliveThousandRequestsOnOneConnection)
{
    auto& stream = connect();
    uint64_t allocations_before = 0;
    for (int i = 0; i < 1000; ++i) {
        if (i == 1)
            allocations_before = allocator.allocations;
        auto responses = exchange(stream, "GET /hello HTTP/1.1\r\nHost: aisos\r\n\r\n", BodyExpected::Yes, 2);
        ASSERT_EQ(responses.size(), 1u) << i;
        ASSERT_EQ(responses[0].body, "hello world");
    }
    // One allocation per request: the handler object (SimpleRoute's body buffer stays empty).
    EXPECT_EQ(allocator.allocations - allocations_before, 999u);
    EXPECT_FALSE(stream.close_called);
    EXPECT_EQ(server->counters().responses, 1000u);
}

TEST_F(ServerTest, PipelinedRequestsAnswerInOrder)
{
    auto& stream = connect();
    std::string requests = "GET /users/one HTTP/1.1\r\nHost: a\r\n\r\n"
                           "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                           "GET /users/two HTTP/1.1\r\nHost: a\r\n\r\n"
                           "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                           "GET /users/three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    auto responses = exchange(stream, requests, BodyExpected::Yes, 30);
    ASSERT_EQ(responses.size(), 5u);
    EXPECT_EQ(responses[0].body, "one");
    EXPECT_EQ(responses[1].body, "hello");
    EXPECT_EQ(responses[2].body, "two");
    EXPECT_EQ(responses[3].body, "abc");
    EXPECT_EQ(responses[4].body, "three");
    EXPECT_EQ(responses[4].header("connection"), "close");
    EXPECT_TRUE(stream.close_called);
}

TEST_F(ServerTest, PipelinedRequestsArrivingByteByByte)
{
    auto& stream = connect();
    stream.read_limit = 1;
    std::string requests = "GET /users/a HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyzGET /users/b HTTP/1.1\r\nHost: a\r\n\r\n";
    auto responses = exchange(stream, requests, BodyExpected::Yes, 400);
    ASSERT_EQ(responses.size(), 3u);
    EXPECT_EQ(responses[0].body, "a");
    EXPECT_EQ(responses[1].body, "xyz");
    EXPECT_EQ(responses[2].body, "b");
}

TEST_F(ServerTest, ConnectionCloseAndHttp10)
{
    auto& stream = connect();
    auto responses = exchange(stream, "GET /hello HTTP/1.0\r\n\r\n");
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].header("connection"), "close");
    EXPECT_TRUE(stream.close_called);
    run();
    EXPECT_FALSE(stream.released); // lingering: waits for the client's FIN
    stream.finish_sending();
    run();
    EXPECT_TRUE(stream.released);

    auto& keep = connect();
    responses = exchange(keep, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].header("connection"), "keep-alive");
    EXPECT_FALSE(keep.close_called);
}

TEST_F(ServerTest, LingerEndsAfterTimeout)
{
    auto& stream = connect();
    exchange(stream, "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(stream.close_called);
    now += 3 * second;
    run();
    EXPECT_TRUE(stream.released);
    EXPECT_FALSE(stream.aborted);
}

TEST_F(ServerTest, MalformedRequestsGet400AndClose)
{
    const char* bad[] = {
        "GET /hello HTTP/1.1\r\n\r\n",                                                     // no Host
        "GET /hello HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",                           // obs-fold
        "GET /hello HTTP/1.1\nHost: a\r\n\r\n",                                          // bare LF
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
        "GET /hello HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n",
        "GET /he\x7fllo HTTP/1.1\r\nHost: a\r\n\r\n",
    };
    for (auto* request : bad) {
        auto& stream = connect();
        auto responses = exchange(stream, request);
        ASSERT_EQ(responses.size(), 1u) << request;
        expect_json_error(responses[0], 400);
        EXPECT_EQ(responses[0].header("connection"), "close") << request;
        EXPECT_TRUE(stream.close_called) << request;
    }
    EXPECT_EQ(server->counters().bad_requests, std::size(bad));
}

TEST_F(ServerTest, OtherStatusesFromTheParser)
{
    expect_json_error(one("PATCH /hello HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
    expect_json_error(one("GET /hello HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
    expect_json_error(one("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nExpect: teapot\r\n\r\nx"), 417);
}

TEST_F(ServerTest, RequestLineAndHeaderLimits)
{
    auto response = one("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n");
    expect_json_error(response, 414);
    std::string many = "GET /hello HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 100; ++i)
        many += "X-" + std::to_string(i) + ": v\r\n";
    expect_json_error(one(many + "\r\n"), 431);
    expect_json_error(one("GET /hello HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(70000, 'b') + "\r\n\r\n"), 431);
    // Just under the limits is fine (the input buffer grows for it once).
    std::string near = "GET /hello HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 98; ++i)
        near += "X-" + std::to_string(i) + ": " + std::string(600, 'v') + "\r\n";
    EXPECT_EQ(one(near + "\r\n").status, 200);
}

TEST_F(ServerTest, BodyLimitGives413)
{
    std::string body(1024 * 1024 + 1, 'x');
    auto& stream = connect();
    auto responses = exchange(stream, "POST /json HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
    ASSERT_EQ(responses.size(), 1u);
    expect_json_error(responses[0], 413);
    EXPECT_TRUE(stream.close_called);
    // Chunked bodies are counted as they arrive.
    auto& chunked = connect();
    chunked.send("POST /json HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 17; ++i)
        chunked.send("10000\r\n" + std::string(0x10000, 'y') + "\r\n");
    run(100);
    responses = parse_all(chunked.take_output());
    ASSERT_EQ(responses.size(), 1u);
    expect_json_error(responses[0], 413);
}

TEST_F(ServerTest, JsonBodyRoundTrip)
{
    std::string body = R"({"prompt": "Hi \"there\" \u00e9"})";
    auto response = one("POST /json HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "{\"prompt\":\"Hi \\\"there\\\" é\"}");
    expect_json_error(one("POST /json HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n\r\n{\"a\":,}"), 400);
}

TEST_F(ServerTest, ChunkedRequestWithExtensionsAndTrailers)
{
    auto response = one("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5;name=val\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Checksum: 1\r\n\r\n");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "hello world");
}

TEST_F(ServerTest, StreamedUploadIsNotBuffered)
{
    // 50 MB through a handler that counts it: memory stays at the
    // connection's buffers, whatever the size.
    auto& stream = connect();
    constexpr uint64_t size = 50ull * 1024 * 1024;
    stream.send("PUT /upload/models/big.gguf HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n");
    stream.generated_remaining = size;
    stream.read_limit = 64 * 1024;
    for (int i = 0; i < 20000 && upload.state.bytes < size; ++i)
        server->poll(now);
    run();
    EXPECT_EQ(upload.state.bytes, size);
    EXPECT_EQ(upload.state.pattern_errors, 0u);
    auto responses = parse_all(stream.take_output());
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].status, 201);
    EXPECT_EQ(responses[0].body, "{\"bytes\":52428800}");
    EXPECT_LT(allocator.peak, 256u * 1024);
}

TEST_F(ServerTest, BackpressureStopsReadingUntilTheHandlerAccepts)
{
    auto& stream = connect();
    stream.send("PUT /upload/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n");
    stream.generated_remaining = 1000000;
    upload.state.refuse = true;
    run(50);
    uint64_t read_while_refusing = stream.bytes_read;
    run(50);
    EXPECT_EQ(stream.bytes_read, read_while_refusing); // nothing more read while refused
    EXPECT_LT(read_while_refusing, 100000u);
    EXPECT_EQ(upload.state.bytes, 0u);
    // Stalled by the handler, not the client: no body timeout.
    now += 60 * second;
    run();
    EXPECT_FALSE(stream.close_called);
    upload.state.refuse = false;
    upload.state.max_per_call = 777; // partial acceptance
    run(5000);
    EXPECT_EQ(upload.state.bytes, 1000000u);
    EXPECT_EQ(upload.state.pattern_errors, 0u);
    auto responses = parse_all(stream.take_output());
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].status, 201);
}

TEST_F(ServerTest, ChunkedUploadArrivingInOddPieces)
{
    auto& stream = connect();
    std::string body;
    std::string expected;
    uint64_t offset = 0;
    for (size_t length : { 1u, 2u, 100u, 4096u, 65536u, 3u, 70000u }) {
        std::string chunk;
        for (size_t i = 0; i < length; ++i)
            chunk += char(uint8_t(offset + i));
        offset += length;
        char size[32];
        snprintf(size, sizeof(size), "%zx", length);
        body += std::string(size) + "\r\n" + chunk + "\r\n";
    }
    body += "0\r\n\r\n";
    stream.read_limit = 1357;
    stream.send("PUT /upload/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
    run(2000);
    EXPECT_EQ(upload.state.bytes, offset);
    EXPECT_EQ(upload.state.pattern_errors, 0u);
    auto responses = parse_all(stream.take_output());
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].status, 201);
}

TEST_F(ServerTest, ExpectContinueOnlyWhenTheHandlerWantsTheBody)
{
    auto& stream = connect();
    stream.send("PUT /upload/x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    run();
    auto output = stream.take_output();
    EXPECT_EQ(output, "HTTP/1.1 100 Continue\r\n\r\n");
    stream.send("\x00\x01\x02\x03"s);
    run();
    auto responses = parse_all(stream.take_output());
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].status, 201);

    // Refused before the body (auth): no 100, the answer right away.
    auto& refused = connect();
    auto refused_responses = exchange(refused, "PUT /admin-upload/x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    ASSERT_EQ(refused_responses.size(), 1u);
    EXPECT_EQ(refused_responses[0].status, 401);
    EXPECT_EQ(refused_responses[0].header("connection"), "close");

    // The handler answers at once (e.g. disk full): no 100 either.
    upload.state.respond_early = true;
    auto& early = connect();
    auto early_responses = exchange(early, "PUT /upload/x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    ASSERT_EQ(early_responses.size(), 1u);
    expect_json_error(early_responses[0], 507);
    EXPECT_EQ(early_responses[0].header("connection"), "close");
    EXPECT_TRUE(early.close_called);
}

TEST_F(ServerTest, StreamingResponseIsChunkedAndProducedOverTime)
{
    auto& connection = connect();
    stream.state.ready = false;
    connection.send("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
    run();
    auto head = connection.take_output();
    EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos);
    EXPECT_EQ(head.find("token"), std::string::npos);
    stream.state.ready = true;
    server->poll(now);
    EXPECT_GT(stream.state.produced, 0);
    run(20);
    auto responses = parse_all(head + connection.take_output());
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].body, "token0 token1 token2 token3 token4 ");
    // The connection stays usable.
    auto next = exchange(connection, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT_EQ(next.size(), 1u);
    EXPECT_EQ(next[0].body, "hello world");
}

TEST_F(ServerTest, StreamingResponseToHttp10IsCloseDelimited)
{
    auto& connection = connect();
    connection.send("GET /stream HTTP/1.0\r\n\r\n");
    run(30);
    auto output = connection.take_output();
    EXPECT_EQ(output.find("Transfer-Encoding"), std::string::npos);
    EXPECT_NE(output.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(output.ends_with("token3 token4 "));
    EXPECT_TRUE(connection.close_called);
}

TEST_F(ServerTest, SlowClientReceivesLargeBodyWithoutLoss)
{
    auto& connection = connect();
    connection.write_window = 0;
    connection.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    std::string output;
    for (int i = 0; i < 2000; ++i) {
        connection.write_window = 997;
        server->poll(now);
        output += connection.take_output();
    }
    auto responses = parse_all(output);
    ASSERT_EQ(responses.size(), 2u);
    EXPECT_EQ(responses[0].body, std::string(100000, 'z'));
    EXPECT_EQ(responses[1].body, "hello world");
}

TEST_F(ServerTest, HeadHasHeadersOnly)
{
    auto& stream = connect();
    auto responses = exchange(stream, "HEAD /file HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n", BodyExpected::No);
    ASSERT_GE(responses.size(), 1u);
    EXPECT_EQ(responses[0].status, 200);
    EXPECT_EQ(responses[0].header("content-length"), "1000");
    // The second response starts right after the first head: no body bytes in between.
    EXPECT_EQ(responses.size(), 2u);
    EXPECT_EQ(responses[1].status, 200);
    EXPECT_EQ(responses[1].header("content-length"), "11");
}

TEST_F(ServerTest, RangeRequests)
{
    auto response = one("GET /file HTTP/1.1\r\nHost: a\r\nRange: bytes=10-19\r\n\r\n");
    EXPECT_EQ(response.status, 206);
    EXPECT_EQ(response.header("content-range"), "bytes 10-19/1000");
    EXPECT_EQ(response.body, file_data().substr(10, 10));
    response = one("GET /file HTTP/1.1\r\nHost: a\r\nRange: bytes=-5\r\n\r\n");
    EXPECT_EQ(response.body, file_data().substr(995));
    response = one("GET /file HTTP/1.1\r\nHost: a\r\nRange: bytes=5000-\r\n\r\n");
    expect_json_error(response, 416);
    EXPECT_EQ(response.header("content-range"), "bytes */1000");
    response = one("GET /file HTTP/1.1\r\nHost: a\r\nRange: bytes=1-2,5-6\r\n\r\n");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body.size(), 1000u);
}

TEST_F(ServerTest, NotFoundMethodNotAllowedAndOptions)
{
    expect_json_error(one("GET /missing HTTP/1.1\r\nHost: a\r\n\r\n"), 404);
    auto response = one("POST /hello HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    expect_json_error(response, 405);
    EXPECT_EQ(response.header("allow"), "GET, HEAD");
    response = one("OPTIONS /users/x HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(response.status, 204);
    EXPECT_EQ(response.header("allow"), "GET, HEAD, DELETE");
    EXPECT_FALSE(response.has("content-length"));
    response = one("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(response.status, 204);
    // A 404 without a body keeps the connection.
    auto& stream = connect();
    auto responses = exchange(stream, "GET /missing HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT_EQ(responses.size(), 2u);
    EXPECT_EQ(responses[1].status, 200);
}

TEST_F(ServerTest, AuthenticationAndRoles)
{
    auto response = one("GET /user HTTP/1.1\r\nHost: a\r\n\r\n");
    expect_json_error(response, 401);
    EXPECT_EQ(response.header("www-authenticate"), "Bearer");
    response = one("GET /user HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer wrong\r\n\r\n");
    expect_json_error(response, 401);
    EXPECT_EQ(response.header("www-authenticate"), "Bearer");
    response = one("GET /user HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer user-token\r\n\r\n");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "bob");
    expect_json_error(one("GET /admin HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer user-token\r\n\r\n"), 403);
    EXPECT_EQ(one("GET /admin HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer admin-token\r\n\r\n").body, "admin");
    EXPECT_EQ(one("GET /user HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer admin-token\r\n\r\n").status, 200);
    // A route without a declared role needs an admin.
    expect_json_error(one("GET /forgotten HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer user-token\r\n\r\n"), 403);
    expect_json_error(one("GET /forgotten HTTP/1.1\r\nHost: a\r\n\r\n"), 401);
    EXPECT_EQ(one("GET /forgotten HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer admin-token\r\n\r\n").status, 200);
    // Public routes ignore a bad token.
    EXPECT_EQ(one("GET /hello HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer wrong\r\n\r\n").status, 200);
}

TEST_F(ServerTest, NoAuthenticatorFailsClosed)
{
    start();
    server->set_authenticator(nullptr);
    expect_json_error(one("GET /user HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer user-token\r\n\r\n"), 401);
    EXPECT_EQ(one("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n").status, 200);
}

TEST_F(ServerTest, HandlerWithoutResponseGets500)
{
    expect_json_error(one("GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n"), 500);
}

TEST_F(ServerTest, SlowlorisHeaderTimeout)
{
    auto& stream = connect();
    stream.send("GET /hello HTTP/1.1\r\nHost: a\r\n");
    run();
    now += 5 * second;
    stream.send("X-A: 1\r\n");
    run();
    EXPECT_TRUE(stream.take_output().empty());
    now += 6 * second; // 11 s after the first byte: over the 10 s head limit
    run();
    auto responses = parse_all(stream.take_output());
    ASSERT_EQ(responses.size(), 1u);
    expect_json_error(responses[0], 408);
    EXPECT_TRUE(stream.close_called);
    EXPECT_EQ(server->counters().timeouts_header, 1u);
}

TEST_F(ServerTest, IdleKeepAliveTimeoutClosesQuietly)
{
    auto& stream = connect();
    exchange(stream, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    now += 59 * second;
    run();
    EXPECT_FALSE(stream.close_called);
    now += 2 * second;
    run();
    EXPECT_TRUE(stream.close_called);
    EXPECT_TRUE(stream.take_output().empty());
    EXPECT_EQ(server->counters().timeouts_idle, 1u);
}

TEST_F(ServerTest, BodyTimeout)
{
    auto& stream = connect();
    stream.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
    run();
    now += 29 * second;
    stream.send("d");
    run();
    now += 29 * second;
    run();
    EXPECT_FALSE(stream.close_called);
    now += 2 * second;
    run();
    auto responses = parse_all(stream.take_output());
    ASSERT_EQ(responses.size(), 1u);
    expect_json_error(responses[0], 408);
    EXPECT_EQ(server->counters().timeouts_body, 1u);
}

TEST_F(ServerTest, ClientThatNeverReadsIsAborted)
{
    auto& stream = connect();
    stream.write_window = 0;
    stream.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
    run();
    now += 31 * second;
    run();
    EXPECT_TRUE(stream.aborted);
    EXPECT_TRUE(stream.released);
    EXPECT_EQ(server->counters().timeouts_send, 1u);
}

TEST_F(ServerTest, MaxConnectionsAndMemoryPerConnection)
{
    limits.max_connections = 200;
    start();
    size_t before = allocator.in_use;
    for (int i = 0; i < 200; ++i)
        connect();
    size_t per_connection = (allocator.in_use - before) / 200;
    EXPECT_LT(per_connection, 48u * 1024);
    streams.push_back(std::make_unique<TestStream>());
    auto refused = server->accept(streams.back().get(), {});
    EXPECT_TRUE(refused.is_error());
    EXPECT_EQ(server->counters().connections_rejected, 1u);
    // All 200 are served concurrently.
    for (size_t i = 0; i < 200; ++i)
        streams[i]->send("GET /users/c" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n");
    run(2);
    for (size_t i = 0; i < 200; ++i) {
        auto responses = parse_all(streams[i]->take_output());
        ASSERT_EQ(responses.size(), 1u) << i;
        EXPECT_EQ(responses[0].body, "c" + std::to_string(i));
    }
    // Slow clients that never finish a head are closed in time, freeing their slots.
    for (size_t i = 0; i < 200; ++i)
        streams[i]->send("GET /hello HTTP/1.1\r\n");
    run();
    now += 11 * second;
    run();
    for (size_t i = 0; i < 200; ++i)
        streams[i]->finish_sending();
    run();
    EXPECT_EQ(server->active_connections(), 0u);
    EXPECT_EQ(server->counters().timeouts_header, 200u);
}

TEST_F(ServerTest, PeerResetMidBodyAbortsTheHandler)
{
    auto& stream = connect();
    stream.send("PUT /upload/x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc");
    run();
    EXPECT_EQ(upload.state.handlers_created, 1);
    stream.reset = true;
    run();
    EXPECT_EQ(upload.state.aborted, 1);
    EXPECT_EQ(upload.state.handlers_destroyed, 1);
    EXPECT_TRUE(stream.released);
}

TEST_F(ServerTest, PeerClosesMidBody)
{
    auto& stream = connect();
    stream.send("PUT /upload/x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc");
    stream.finish_sending();
    run();
    EXPECT_EQ(upload.state.aborted, 1);
    EXPECT_TRUE(stream.released);
    EXPECT_TRUE(stream.take_output().empty());
}

TEST_F(ServerTest, AllocationFailuresNeverCrash)
{
    // Fail every allocation from the n-th on, for each n, across a run of requests.
    for (long n = 0; n < 12; ++n) {
        start();
        streams.clear();
        allocator.fail_after(n);
        streams.push_back(std::make_unique<TestStream>());
        auto& stream = *streams.back();
        if (server->accept(&stream, {}).is_error()) {
            allocator.fail_after(-1);
            continue;
        }
        std::string body = R"({"prompt":"x"})";
        stream.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"
                    "POST /json HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body +
                    "GET /big HTTP/1.1\r\nHost: a\r\n\r\n"
                    "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n");
        run(40);
        for (auto& response : parse_all(stream.take_output()))
            EXPECT_TRUE(response.status == 200 || response.status == 503 || response.status == 500 || response.status == 400 || response.status == 414) << response.status;
        allocator.fail_after(-1);
        server.reset();
        EXPECT_EQ(allocator.live, 0) << n;
    }
}

TEST_F(ServerTest, LargeHeadWithBodyKeepsRequestViewsValid)
{
    // A head that nearly fills the input buffer makes the server move the
    // request to a bigger buffer before streaming the body; the handler
    // must still see the same path, fields and parameters.
    std::string head = "POST /tag/alpha HTTP/1.1\r\nHost: a\r\nX-Tag: findme\r\n";
    while (head.size() < 16 * 1024 - 200)
        head += "X-Pad: " + std::string(std::min<size_t>(1000, 16 * 1024 - 200 - head.size()), 'p') + "\r\n";
    auto response = one(head + "Content-Length: 5000\r\n\r\n" + std::string(5000, 'b'));
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "/tag/alpha findme alpha 5000");
}

TEST_F(ServerTest, AcceptBeforeTheFirstPollDoesNotTimeOut)
{
    start();
    streams.push_back(std::make_unique<TestStream>());
    auto& stream = *streams.back();
    ASSERT_FALSE(server->accept(&stream, {}).is_error());
    now = 1000 * second; // the first poll comes with a large clock value
    stream.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    run();
    auto responses = parse_all(stream.take_output());
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].status, 200);
}

class ShortHandler final : public HttpHandler {
public:
    void on_body_end(const HttpRequest&, HttpResponse& response) override
    {
        // Announces 10 bytes, delivers 4: only closing can tell the client.
        (void)response.start(200, "text/plain", ResponseLength::known(10));
        response.write("abcd");
        response.finish();
    }
};

class ShortFactory final : public HttpHandlerFactory {
public:
    ErrorOr<HttpHandler*> create(Allocator& allocator, const HttpRequest&) override { return TRY(allocator.create<ShortHandler>()); }
};

TEST_F(ServerTest, ShortKnownLengthResponseClosesTheConnection)
{
    ShortFactory short_factory;
    ASSERT_FALSE(router.add(HttpMethod::Get, "/short", short_factory, { .role = Role::Public }).is_error());
    auto& stream = connect();
    stream.send("GET /short HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    run();
    auto output = stream.take_output();
    EXPECT_TRUE(output.ends_with("\r\n\r\nabcd")) << output;
    EXPECT_TRUE(stream.close_called);
    EXPECT_EQ(output.find("hello world"), std::string::npos); // the pipelined request is not answered
}

TEST_F(ServerTest, HeadOfAStreamingResponse)
{
    auto& connection = connect();
    auto responses = exchange(connection, "HEAD /stream HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n", BodyExpected::No, 30);
    ASSERT_EQ(responses.size(), 2u);
    EXPECT_EQ(responses[0].status, 200);
    EXPECT_EQ(responses[0].header("transfer-encoding"), "chunked");
    EXPECT_EQ(responses[1].status, 200);
    EXPECT_FALSE(connection.close_called);
}

TEST_F(ServerTest, PrometheusMetrics)
{
    auto& stream = connect();
    exchange(stream, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /missing HTTP/1.1\r\nHost: a\r\n\r\n");
    json::GrowableBuffer text(allocator);
    write_http_metrics(text, server->counters());
    auto metrics = std::string(text.view());
    EXPECT_NE(metrics.find("aisos_http_responses_total{code=\"200\"} 1\n"), std::string::npos);
    EXPECT_NE(metrics.find("aisos_http_responses_total{code=\"404\"} 1\n"), std::string::npos);
    EXPECT_NE(metrics.find("aisos_http_responses_by_class_total{class=\"4xx\"} 1\n"), std::string::npos);
    EXPECT_NE(metrics.find("# TYPE aisos_http_connections_active gauge\naisos_http_connections_active 1\n"), std::string::npos);
    EXPECT_NE(metrics.find("aisos_http_timeouts_total{phase=\"header\"} 0\n"), std::string::npos);
}

TEST_F(ServerTest, CountersTrackBytesAndConnections)
{
    auto& stream = connect();
    exchange(stream, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /missing HTTP/1.1\r\nHost: a\r\n\r\n");
    auto& counters = server->counters();
    EXPECT_EQ(counters.requests, 2u);
    EXPECT_EQ(counters.responses_by_status[404], 1u);
    EXPECT_EQ(counters.responses_by_class[4], 1u);
    EXPECT_EQ(counters.bytes_received, stream.bytes_read);
    EXPECT_EQ(counters.bytes_sent, stream.bytes_written);
    EXPECT_EQ(counters.connections_active, 1u);
}

} // namespace
