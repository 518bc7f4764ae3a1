// The manifest: every field rule, the permission semantics, route matching.
#include "host/MallocAllocator.h"
#include "lib/rpk/Manifest.h"
#include "tests/unit/rpk/RpkTestSupport.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>

using namespace aisos;
using namespace aisos::rpk;
using aisos::rpk::test::example_manifest;

namespace {

// The example manifest with one piece of its text replaced.
std::string with(std::string_view from, std::string_view to)
{
    std::string text(example_manifest);
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos)
        text.replace(at, from.size(), to);
    return text;
}

// A minimal valid manifest with `permissions` spliced in.
std::string minimal(std::string_view permissions_extra, std::string_view top_extra = "")
{
    return std::string(R"({"name":"m","version":"1","abi":1,"entry":"m.elf",)") + std::string(top_extra)
        + R"("permissions":{"max_memory_mib":1,"max_threads":1)" + std::string(permissions_extra) + "}}";
}

struct Parsed {
    std::unique_ptr<Manifest> manifest { std::make_unique<Manifest>() };
    bool ok { false };
    ErrorCode code { ErrorCode::InvalidArgument };
    std::string text;
};

Parsed parse(std::string_view text)
{
    MallocAllocator allocator;
    Parsed parsed;
    Diagnostic diagnostic;
    auto result = parse_manifest(allocator, text, *parsed.manifest, &diagnostic);
    parsed.ok = !result.is_error();
    if (!parsed.ok) {
        parsed.code = result.error().code();
        parsed.text = std::string(diagnostic.view());
    }
    EXPECT_EQ(allocator.live_allocations(), 0);
    return parsed;
}

std::unique_ptr<Manifest> must_parse(std::string_view text)
{
    auto parsed = parse(text);
    EXPECT_TRUE(parsed.ok) << parsed.text << "\n" << text;
    return std::move(parsed.manifest);
}

void expect_refused(std::string_view text, std::string_view reason, ErrorCode code = ErrorCode::InvalidArgument)
{
    auto parsed = parse(text);
    EXPECT_FALSE(parsed.ok) << text;
    EXPECT_EQ(parsed.code, code) << text;
    EXPECT_NE(parsed.text.find(reason), std::string::npos) << "got: " << parsed.text << "\nwanted: " << reason << "\nfor: " << text;
}

} // namespace

TEST(RpkManifest, TheDocumentedExampleParses)
{
    auto manifest = must_parse(example_manifest);
    EXPECT_EQ(manifest->name, "hello");
    EXPECT_EQ(manifest->version, "1.0.0");
    EXPECT_EQ(manifest->abi, 1u);
    EXPECT_EQ(manifest->entry, "hello.elf");
    EXPECT_EQ(manifest->priority, Priority::Normal);
    ASSERT_EQ(manifest->fs_read_count, 2u);
    EXPECT_EQ(manifest->fs_read[0], "/models");
    EXPECT_EQ(manifest->fs_read[1], "/data/hello");
    ASSERT_EQ(manifest->fs_write_count, 1u);
    EXPECT_EQ(manifest->fs_write[0], "/data/hello");
    ASSERT_EQ(manifest->route_count, 3u);
    EXPECT_EQ(manifest->routes[0].path, "/hello");
    EXPECT_FALSE(manifest->routes[0].prefix);
    EXPECT_EQ(manifest->routes[0].access, Access::Public);
    EXPECT_TRUE(manifest->routes[0].allows(HttpMethod::Get));
    EXPECT_TRUE(manifest->routes[0].allows(HttpMethod::Post));
    EXPECT_FALSE(manifest->routes[0].allows(HttpMethod::Delete));
    EXPECT_EQ(manifest->routes[1].path, "/v1/*");
    EXPECT_TRUE(manifest->routes[1].prefix);
    EXPECT_EQ(manifest->routes[1].match_path(), "/v1");
    EXPECT_EQ(manifest->routes[1].access, Access::User);
    EXPECT_TRUE(manifest->routes[2].websocket);
    EXPECT_EQ(manifest->routes[2].methods, 0);
    EXPECT_EQ(manifest->max_memory_mib, 64u);
    EXPECT_EQ(manifest->max_threads, 8u);
}

