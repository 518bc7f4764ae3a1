// WebSocket (RFC 6455) through the HTTP server with raw frames.
#include "TestSupport.h"
#include "lib/net/http/HttpServer.h"
#include "lib/net/http/WebSocket.h"

#include <gtest/gtest.h>
#include <memory>
#include <vector>

using namespace aisos;
using namespace aisos::http;
using namespace aisos::http::test;

namespace {

constexpr uint64_t second = 1000000000ull;

struct Message {
    WebSocketMessageType type;
    std::string payload;
};

struct SessionLog {
    std::vector<Message> messages;
    int opened { 0 };
    int closed { 0 };
    uint16_t close_code { 0 };
    int destroyed { 0 };
    std::string close_on_message; // the session closes when it receives this text
    std::string pending_send;     // sent from on_poll
};

class EchoSession final : public WebSocketSession {
public:
    explicit EchoSession(SessionLog& log)
        : m_log(log)
    {
    }
    ~EchoSession() override { ++m_log.destroyed; }
    void on_open(WebSocket&) override { ++m_log.opened; }
    void on_message(WebSocket& socket, WebSocketMessageType type, std::span<const uint8_t> payload) override
    {
        std::string text(reinterpret_cast<const char*>(payload.data()), payload.size());
        m_log.messages.push_back({ type, text });
        if (!m_log.close_on_message.empty() && text == m_log.close_on_message) {
            socket.close(4000, "bye");
            return;
        }
        if (type == WebSocketMessageType::Text)
            (void)socket.send_text(text);
        else
            (void)socket.send_binary(payload);
    }
    void on_poll(WebSocket& socket) override
    {
        if (!m_log.pending_send.empty() && socket.can_send(m_log.pending_send.size())) {
            EXPECT_FALSE(socket.send_text(m_log.pending_send).is_error());
            m_log.pending_send.clear();
        }
    }
    void on_close(uint16_t code) override
    {
        ++m_log.closed;
        m_log.close_code = code;
    }

private:
    SessionLog& m_log;
};

class EchoFactory final : public WebSocketFactory {
public:
    ErrorOr<WebSocketSession*> create(Allocator& allocator, const HttpRequest&) override { return TRY(allocator.create<EchoSession>(log)); }
    SessionLog log;
};

class Auth final : public Authenticator {
public:
    AuthResult authenticate(std::string_view authorization, std::string_view protocol) override
    {
        if (authorization == "Bearer t")
            return AuthResult::user("bob", Role::User);
        // Sec-WebSocket-Protocol: "chat, bearer.t" style lists.
        size_t at = protocol.find("bearer.t");
        if (at != std::string_view::npos && protocol.substr(at) .size() >= 8) {
            auto result = AuthResult::user("bob", Role::User);
            result.websocket_protocol = protocol.substr(at, 8);
            return result;
        }
        return authorization.empty() ? AuthResult::anonymous() : AuthResult::invalid();
    }
};

std::string frame(uint8_t opcode, std::string_view payload, bool fin = true, bool masked = true, uint8_t rsv = 0)
{
    std::string out;
    out += char((fin ? 0x80 : 0) | rsv | opcode);
    uint8_t mask_bit = masked ? 0x80 : 0;
    if (payload.size() < 126) {
        out += char(mask_bit | payload.size());
    } else if (payload.size() <= 0xFFFF) {
        out += char(mask_bit | 126);
        out += char(payload.size() >> 8);
        out += char(payload.size());
    } else {
        out += char(mask_bit | 127);
        for (int i = 7; i >= 0; --i)
            out += char(uint64_t(payload.size()) >> (8 * i));
    }
    const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
    if (masked)
        out.append(reinterpret_cast<const char*>(mask), 4);
    for (size_t i = 0; i < payload.size(); ++i)
        out += masked ? char(payload[i] ^ mask[i % 4]) : payload[i];
    return out;
}

std::string close_payload(uint16_t code, std::string_view reason = {})
{
    std::string out;
    out += char(code >> 8);
    out += char(code);
    out += reason;
    return out;
}

struct ServerFrame {
    bool fin;
    uint8_t opcode;
    std::string payload;
};

std::vector<ServerFrame> parse_frames(std::string_view data)
{
    std::vector<ServerFrame> frames;
    while (data.size() >= 2) {
        ServerFrame f;
        f.fin = data[0] & 0x80;
        f.opcode = data[0] & 0x0F;
        EXPECT_FALSE(data[1] & 0x80) << "server frames are never masked";
        uint64_t length = data[1] & 0x7F;
        size_t header = 2;
        if (length == 126) {
            length = (uint8_t(data[2]) << 8) | uint8_t(data[3]);
            header = 4;
        } else if (length == 127) {
            length = 0;
            for (int i = 0; i < 8; ++i)
                length = (length << 8) | uint8_t(data[2 + i]);
            header = 10;
        }
        if (data.size() < header + length)
            break;
        f.payload = std::string(data.substr(header, length));
        frames.push_back(f);
        data.remove_prefix(header + length);
    }
    return frames;
}

class WebSocketTest : public ::testing::Test {
protected:
    WebSocketTest()
    {
        EXPECT_FALSE(router.add_websocket("/ws", factory, { .role = Role::User }).is_error());
        EXPECT_FALSE(router.add_websocket("/open", factory, { .role = Role::Public }).is_error());
        limits.websocket_max_message = 200000;
        server = std::make_unique<HttpServer>(allocator, router, limits);
        server->set_authenticator(&auth);
        server->set_release_callback([](void*, ByteStream* stream) { static_cast<TestStream*>(stream)->released = true; }, nullptr);
    }
    ~WebSocketTest() override
    {
        server.reset();
        EXPECT_EQ(allocator.live, 0);
    }

