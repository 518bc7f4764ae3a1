#include "lib/net/http/ByteRange.h"
#include "lib/net/http/ChunkedDecoder.h"
#include "lib/net/http/HttpDate.h"
#include "lib/net/http/HttpHandler.h"
#include "lib/net/http/HttpLimits.h"
#include "lib/net/http/HttpRequest.h"
#include "lib/net/http/PathDecoding.h"
#include "lib/net/http/Router.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace aisos;
using namespace aisos::http;

static std::span<const uint8_t> bytes(std::string_view text) { return { reinterpret_cast<const uint8_t*>(text.data()), text.size() }; }

struct Parsed {
    HeadParseResult result;
    HttpRequest request;
    std::vector<HttpHeader> storage = std::vector<HttpHeader>(100);
};

static void parse(std::string_view head, Parsed& out, const HttpLimits& limits = {})
{
    out.result = parse_request_head(bytes(head), out.storage, limits, out.request);
}

static uint16_t status_of(std::string_view head)
{
    HttpLimits limits;
    RequestHeadScanner scanner(limits);
    auto scan = scanner.scan(bytes(head));
    if (scan.kind == HeadScan::Kind::Error)
        return scan.error.status;
    if (scan.kind == HeadScan::Kind::NeedMore)
        return 1;
    Parsed parsed;
    parse(head.substr(scan.skipped, scan.head_length - scan.skipped), parsed);
    return parsed.result.status;
}

TEST(RequestHead, ParsesAValidRequest)
{
    Parsed p;
    parse("POST /users/bob?x=1&y=%20 HTTP/1.1\r\nHost: aisos\r\nContent-Length: 12\r\nX-Spaces:   padded value \t\r\nExpect: 100-continue\r\n\r\n", p);
    ASSERT_TRUE(p.result.ok()) << p.result.reason;
    EXPECT_EQ(p.request.method, HttpMethod::Post);
    EXPECT_EQ(p.request.path, "/users/bob");
    EXPECT_EQ(p.request.query, "x=1&y=%20");
    EXPECT_EQ(p.request.body_framing, BodyFraming::ContentLength);
    EXPECT_EQ(p.request.content_length, 12u);
    EXPECT_TRUE(p.request.keep_alive);
    EXPECT_TRUE(p.request.expect_continue);
    EXPECT_EQ(p.request.header("x-SPACES"), std::optional<std::string_view>("padded value"));
    EXPECT_EQ(p.request.headers.size(), 4u);
}