TEST(RpkManifest, IsAPlainValueThatOwnsItsText)
{
    static_assert(std::is_trivially_copyable_v<Manifest>);
    std::string text(example_manifest);
    auto manifest = must_parse(text);
    // Destroy the source text; the copy must not notice.
    std::fill(text.begin(), text.end(), 'X');
    auto copy = std::make_unique<Manifest>(*manifest);
    EXPECT_EQ(copy->name, "hello");
    EXPECT_EQ(copy->fs_read[1], "/data/hello");
    EXPECT_EQ(copy->routes[1].path, "/v1/*");
    EXPECT_TRUE(copy->may_read("/models/x.gguf"));
}

TEST(RpkManifest, Defaults)
{
    auto manifest = must_parse(minimal(R"(,"routes":[{"path":"/a","access":"admin"}])"));
    EXPECT_EQ(manifest->priority, Priority::Normal);
    EXPECT_EQ(manifest->fs_read_count, 0u);
    EXPECT_EQ(manifest->fs_write_count, 0u);
    ASSERT_EQ(manifest->route_count, 1u);
    EXPECT_EQ(manifest->routes[0].methods, method_bit(HttpMethod::Get) | method_bit(HttpMethod::Post));
    EXPECT_FALSE(manifest->routes[0].websocket);
    EXPECT_EQ(manifest->routes[0].access, Access::Admin);
    EXPECT_EQ(must_parse(minimal("", R"("priority":"low",)"))->priority, Priority::Low);
    EXPECT_EQ(must_parse(minimal("", R"("priority":"high",)"))->priority, Priority::High);
}

TEST(RpkManifest, ReparsingResetsEverything)
{
    auto manifest = must_parse(example_manifest);
    MallocAllocator allocator;
    MUST(parse_manifest(allocator, minimal(""), *manifest));
    EXPECT_EQ(manifest->route_count, 0u);
    EXPECT_EQ(manifest->fs_read_count, 0u);
    EXPECT_FALSE(manifest->may_read("/models"));
}

TEST(RpkManifest, NotJsonOrNotAnObject)
{
    expect_refused("", "manifest is not valid JSON");
    expect_refused("{\"name\":", "manifest is not valid JSON");
    expect_refused("{\"name\":\"a\",}", "manifest is not valid JSON");
    expect_refused("[1]", "manifest must be a JSON object, not an array");
    expect_refused("\"x\"", "manifest must be a JSON object, not a string");
}

TEST(RpkManifest, UnknownAndDuplicateKeys)
{
    expect_refused(with("\"priority\"", "\"foo\":1, \"priority\""), "unknown manifest key \"foo\"");
    expect_refused(with("\"max_threads\"", "\"fs_exec\":[], \"max_threads\""), "unknown manifest key \"fs_exec\" in permissions");
    expect_refused(with("\"access\": \"public\"", "\"access\": \"public\", \"auth\": \"none\""), "unknown manifest key \"auth\" in a route");
    expect_refused(with("\"name\": \"hello\"", "\"name\": \"hello\", \"name\": \"other\""), "duplicate manifest key \"name\"");
    expect_refused(with("\"max_threads\": 8", "\"max_threads\": 8, \"fs_write\": [\"/\"]"), "duplicate manifest key \"fs_write\" in permissions");
}