    TestStream& connect()
    {
        streams.push_back(std::make_unique<TestStream>());
        EXPECT_FALSE(server->accept(streams.back().get(), {}).is_error());
        return *streams.back();
    }
    void run(int polls = 8)
    {
        for (int i = 0; i < polls; ++i)
            server->poll(now);
    }
    // Opens /open and returns the stream after the 101.
    TestStream& open()
    {
        auto& stream = connect();
        stream.send("GET /open HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        run();
        auto response = parse_response(stream.take_output(), BodyExpected::No);
        EXPECT_TRUE(response && response->status == 101);
        return stream;
    }
    std::vector<ServerFrame> send(TestStream& stream, std::string_view bytes, int polls = 8)
    {
        stream.send(bytes);
        run(polls);
        return parse_frames(stream.take_output());
    }
    void expect_closed_with(TestStream& stream, std::string_view bytes, uint16_t code)
    {
        auto frames = send(stream, bytes);
        ASSERT_FALSE(frames.empty());
        auto& last = frames.back();
        EXPECT_EQ(last.opcode, 0x8);
        ASSERT_GE(last.payload.size(), 2u);
        EXPECT_EQ((uint8_t(last.payload[0]) << 8) | uint8_t(last.payload[1]), code);
        EXPECT_TRUE(stream.close_called);
        EXPECT_EQ(factory.log.close_code, code);
        EXPECT_EQ(factory.log.closed, 1);
    }

    TrackingAllocator allocator;
    Router router;
    HttpLimits limits;
    Auth auth;
    EchoFactory factory;
    std::unique_ptr<HttpServer> server;
    std::vector<std::unique_ptr<TestStream>> streams;
    uint64_t now { second };
};

TEST(WebSocketAccept, Rfc6455Example)
{
    char buffer[websocket_accept_length + 1];
    auto accept = websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ==", buffer);
    ASSERT_FALSE(accept.is_error());
    EXPECT_EQ(accept.value(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_TRUE(websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ", buffer).is_error());
    EXPECT_TRUE(websocket_accept_key("dGhlIHNhbXBsZSBub25jZXh4eA==", buffer).is_error()); // 17 bytes... wrong length
    EXPECT_TRUE(websocket_accept_key("", buffer).is_error());
}

TEST(WebSocketFrame, MaskingInPiecesMatchesWhole)
{
    const uint8_t mask[4] = { 1, 2, 3, 4 };
    std::vector<uint8_t> whole(1000), pieces(1000);
    for (size_t i = 0; i < whole.size(); ++i)
        whole[i] = pieces[i] = uint8_t(i * 7);
    apply_websocket_mask(whole, mask, 0);
    for (size_t offset = 0; offset < pieces.size();) {
        size_t n = std::min<size_t>(13, pieces.size() - offset);
        apply_websocket_mask(std::span(pieces).subspan(offset, n), mask, offset);
        offset += n;
    }
    EXPECT_EQ(whole, pieces);
    for (size_t i = 0; i < whole.size(); ++i)
        ASSERT_EQ(whole[i], uint8_t(uint8_t(i * 7) ^ mask[i % 4]));
}

TEST_F(WebSocketTest, HandshakeFromRfc6455)
{
    auto& stream = connect();
    stream.send("GET /open HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Version: 13\r\n\r\n");
    run();
    auto response = parse_response(stream.take_output(), BodyExpected::No);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 101);
    EXPECT_EQ(lower(response->header("upgrade")), "websocket");
    EXPECT_EQ(lower(response->header("connection")), "upgrade");
    EXPECT_EQ(response->header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_FALSE(response->has("sec-websocket-protocol"));
    EXPECT_EQ(factory.log.opened, 1);
    EXPECT_EQ(server->counters().websocket_upgrades, 1u);
}

TEST_F(WebSocketTest, HandshakeErrors)
{
    auto status = [&](std::string request) {
        auto& stream = connect();
        stream.send(request);
        run();
        auto response = parse_response(stream.take_output());
        return response ? response->status : 0;
    };
    EXPECT_EQ(status("GET /open HTTP/1.1\r\nHost: a\r\n\r\n"), 426);
    EXPECT_EQ(status("GET /open HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"), 426);
    EXPECT_EQ(status("GET /open HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"), 400);
    EXPECT_EQ(status("GET /open HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n"), 400);
    // Auth: the user route needs a token, in Authorization or as a subprotocol.
    EXPECT_EQ(status("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"), 401);
    EXPECT_EQ(factory.log.opened, 0);
}

TEST_F(WebSocketTest, BearerSubprotocolIsEchoed)
{
    auto& stream = connect();
    stream.send("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, bearer.t\r\n\r\n");
    run();
    auto response = parse_response(stream.take_output(), BodyExpected::No);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 101);
    EXPECT_EQ(response->header("sec-websocket-protocol"), "bearer.t");
}

TEST_F(WebSocketTest, EchoTextAndBinaryWithAllLengthForms)
{
    auto& stream = open();
    auto frames = send(stream, frame(0x1, "Hello"));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].opcode, 0x1);
    EXPECT_TRUE(frames[0].fin);
    EXPECT_EQ(frames[0].payload, "Hello");
    for (size_t size : { 0u, 125u, 126u, 65535u, 65536u, 150000u }) {
        std::string payload(size, '\0');
        for (size_t i = 0; i < size; ++i)
            payload[i] = char(i * 13);
        frames = send(stream, frame(0x2, payload), 40);
        ASSERT_EQ(frames.size(), 1u) << size;
        EXPECT_EQ(frames[0].opcode, 0x2);
        EXPECT_EQ(frames[0].payload, payload) << size;
    }
    EXPECT_EQ(factory.log.messages.size(), 7u);
}

TEST_F(WebSocketTest, FramesArrivingByteByByte)
{
    auto& stream = open();
    stream.read_limit = 1;
    auto frames = send(stream, frame(0x1, "one", false) + frame(0x0, " two") + frame(0x1, std::string(300, 'x')), 800);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].payload, "one two");
    EXPECT_EQ(frames[1].payload, std::string(300, 'x'));
}