TEST(RequestHead, VersionsAndKeepAlive)
{
    Parsed p;
    parse("GET / HTTP/1.0\r\n\r\n", p);
    ASSERT_TRUE(p.result.ok());
    EXPECT_FALSE(p.request.keep_alive);
    parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", p);
    EXPECT_TRUE(p.request.keep_alive);
    parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", p);
    EXPECT_FALSE(p.request.keep_alive);
    EXPECT_EQ(status_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
    EXPECT_EQ(status_of("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 505);
    EXPECT_EQ(status_of("GET / HTTP/1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / http/1.1\r\nHost: a\r\n\r\n"), 400);
}

TEST(RequestHead, MethodsAndTargets)
{
    EXPECT_EQ(status_of("PATCH / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
    EXPECT_EQ(status_of("get / HTTP/1.1\r\nHost: a\r\n\r\n"), 501);
    EXPECT_EQ(status_of("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET /#frag HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
    EXPECT_EQ(status_of("GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    Parsed p;
    parse("GET http://example.com/health?x HTTP/1.1\r\nHost: example.com\r\n\r\n", p);
    ASSERT_TRUE(p.result.ok());
    EXPECT_EQ(p.request.path, "/health");
    EXPECT_EQ(p.request.query, "x");
}

TEST(RequestHead, HostRules)
{
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.0\r\n\r\n"), 0);
}

TEST(RequestHead, FieldSyntax)
{
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n"), 400);      // space before colon
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n folded\r\n\r\n"), 400); // obs-fold
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x01\r\n\r\n"), 400);   // CTL in value
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7f\r\n\r\n"), 400);   // DEL in value
    EXPECT_EQ(status_of(std::string_view("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n", 37)), 400); // NUL
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\n: empty-name\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\nX-B: c\r\n\r\n"), 400); // bare LF
    EXPECT_EQ(status_of("GET / HTTP/1.1\nHost: a\r\n\r\n"), 400);                   // bare LF after request line
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\n\n"), 400);                   // bare LF ending the head
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"), 400);           // bare CR
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nX-A: \xc3\xa9\r\n\r\n"), 0);   // obs-text is allowed
    EXPECT_EQ(status_of("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);            // leading empty lines skipped
}

TEST(RequestHead, SmugglingShapesAreRefused)
{
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"), 0);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"), 400);
    Parsed p;
    parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n", p);
    EXPECT_TRUE(p.result.ok());
    EXPECT_EQ(p.request.body_framing, BodyFraming::Chunked);
}

TEST(RequestHead, ExpectationsOtherThanContinueFail)
{
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nExpect: something\r\n\r\n"), 417);
}

TEST(RequestHeadScanner, LimitsBeforeTheHeadIsComplete)
{
    HttpLimits limits;
    RequestHeadScanner scanner(limits);
    std::string line = "GET /" + std::string(8 * 1024, 'a');
    auto scan = scanner.scan(bytes(line));
    EXPECT_EQ(scan.kind, HeadScan::Kind::Error);
    EXPECT_EQ(scan.error.status, 414);

    scanner.reset();
    std::string ok_line = "GET /" + std::string(8 * 1024 - 20, 'a') + " HTTP/1.1\r\n";
    scan = scanner.scan(bytes(ok_line));
    EXPECT_EQ(scan.kind, HeadScan::Kind::NeedMore);

    scanner.reset();
    std::string many = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 101; ++i)
        many += "X-" + std::to_string(i) + ": v\r\n";
    scan = scanner.scan(bytes(many));
    EXPECT_EQ(scan.kind, HeadScan::Kind::Error);
    EXPECT_EQ(scan.error.status, 431);

    scanner.reset();
    std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(65 * 1024, 'b');
    scan = scanner.scan(bytes(big));
    EXPECT_EQ(scan.kind, HeadScan::Kind::Error);
    EXPECT_EQ(scan.error.status, 431);
}

TEST(RequestHeadScanner, ByteByByteIsTheSameAsAtOnce)
{
    HttpLimits limits;
    std::string head = "\r\nGET /x HTTP/1.1\r\nHost: a\r\nA: b\r\n\r\nNEXT";
    RequestHeadScanner scanner(limits);
    HeadScan scan { HeadScan::Kind::NeedMore };
    size_t fed = 0;
    while (scan.kind == HeadScan::Kind::NeedMore && fed < head.size())
        scan = scanner.scan(bytes(std::string_view(head).substr(0, ++fed)));
    ASSERT_EQ(scan.kind, HeadScan::Kind::Complete);
    EXPECT_EQ(scan.skipped, 2u);
    EXPECT_EQ(scan.head_length, head.size() - 4);
}

static std::string dechunk(std::string_view input, size_t piece, bool* ok, size_t* consumed_total = nullptr)
{
    ChunkedDecoder decoder(64, 64);
    std::string out;
    size_t position = 0;
    size_t available = 0;
    *ok = false;
    while (true) {
        available = std::min(input.size(), available + piece);
        auto step = decoder.advance(bytes(input.substr(position, available - position)));
        position += step.consumed;
        if (step.status == ChunkedDecoder::Status::Error)
            return out;
        if (step.status == ChunkedDecoder::Status::Done) {
            *ok = true;
            if (consumed_total)
                *consumed_total = position;
            return out;
        }
        if (step.status == ChunkedDecoder::Status::Data) {
            out.append(input.substr(position, step.data_length));
            decoder.consume_data(step.data_length);
            position += step.data_length;
            continue;
        }
        if (available == input.size())
            return out; // truncated
    }
}

TEST(ChunkedDecoder, DecodesInAnyPieces)
{
    std::string body = "4\r\nWiki\r\n5;name=value;x\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: yes\r\n\r\nGET /next";
    for (size_t piece : { 1u, 2u, 3u, 7u, 1000u }) {
        bool ok;
        size_t consumed = 0;
        EXPECT_EQ(dechunk(body, piece, &ok, &consumed), "Wikipedia in\r\n\r\nchunks.") << piece;
        EXPECT_TRUE(ok);
        EXPECT_EQ(consumed, body.size() - 9);
    }
}

TEST(ChunkedDecoder, RejectsBadFraming)
{
    const char* bad[] = {
        "x\r\n",                        // not hex
        "\r\n",                         // empty size
        "-1\r\n",
        "0x5\r\nhello\r\n0\r\n\r\n",
        "5\nhello\r\n0\r\n\r\n",        // bare LF after size
        "5\r\nhelloX\r\n0\r\n\r\n",     // data longer than size
        "5\r\nhello\n0\r\n\r\n",        // bare LF after data
        "10000000000000000\r\n",        // 17 hex digits
        "fffffffffffffffff\r\n",
        "5;ext\x01\r\nhello\r\n0\r\n\r\n", // control in extension
        "0\r\nBad Name: x\r\n\r\n",     // trailer name with space
        "0\r\n folded\r\n\r\n",         // obs-fold in trailers
        "0\r\nT: \x01\r\n\r\n",
        "0\r\n\n",                      // bare LF at the end
        "0\r\nT: x\n\r\n",
    };
    for (auto* text : bad) {
        bool ok;
        dechunk(text, 3, &ok);
        EXPECT_FALSE(ok) << text;
    }
    // Bounded extension and trailer sizes (64 each in this decoder).
    bool ok;
    dechunk("1;" + std::string(100, 'e') + "\r\nx\r\n0\r\n\r\n", 5, &ok);
    EXPECT_FALSE(ok);
    dechunk("0\r\nT: " + std::string(100, 'v') + "\r\n\r\n", 5, &ok);
    EXPECT_FALSE(ok);
    EXPECT_EQ(dechunk("ffffffffffffffff\r\nabc", 100, &ok), "abc"); // largest size is fine (limits are the server's job)
}

TEST(ByteRange, Forms)
{
    auto r = parse_byte_range("bytes=0-99", 1000);
    EXPECT_EQ(r.kind, ByteRange::Kind::Satisfiable);
    EXPECT_EQ(r.first, 0u);
    EXPECT_EQ(r.last, 99u);
    r = parse_byte_range("bytes=900-", 1000);
    EXPECT_EQ(r.first, 900u);
    EXPECT_EQ(r.last, 999u);
    r = parse_byte_range("bytes=-100", 1000);
    EXPECT_EQ(r.first, 900u);
    EXPECT_EQ(r.last, 999u);
    r = parse_byte_range("bytes=-5000", 1000);
    EXPECT_EQ(r.first, 0u);
    r = parse_byte_range("bytes=500-5000", 1000);
    EXPECT_EQ(r.last, 999u);
    EXPECT_EQ(r.length(), 500u);
    EXPECT_EQ(parse_byte_range("bytes=1000-", 1000).kind, ByteRange::Kind::Unsatisfiable);
    EXPECT_EQ(parse_byte_range("bytes=-0", 1000).kind, ByteRange::Kind::Unsatisfiable);
    EXPECT_EQ(parse_byte_range("bytes=0-0", 0).kind, ByteRange::Kind::Unsatisfiable);
    EXPECT_EQ(parse_byte_range("", 1000).kind, ByteRange::Kind::Ignore);
    EXPECT_EQ(parse_byte_range("bytes=5-1", 1000).kind, ByteRange::Kind::Ignore);
    EXPECT_EQ(parse_byte_range("bytes=0-1,5-6", 1000).kind, ByteRange::Kind::Ignore);
    EXPECT_EQ(parse_byte_range("items=0-1", 1000).kind, ByteRange::Kind::Ignore);
    EXPECT_EQ(parse_byte_range("bytes=a-b", 1000).kind, ByteRange::Kind::Ignore);
    EXPECT_EQ(parse_byte_range("BYTES=1-2", 1000).kind, ByteRange::Kind::Satisfiable);
    char buffer[content_range_max_length];
    EXPECT_EQ(format_content_range(parse_byte_range("bytes=5-9", 10), 10, buffer), "bytes 5-9/10");
    EXPECT_EQ(format_content_range(parse_byte_range("bytes=50-", 10), 10, buffer), "bytes */10");
}

TEST(PathDecoding, PercentDecoding)
{
    char buffer[64];
    auto decoded = percent_decode("a%20b%2Fc%c3%A9+", buffer);
    ASSERT_FALSE(decoded.is_error());
    EXPECT_EQ(decoded.value(), "a b/cé+");
    EXPECT_EQ(percent_decode("a+b", buffer, PlusHandling::AsSpace).value(), "a b");
    EXPECT_TRUE(percent_decode("%", buffer).is_error());
    EXPECT_TRUE(percent_decode("%4", buffer).is_error());
    EXPECT_TRUE(percent_decode("%zz", buffer).is_error());
    char tiny[2];
    EXPECT_TRUE(percent_decode("abc", tiny).is_error());
}

TEST(PathDecoding, FsPathRules)
{
    char buffer[1024];
    auto ok = [&](std::string_view raw) { return !decode_fs_path(raw, buffer).is_error(); };
    EXPECT_EQ(decode_fs_path("models/llama%20q4.gguf", buffer).value().path, "models/llama q4.gguf");
    auto dir = decode_fs_path("models/", buffer);
    ASSERT_FALSE(dir.is_error());
    EXPECT_EQ(dir.value().path, "models");
    EXPECT_TRUE(dir.value().trailing_slash);
    EXPECT_EQ(decode_fs_path("", buffer).value().path, "");
    EXPECT_TRUE(ok("%C3%A9t%C3%A9/x"));
    EXPECT_FALSE(ok("a//b"));
    EXPECT_FALSE(ok("/a"));
    EXPECT_FALSE(ok("a//"));
    EXPECT_FALSE(ok("/"));
    EXPECT_FALSE(ok("a/./b"));
    EXPECT_FALSE(ok("a/../b"));
    EXPECT_FALSE(ok(".."));
    EXPECT_FALSE(ok("%2e%2e/x"));
    EXPECT_FALSE(ok("a%2F%2Fb"));
    EXPECT_FALSE(ok("a%00b"));
    EXPECT_FALSE(ok("a%5Cb"));
    EXPECT_FALSE(ok("a\\b"));
    EXPECT_FALSE(ok("a%0Ab"));
    EXPECT_FALSE(ok("%ff"));
    EXPECT_FALSE(ok("%c0%af"));
    EXPECT_FALSE(ok("bad%"));
    EXPECT_TRUE(ok(std::string(255, 'n')));
    EXPECT_FALSE(ok(std::string(256, 'n')));
    EXPECT_TRUE(ok("...")); // only "." and ".." are special
}

TEST(PathDecoding, QueryParameters)
{
    char buffer[64];
    EXPECT_EQ(query_parameter("a=1&name=hello+w%6Frld&b", "name", buffer).value(), "hello world");
    EXPECT_EQ(query_parameter("a=1&b", "b", buffer).value(), "");
    EXPECT_EQ(query_parameter("a=1", "c", buffer).error().code(), ErrorCode::NotFound);
}

TEST(HttpDate, KnownInstants)
{
    char buffer[http_date_length + 1];
    EXPECT_EQ(format_http_date(784111777, buffer), "Sun, 06 Nov 1994 08:49:37 GMT"); // RFC 9110's example
    EXPECT_EQ(format_http_date(0, buffer), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(format_http_date(951782400, buffer), "Tue, 29 Feb 2000 00:00:00 GMT");
    EXPECT_EQ(format_http_date(4102444799, buffer), "Thu, 31 Dec 2099 23:59:59 GMT");
}


TEST(Router, PatternsParametersAndMethods)
{
    struct Factory final : HttpHandlerFactory {
        ErrorOr<HttpHandler*> create(Allocator&, const HttpRequest&) override { return Error::unsupported("unused"); }
    } users, fs, root, user_put;
    Router router;
    ASSERT_FALSE(router.add(HttpMethod::Get, "/", root).is_error());
    ASSERT_FALSE(router.add(HttpMethod::Get, "/users/:name", users).is_error());
    ASSERT_FALSE(router.add(HttpMethod::Put, "/users/:name/password", user_put).is_error());
    ASSERT_FALSE(router.add(HttpMethod::Get, "/fs/*path", fs).is_error());
    EXPECT_TRUE(router.add(HttpMethod::Get, "nope", root).is_error());
    EXPECT_TRUE(router.add(HttpMethod::Get, "/a/*rest/b", root).is_error());
    EXPECT_TRUE(router.add(HttpMethod::Get, "/a/:", root).is_error());

    HttpRequest request;
    auto match = [&](HttpMethod method, std::string_view path) {
        request = HttpRequest {};
        request.method = method;
        request.path = path;
        return router.match(request);
    };
    auto m = match(HttpMethod::Get, "/users/bob");
    ASSERT_EQ(m.kind, RouteMatch::Kind::Found);
    EXPECT_EQ(m.route->handler, &users);
    EXPECT_EQ(request.parameter("name"), "bob");
    m = match(HttpMethod::Put, "/users/bob/password");
    EXPECT_EQ(m.route->handler, &user_put);
    EXPECT_EQ(request.parameter("name"), "bob");
    EXPECT_EQ(match(HttpMethod::Get, "/users/").kind, RouteMatch::Kind::NotFound);
    EXPECT_EQ(match(HttpMethod::Get, "/users/bob/x").kind, RouteMatch::Kind::NotFound);
    m = match(HttpMethod::Get, "/fs/models/a%20b.gguf");
    EXPECT_EQ(m.route->handler, &fs);
    EXPECT_EQ(request.parameter("path"), "models/a%20b.gguf");
    m = match(HttpMethod::Get, "/fs/");
    EXPECT_EQ(m.kind, RouteMatch::Kind::Found);
    EXPECT_EQ(request.parameter("path"), "");
    m = match(HttpMethod::Get, "/fs");
    EXPECT_EQ(m.kind, RouteMatch::Kind::Found);
    EXPECT_EQ(match(HttpMethod::Get, "/fsx").kind, RouteMatch::Kind::NotFound);
    m = match(HttpMethod::Head, "/");
    EXPECT_EQ(m.route->handler, &root); // HEAD falls back to GET
    m = match(HttpMethod::Delete, "/users/bob");
    EXPECT_EQ(m.kind, RouteMatch::Kind::MethodNotAllowed);
    char allow[64];
    EXPECT_EQ(Router::format_allow(m.allowed_methods, allow), "GET, HEAD");
    EXPECT_EQ(match(HttpMethod::Get, "/nothing").kind, RouteMatch::Kind::NotFound);
}

TEST(Router, ResolverIsAskedOnlyWhenNoStaticRouteMatches)
{
    struct Factory final : HttpHandlerFactory {
        ErrorOr<HttpHandler*> create(Allocator&, const HttpRequest&) override { return Error::unsupported("unused"); }
    } health, dynamic;
    // Serves /mod (GET only) and anything under /mod/, as module routes do.
    struct Resolver final : RouteResolver {
        Factory* factory { nullptr };
        int calls { 0 };
        RouteMatch::Kind resolve(const HttpRequest& request, Route& route, uint8_t& allowed) override
        {
            ++calls;
            if (request.path != "/mod" && !request.path.starts_with("/mod/"))
                return RouteMatch::Kind::NotFound;
            if (request.method != HttpMethod::Get) {
                allowed = uint8_t(1u << unsigned(HttpMethod::Get));
                return RouteMatch::Kind::MethodNotAllowed;
            }
            route = {};
            route.method = request.method;
            route.handler = factory;
            route.options.role = Role::User;
            return RouteMatch::Kind::Found;
        }
    } resolver;
    resolver.factory = &dynamic;
    Router router;
    ASSERT_FALSE(router.add(HttpMethod::Get, "/health", health).is_error());
    router.set_resolver(&resolver);

    HttpRequest request;
    auto match = [&](HttpMethod method, std::string_view path) {
        request = HttpRequest {};
        request.method = method;
        request.path = path;
        return router.match(request);
    };
    auto m = match(HttpMethod::Get, "/health");
    EXPECT_EQ(m.route->handler, &health);
    EXPECT_EQ(resolver.calls, 0);
    // A kernel path with the wrong method stays 405: modules cannot take it over.
    EXPECT_EQ(match(HttpMethod::Post, "/health").kind, RouteMatch::Kind::MethodNotAllowed);
    EXPECT_EQ(resolver.calls, 0);

    m = match(HttpMethod::Get, "/mod/x");
    ASSERT_EQ(m.kind, RouteMatch::Kind::Found);
    EXPECT_EQ(m.route->handler, &dynamic);
    EXPECT_EQ(m.route->options.role, Role::User);
    m = match(HttpMethod::Post, "/mod");
    EXPECT_EQ(m.kind, RouteMatch::Kind::MethodNotAllowed);
    char allow[64];
    EXPECT_EQ(Router::format_allow(m.allowed_methods, allow), "GET");
    EXPECT_EQ(match(HttpMethod::Get, "/other").kind, RouteMatch::Kind::NotFound);
    EXPECT_EQ(resolver.calls, 3);
}