TEST(RpkManifest, Name)
{
    for (auto good : { "a", "0", "my-module_2", "abcdefghijklmnopqrstuvwxyz012345" })
        EXPECT_EQ(must_parse(with("\"hello\"", std::string("\"") + good + "\""))->name, good);
    expect_refused(with("\"name\": \"hello\",", ""), "manifest field \"name\" is missing");
    expect_refused(with("\"hello\"", "\"\""), "\"name\" must be 1 .. 32 characters");
    expect_refused(with("\"hello\"", "\"abcdefghijklmnopqrstuvwxyz0123456\""), "\"name\" must be 1 .. 32 characters");
    expect_refused(with("\"hello\"", "\"Hello\""), "\"name\" may hold only");
    expect_refused(with("\"hello\"", "\"he llo\""), "\"name\" may hold only");
    expect_refused(with("\"hello\"", "\"he.llo\""), "\"name\" may hold only");
    expect_refused(with("\"hello\"", "\"-hello\""), "\"name\" must start with a letter or digit");
    expect_refused(with("\"hello\"", "\"_hello\""), "\"name\" must start with a letter or digit");
    expect_refused(with("\"hello\"", "42"), "\"name\" must be a string, not a number");
}

TEST(RpkManifest, Version)
{
    EXPECT_EQ(must_parse(with("\"1.0.0\"", "\"2.0.0-rc.1+build.5\""))->version, "2.0.0-rc.1+build.5");
    expect_refused(with("\"version\": \"1.0.0\",", ""), "manifest field \"version\" is missing");
    expect_refused(with("\"1.0.0\"", "\"\""), "\"version\" must be 1 .. 32 characters");
    expect_refused(with("\"1.0.0\"", "\"123456789012345678901234567890123\""), "\"version\" must be 1 .. 32 characters");
    expect_refused(with("\"1.0.0\"", "\"1.0 beta\""), "\"version\" may hold only");
    expect_refused(with("\"1.0.0\"", "\"1/0\""), "\"version\" may hold only");
    expect_refused(with("\"1.0.0\"", "1"), "\"version\" must be a string");
}

TEST(RpkManifest, Abi)
{
    expect_refused(with("\"abi\": 1", "\"abi\": 2"), "module needs ABI 2, kernel has 1", ErrorCode::Unsupported);
    expect_refused(with("\"abi\": 1", "\"abi\": 0"), "module needs ABI 0, kernel has 1", ErrorCode::Unsupported);
    expect_refused(with("\"abi\": 1", "\"abi\": -1"), "module needs ABI -1, kernel has 1", ErrorCode::Unsupported);
    expect_refused(with("\"abi\": 1,", ""), "manifest field \"abi\" is missing");
    expect_refused(with("\"abi\": 1", "\"abi\": \"1\""), "\"abi\" must be an integer, not a string");
    expect_refused(with("\"abi\": 1", "\"abi\": 1.0"), "\"abi\" must be an integer, not 1.0");
    expect_refused(with("\"abi\": 1", "\"abi\": 99999999999999999999"), "\"abi\" must be an integer");
}

TEST(RpkManifest, Entry)
{
    EXPECT_EQ(must_parse(with("\"hello.elf\"", "\"My_Module-1.2.elf\""))->entry, "My_Module-1.2.elf");
    expect_refused(with("\"entry\": \"hello.elf\",", ""), "manifest field \"entry\" is missing");
    expect_refused(with("\"hello.elf\"", "\"\""), "\"entry\" must be 1 .. 64 characters");
    expect_refused(with("\"hello.elf\"", "\"" + std::string(65, 'a') + "\""), "\"entry\" must be 1 .. 64 characters");
    expect_refused(with("\"hello.elf\"", "\"bin/hello.elf\""), "\"entry\" must be a plain file name");
    expect_refused(with("\"hello.elf\"", "\"..\""), "\"entry\" must be a file name, not \"..\"");
    expect_refused(with("\"hello.elf\"", "\"a b\""), "\"entry\" must be a plain file name");
}

TEST(RpkManifest, Priority)
{
    expect_refused(with("\"normal\"", "\"urgent\""), "\"priority\" must be \"low\", \"normal\" or \"high\"");
    expect_refused(with("\"normal\"", "\"Normal\""), "\"priority\" must be");
    expect_refused(with("\"normal\"", "2"), "\"priority\" must be");
}