TEST_F(WebSocketTest, FragmentationWithInterleavedPing)
{
    auto& stream = open();
    auto frames = send(stream, frame(0x1, "Hel", false) + frame(0x9, "are you there") + frame(0x0, "lo ", false) + frame(0x0, "wörld", true));
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].opcode, 0xA); // pong first, with the ping's payload
    EXPECT_EQ(frames[0].payload, "are you there");
    EXPECT_EQ(frames[1].payload, "Hello wörld");
    ASSERT_EQ(factory.log.messages.size(), 1u);
}

TEST_F(WebSocketTest, Utf8SplitAcrossFragmentsIsValid)
{
    auto& stream = open();
    std::string text = "κόσμε";
    auto frames = send(stream, frame(0x1, text.substr(0, 3), false) + frame(0x0, text.substr(3)));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].payload, text);
}

TEST_F(WebSocketTest, InvalidUtf8Closes1007FailingFast)
{
    auto& stream = open();
    // The bad byte is in the first fragment: closed before the message ends.
    expect_closed_with(stream, frame(0x1, "ok\xed\xa0\x80", false), 1007);
    EXPECT_TRUE(factory.log.messages.empty());
}

TEST_F(WebSocketTest, TruncatedUtf8AtMessageEndCloses1007)
{
    auto& stream = open();
    expect_closed_with(stream, frame(0x1, "ab\xce", false) + frame(0x0, "", true), 1007);
}

TEST_F(WebSocketTest, ProtocolErrorsClose1002)
{
    struct Case {
        std::string bytes;
        const char* what;
    } cases[] = {
        { frame(0x1, "x", true, false), "unmasked" },
        { frame(0x1, "x", true, true, 0x40), "rsv1" },
        { frame(0x3, "x"), "reserved opcode" },
        { frame(0xB, "x"), "reserved control opcode" },
        { frame(0x0, "x"), "continuation without a message" },
        { frame(0x1, "a", false) + frame(0x1, "b"), "new message inside a fragmented one" },
        { frame(0x9, std::string(126, 'p')), "control frame too long" },
        { frame(0x9, "p", false), "fragmented control frame" },
        { frame(0x8, "x"), "close payload of 1 byte" },
        { frame(0x8, close_payload(1005)), "close code 1005" },
        { frame(0x8, close_payload(999)), "close code 999" },
        { frame(0x8, close_payload(2000)), "close code 2000" },
        { std::string("\x81\xFE\x00\x05\x01\x02\x03\x04xxxxx", 13), "non-minimal 16-bit length" },
    };
    for (auto& c : cases) {
        factory.log = {};
        auto& stream = open();
        expect_closed_with(stream, c.bytes, 1002);
        EXPECT_TRUE(factory.log.messages.empty()) << c.what;
    }
}

TEST_F(WebSocketTest, OversizeMessageCloses1009)
{
    auto& stream = open();
    expect_closed_with(stream, frame(0x2, std::string(150000, 'a'), false) + frame(0x0, std::string(60000, 'b')), 1009);
    factory.log = {};
    auto& single = open();
    // Refused from the header alone, before the payload arrives.
    std::string header = frame(0x2, std::string(200001, 'a')).substr(0, 14);
    expect_closed_with(single, header, 1009);
}

TEST_F(WebSocketTest, CloseHandshakeInitiatedByClient)
{
    auto& stream = open();
    auto frames = send(stream, frame(0x8, close_payload(1000, "bye")) + frame(0x1, "ignored"));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].opcode, 0x8);
    EXPECT_EQ(frames[0].payload, close_payload(1000));
    EXPECT_TRUE(stream.close_called);
    EXPECT_EQ(factory.log.close_code, 1000);
    EXPECT_TRUE(factory.log.messages.empty());
    stream.finish_sending();
    run();
    EXPECT_TRUE(stream.released);
    EXPECT_EQ(factory.log.destroyed, 1);

    factory.log = {};
    auto& empty = open();
    frames = send(empty, frame(0x8, ""));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].payload, "");
    EXPECT_EQ(factory.log.close_code, 1005);

    factory.log = {};
    auto& bad_reason = open();
    expect_closed_with(bad_reason, frame(0x8, close_payload(1000, "\xff")), 1007);
}

TEST_F(WebSocketTest, CloseInitiatedByServer)
{
    factory.log.close_on_message = "quit";
    auto& stream = open();
    auto frames = send(stream, frame(0x1, "quit"));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].opcode, 0x8);
    EXPECT_EQ(frames[0].payload, close_payload(4000, "bye"));
    EXPECT_FALSE(stream.close_called); // waits for the client's Close
    frames = send(stream, frame(0x1, "late data is dropped") + frame(0x8, close_payload(4000)));
    EXPECT_TRUE(frames.empty());
    EXPECT_TRUE(stream.close_called);
    EXPECT_EQ(factory.log.close_code, 4000);
    EXPECT_EQ(factory.log.messages.size(), 1u);
}

TEST_F(WebSocketTest, ServerCloseTimesOutWithoutReply)
{
    factory.log.close_on_message = "quit";
    auto& stream = open();
    send(stream, frame(0x1, "quit"));
    now += 6 * second;
    run();
    EXPECT_TRUE(stream.close_called);
    EXPECT_EQ(factory.log.closed, 1);
}

TEST_F(WebSocketTest, PeerVanishingReports1006)
{
    auto& stream = open();
    stream.reset = true;
    run();
    EXPECT_EQ(factory.log.close_code, 1006);
    EXPECT_TRUE(stream.released);
    EXPECT_EQ(server->counters().websocket_active, 0u);
}

TEST_F(WebSocketTest, LargeServerMessagesQueueAndDrain)
{
    auto& stream = open();
    stream.write_window = 0;
    factory.log.pending_send = std::string(300000, 'q');
    run();
    EXPECT_TRUE(factory.log.pending_send.empty()); // accepted into the bounded queue
    std::string output;
    for (int i = 0; i < 1000 && output.size() < 300010; ++i) {
        stream.write_window = 4096;
        run(1);
        output += stream.take_output();
    }
    auto frames = parse_frames(output);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].payload.size(), 300000u);
}

TEST_F(WebSocketTest, PingFloodFromAClientThatDoesNotReadIsBounded)
{
    auto& stream = open();
    stream.write_window = 0;
    std::string pings;
    for (int i = 0; i < 20000; ++i)
        pings += frame(0x9, std::string(100, 'p'));
    stream.send(pings);
    run(200);
    EXPECT_LT(allocator.peak, 8u * 1024 * 1024);
    EXPECT_LT(stream.bytes_read, pings.size()); // it stopped reading
}

TEST_F(WebSocketTest, IdleTimeoutClosesGoingAway)
{
    auto& stream = open();
    now += 601 * second;
    run();
    auto frames = parse_frames(stream.take_output());
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].payload, close_payload(1001, "idle"));
}

} // namespace