TEST(RpkManifest, PermissionsObjectAndLimits)
{
    expect_refused(R"({"name":"m","version":"1","abi":1,"entry":"m"})", "manifest field \"permissions\" is missing");
    expect_refused(R"({"name":"m","version":"1","abi":1,"entry":"m","permissions":[]})", "\"permissions\" must be an object, not an array");
    expect_refused(with("\"max_memory_mib\": 64,", ""), "manifest field \"max_memory_mib\" is missing");
    expect_refused(with("\"max_memory_mib\": 64", "\"max_memory_mib\": 0"), "\"max_memory_mib\" is 0, must be 1 .. 65536");
    expect_refused(with("\"max_memory_mib\": 64", "\"max_memory_mib\": 65537"), "\"max_memory_mib\" is 65537, must be 1 .. 65536");
    expect_refused(with("\"max_memory_mib\": 64", "\"max_memory_mib\": 6.4"), "\"max_memory_mib\" must be an integer");
    EXPECT_EQ(must_parse(with("\"max_memory_mib\": 64", "\"max_memory_mib\": 65536"))->max_memory_mib, 65536u);
    expect_refused(with(",\n    \"max_threads\": 8", ""), "manifest field \"max_threads\" is missing");
    expect_refused(with("\"max_threads\": 8", "\"max_threads\": 0"), "\"max_threads\" is 0, must be 1 .. 256");
    expect_refused(with("\"max_threads\": 8", "\"max_threads\": 257"), "\"max_threads\" is 257, must be 1 .. 256");
    expect_refused(with("\"max_threads\": 8", "\"max_threads\": -3"), "\"max_threads\" is -3");
    expect_refused(with("\"max_threads\": 8", "\"max_threads\": null"), "\"max_threads\" must be an integer, not null");
    EXPECT_EQ(must_parse(with("\"max_threads\": 8", "\"max_threads\": 256"))->max_threads, 256u);
}

TEST(RpkManifest, FsPathRules)
{
    auto list = [](std::string_view key, std::string_view paths) { return minimal(std::string(",\"") + std::string(key) + "\":" + std::string(paths)); };
    for (auto key : { "fs_read", "fs_write" }) {
        must_parse(list(key, "[]"));
        must_parse(list(key, R"(["/", "/a", "/a b/c\u00e9"])"));
        expect_refused(list(key, R"("/models")"), "must be an array of paths, not a string");
        expect_refused(list(key, R"([1])"), "entries must be strings, not a number");
        expect_refused(list(key, R"(["models"])"), "path must start with '/'");
        expect_refused(list(key, R"([""])"), "path must start with '/'");
        expect_refused(list(key, R"(["/models/"])"), "path must not end with '/'");
        expect_refused(list(key, R"(["//models"])"), "empty path segment");
        expect_refused(list(key, R"(["/a//b"])"), "empty path segment");
        expect_refused(list(key, R"(["/a/./b"])"), "'.' and '..' are not allowed");
        expect_refused(list(key, R"(["/a/.."])"), "'.' and '..' are not allowed");
        expect_refused(list(key, R"(["/a\u0000b"])"), "NUL in path");
        expect_refused(list(key, R"(["/a\\b"])"), "backslash in path");
        expect_refused(list(key, R"(["/a\tb"])"), "control character in path");
        expect_refused(list(key, "[\"/" + std::string(256, 'x') + "\"]"), "path segment longer than 255 bytes");
        must_parse(list(key, "[\"/" + std::string(255, 'x') + "\"]"));
        std::string long_path;
        while (long_path.size() < 1025)
            long_path += "/abcdefg";
        expect_refused(list(key, "[\"" + long_path + "\"]"), "path is longer than 1024 bytes");
        expect_refused(list(key, R"(["/system"])"), "modules may not access /system");
        expect_refused(list(key, R"(["/system/users"])"), "modules may not access /system");
        must_parse(list(key, R"(["/systems", "/system2/x"])"));
        expect_refused(list(key, R"(["/a", "/a"])"), "lists \"/a\" twice");
        std::string sixteen = "[", seventeen;
        for (int i = 0; i < 16; ++i)
            sixteen += (i ? ",\"/p" : "\"/p") + std::to_string(i) + "\"";
        seventeen = sixteen + ",\"/p16\"]";
        sixteen += "]";
        EXPECT_EQ(must_parse(list(key, sixteen))->fs_read_count + must_parse(list(key, sixteen))->fs_write_count, 16u);
        expect_refused(list(key, seventeen), "has 17 paths, at most 16 are allowed");
    }
}

TEST(RpkManifest, MayReadAndWriteGrantWholeSegments)
{
    auto manifest = must_parse(minimal(R"(,"fs_read":["/models","/data/hel"],"fs_write":["/data/hello/out"])"));
    EXPECT_TRUE(manifest->may_read("/models"));
    EXPECT_TRUE(manifest->may_read("/models/x.gguf"));
    EXPECT_TRUE(manifest->may_read("/models/a/b/c"));
    EXPECT_FALSE(manifest->may_read("/modelsx"));
    EXPECT_FALSE(manifest->may_read("/model"));
    EXPECT_FALSE(manifest->may_read("/"));
    EXPECT_TRUE(manifest->may_read("/data/hel"));
    EXPECT_TRUE(manifest->may_read("/data/hel/lo"));
    EXPECT_FALSE(manifest->may_read("/data/hello"));
    EXPECT_FALSE(manifest->may_read("/data"));
    EXPECT_FALSE(manifest->may_write("/models/x.gguf"));
    EXPECT_FALSE(manifest->may_write("/data/hel"));
    // Write implies read.
    EXPECT_TRUE(manifest->may_write("/data/hello/out"));
    EXPECT_TRUE(manifest->may_write("/data/hello/out/log.txt"));
    EXPECT_TRUE(manifest->may_read("/data/hello/out/log.txt"));
    EXPECT_FALSE(manifest->may_write("/data/hello/output"));
    EXPECT_FALSE(manifest->may_write("/data/hello"));
    // Malformed paths never pass, even when a prefix would match.
    for (auto bad : { "", "models", "/models/", "/models/../system", "/models/./x", "/models//x", "//models", "/models/a\\b" }) {
        EXPECT_FALSE(manifest->may_read(bad)) << bad;
        EXPECT_FALSE(manifest->may_write(bad)) << bad;
    }
    EXPECT_FALSE(manifest->may_read(std::string_view("/models/a\0b", 11)));
}

TEST(RpkManifest, RootGrantsEverythingButSystem)
{
    auto manifest = must_parse(minimal(R"(,"fs_read":["/"],"fs_write":["/"])"));
    EXPECT_TRUE(manifest->may_read("/"));
    EXPECT_TRUE(manifest->may_read("/models/x"));
    EXPECT_TRUE(manifest->may_write("/anything/at/all"));
    EXPECT_TRUE(manifest->may_read("/systemd"));
    for (auto path : { "/system", "/system/users", "/system/a/b" }) {
        EXPECT_FALSE(manifest->may_read(path)) << path;
        EXPECT_FALSE(manifest->may_write(path)) << path;
    }
    EXPECT_FALSE(must_parse(minimal(""))->may_read("/"));
}

TEST(RpkManifest, RouteRules)
{
    auto route = [](std::string_view body) { return minimal(std::string(R"(,"routes":[)") + std::string(body) + "]"); };
    must_parse(route(R"({"path":"/a.b/c_d/e~f-g","access":"public"})"));
    must_parse(route(R"({"path":"/v1/*","access":"user"})"));
    must_parse(route(R"({"path":"/wss","websocket":true,"access":"user"},{"path":"/wss","access":"user"})"));
    expect_refused(minimal(R"(,"routes":{})"), "permissions.routes must be an array, not an object");
    expect_refused(route("1"), "routes entries must be objects, not a number");
    expect_refused(route(R"({"access":"user"})"), "every route needs a \"path\" string");
    expect_refused(route(R"({"path":"hello","access":"user"})"), "route path must start with '/' (\"hello\")");
    expect_refused(route(R"({"path":"/a//b","access":"user"})"), "has an empty segment");
    expect_refused(route(R"({"path":"/a/","access":"user"})"), "has an empty segment");
    expect_refused(route(R"({"path":"/a/../b","access":"user"})"), "has a '.' or '..' segment");
    expect_refused(route(R"({"path":"/a b","access":"user"})"), "has a character outside");
    expect_refused(route(R"({"path":"/a?b","access":"user"})"), "has a character outside");
    expect_refused(route(R"({"path":"/a%20b","access":"user"})"), "has a character outside");
    expect_refused(route(R"({"path":"/v1*","access":"user"})"), "may use '*' only as a final \"/*\"");
    expect_refused(route(R"({"path":"/*/x","access":"user"})"), "may use '*' only as a final \"/*\"");
    expect_refused(route("{\"path\":\"/" + std::string(128, 'a') + "\",\"access\":\"user\"}"), "is longer than 128 bytes");
    expect_refused(route("{\"path\":\"/" + std::string(2000, 'a') + "\",\"access\":\"user\"}"), "route path is longer than 128 bytes");
    must_parse(route("{\"path\":\"/" + std::string(127, 'a') + "\",\"access\":\"user\"}"));
    expect_refused(route(R"({"path":"/a"})"), "route /a: \"access\" must be \"public\", \"user\" or \"admin\"");
    expect_refused(route(R"({"path":"/a","access":"root"})"), "not \"root\"");
    expect_refused(route(R"({"path":"/a","access":"user","websocket":"yes"})"), "\"websocket\" must be true or false");
    expect_refused(route(R"({"path":"/a","access":"user","websocket":true,"methods":["GET"]})"), "a websocket route takes no \"methods\"");
    expect_refused(route(R"({"path":"/a","access":"user","methods":[]})"), "\"methods\" is empty");
    expect_refused(route(R"({"path":"/a","access":"user","methods":"GET"})"), "\"methods\" must be an array");
    expect_refused(route(R"({"path":"/a","access":"user","methods":["get"]})"), "methods may be GET, HEAD, POST, PUT, DELETE, OPTIONS");
    expect_refused(route(R"({"path":"/a","access":"user","methods":["PATCH"]})"), "methods may be");
    expect_refused(route(R"({"path":"/a","access":"user","methods":["GET","GET"]})"), "method GET is listed twice");
    expect_refused(route(R"({"path":"/a","access":"user"},{"path":"/a","access":"admin"})"), "route /a is listed twice");
    auto all = must_parse(route(R"({"path":"/a","access":"user","methods":["GET","HEAD","POST","PUT","DELETE","OPTIONS"]})"));
    for (auto method : { HttpMethod::Get, HttpMethod::Head, HttpMethod::Post, HttpMethod::Put, HttpMethod::Delete, HttpMethod::Options })
        EXPECT_TRUE(all->routes[0].allows(method));
    std::string many;
    for (int i = 0; i < 17; ++i)
        many += (i ? "," : "") + std::string(R"({"path":"/r)") + std::to_string(i) + R"(","access":"user"})";
    expect_refused(route(many), "has 17 routes, at most 16 are allowed");
    many = many.substr(0, many.rfind(",{"));
    EXPECT_EQ(must_parse(route(many))->route_count, 16u);
}

TEST(RpkManifest, KernelRoutesAreReserved)
{
    auto route = [](std::string_view path) { return minimal(std::string(R"(,"routes":[{"path":")") + std::string(path) + R"(","access":"public"}])"); };
    expect_refused(route("/"), "route / is reserved for the kernel");
    for (auto reserved : { "/auth", "/users", "/fs", "/pkg", "/sys", "/debug", "/health", "/metrics", "/ws/echo" }) {
        expect_refused(route(reserved), std::string("route ") + reserved + " is reserved for the kernel");
        expect_refused(route(std::string(reserved) + "/x"), std::string("overlaps ") + reserved + ", which is reserved for the kernel");
        expect_refused(route(std::string(reserved) + "/*"), "reserved for the kernel");
    }
    // A prefix route that would swallow a kernel route.
    expect_refused(route("/*"), "reserved for the kernel");
    expect_refused(route("/ws/*"), "overlaps /ws/echo");
    // Neighbours that only share leading characters are fine.
    for (auto fine : { "/fsx", "/authority", "/system", "/healthz", "/ws", "/ws/echo2", "/pkgs/*", "/v1/*" })
        must_parse(route(fine));
}

TEST(RpkManifest, MatchRoutePrefersExactThenLongestPrefix)
{
    auto manifest = must_parse(minimal(R"(,"routes":[
        {"path":"/v1/*","access":"user"},
        {"path":"/v1/chat/*","access":"admin"},
        {"path":"/v1/chat/special","access":"public"},
        {"path":"/hello","access":"public"},
        {"path":"/ws","websocket":true,"access":"user"},
        {"path":"/stream/*","websocket":true,"access":"user"}])"));
    auto path_of = [&](std::string_view path, bool websocket) -> std::string {
        auto route = manifest->match_route(path, websocket);
        return route ? std::string(route->path.view()) : "(none)";
    };
    EXPECT_EQ(path_of("/hello", false), "/hello");
    EXPECT_EQ(path_of("/hello/x", false), "(none)");
    EXPECT_EQ(path_of("/hell", false), "(none)");
    EXPECT_EQ(path_of("/v1", false), "/v1/*");
    EXPECT_EQ(path_of("/v1/", false), "/v1/*");
    EXPECT_EQ(path_of("/v1/models", false), "/v1/*");
    EXPECT_EQ(path_of("/v1x", false), "(none)");
    EXPECT_EQ(path_of("/v1/chat", false), "/v1/chat/*");
    EXPECT_EQ(path_of("/v1/chat/completions", false), "/v1/chat/*");
    EXPECT_EQ(path_of("/v1/chat/special", false), "/v1/chat/special");
    EXPECT_EQ(path_of("/v1/chat/special/x", false), "/v1/chat/*");
    EXPECT_EQ(path_of("/v1/chatter", false), "/v1/*");
    // Websocket routes and plain routes do not answer for each other.
    EXPECT_EQ(path_of("/ws", false), "(none)");
    EXPECT_EQ(path_of("/ws", true), "/ws");
    EXPECT_EQ(path_of("/hello", true), "(none)");
    EXPECT_EQ(path_of("/stream/a/b", true), "/stream/*");
    EXPECT_EQ(path_of("/stream", true), "/stream/*");
    EXPECT_EQ(path_of("/stream/a", false), "(none)");
    EXPECT_EQ(path_of("/", false), "(none)");
    EXPECT_EQ(path_of("", false), "(none)");
}

TEST(RpkManifest, AllocationFailureIsReported)
{
    MallocAllocator allocator;
    allocator.fail_after(0);
    auto manifest = std::make_unique<Manifest>();
    Diagnostic diagnostic;
    auto result = parse_manifest(allocator, example_manifest, *manifest, &diagnostic);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), ErrorCode::OutOfMemory);
    EXPECT_EQ(diagnostic.view(), "out of memory");
    EXPECT_EQ(allocator.live_allocations(), 0);
    allocator.fail_after(1);
    EXPECT_TRUE(parse_manifest(allocator, example_manifest, *manifest).is_error());
    EXPECT_EQ(allocator.live_allocations(), 0);
}

TEST(RpkManifest, HttpMethodNames)
{
    HttpMethod method;
    EXPECT_TRUE(parse_http_method("OPTIONS", method));
    EXPECT_EQ(method, HttpMethod::Options);
    EXPECT_STREQ(http_method_name(HttpMethod::Delete), "DELETE");
    EXPECT_FALSE(parse_http_method("", method));
    EXPECT_FALSE(parse_http_method("Get", method));
}
