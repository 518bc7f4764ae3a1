// libFuzzer target: POST /auth/login bodies (and other auth requests)
// through the real HttpServer and AuthService, with a fast KDF.
//
// The input is the body of a login request; the first byte picks the route
// (login, user creation with an admin token, password change), so every
// JSON body the auth endpoints accept is fuzzed. Invariants: a complete,
// well-formed response for every request (never a crash, never a 500);
// no memory left behind once the connection is gone.
#include "host/MallocAllocator.h"
#include "lib/auth/AuthService.h"
#include "lib/crypto/Csprng.h"
#include "lib/net/http/HttpServer.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

using namespace aisos;
using namespace aisos::auth;

namespace {

class Entropy final : public crypto::EntropySource {
public:
    ErrorOr<void> read(std::span<uint8_t> out) override
    {
        for (auto& byte : out) {
            m_state ^= m_state << 13;
            m_state ^= m_state >> 7;
            m_state ^= m_state << 17;
            byte = uint8_t(m_state >> 24);
        }
        return {};
    }

private:
    uint64_t m_state { 0x123456789abcdefull };
};

class FixedClock final : public Clock {
public:
    uint64_t now_unix_seconds() override { return 1'800'000'000; }
};

class Stream final : public http::ByteStream {
public:
    size_t read(std::span<uint8_t> buffer) override
    {
        size_t n = std::min(buffer.size(), input.size() - position);
        __builtin_memcpy(buffer.data(), input.data() + position, n);
        position += n;
        return n;
    }
    size_t write(std::span<const uint8_t> data) override
    {
        output.append(reinterpret_cast<const char*>(data.data()), data.size());
        return data.size();
    }
    size_t writable() const override { return 1 << 20; }
    bool peer_closed() const override { return position == input.size(); }
    void close() override { closed = true; }
    void abort() override { closed = true; }
    bool is_closed() const override { return closed; }

    std::string input;
    size_t position { 0 };
    std::string output;
    bool closed { false };
};

struct World {
    MallocAllocator allocator;
    Entropy entropy;
    crypto::Csprng random { entropy };
    FixedClock clock;
    SynchronousKdfExecutor executor { allocator };
    AuthService* service { nullptr };
    http::Router router;
    std::string admin_token;

    World()
    {
        MUST(random.seed());
        AuthConfig config;
        config.kdf = { .memory_kib = 8, .iterations = 1, .parallelism = 1 };
        // A huge allowance so the fuzzer is not throttled into one code path.
        config.per_name_limit.free_failures = 1u << 30;
        config.per_address_limit.free_failures = 1u << 30;
        service = MUST(AuthService::create(allocator, clock, random, executor, config));
        MUST(service->bootstrap("fuzz admin password", {}));
        MUST(service->register_routes(router));
        admin_token = login_token();
    }

    std::string login_token()
    {
        std::string body = R"({"user":"admin","password":"fuzz admin password"})";
        auto response = exchange("POST /auth/login HTTP/1.1\r\nHost: fuzz\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
        size_t start = response.find("\"token\":\"");
        if (start == std::string::npos) {
            fprintf(stderr, "login failed: %s\n", response.c_str());
            __builtin_trap();
        }
        start += 9;
        return response.substr(start, response.find('"', start) - start);
    }

    std::string exchange(std::string request)
    {
        http::HttpServer server(allocator, router);
        server.set_authenticator(service);
        Stream stream;
        stream.input = std::move(request);
        if (server.accept(&stream, { 0x0a000202, 1234 }).is_error())
            __builtin_trap();
        for (uint64_t i = 1; i < 64 && !stream.closed; ++i)
            server.poll(i * 1000000);
        return stream.output;
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static World* s_world = new World;
    if (size < 1)
        return 0;
    std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
    std::string head;
    switch (data[0] % 3) {
    case 0:
        head = "POST /auth/login HTTP/1.1\r\nHost: fuzz\r\n";
        break;
    case 1:
        head = "POST /users HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer " + s_world->admin_token + "\r\n";
        break;
    case 2:
        head = "PUT /users/admin/password HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer " + s_world->admin_token + "\r\n";
        break;
    }
    auto response = s_world->exchange(head + "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    if (!response.starts_with("HTTP/1.1 ") || response.size() < 12)
        __builtin_trap();
    auto status = response.substr(9, 3);
    if (status[0] == '5' && status != "503")
        __builtin_trap();
    // Keep the world small and the admin's token valid: undo what the input did.
    if (status == "201") {
        for (auto& user : s_world->service->users().users()) {
            if (user.name.view() != "admin") {
                auto name = std::string(user.name.view());
                s_world->exchange("DELETE /users/" + name + " HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer " + s_world->admin_token + "\r\nConnection: close\r\n\r\n");
                break;
            }
        }
    }
    if (status == "204") {
        // The admin's password changed: the changing session stays, so the token still works;
        // set the password back so later logins keep succeeding.
        std::string reset = R"({"password":"fuzz admin password"})";
        s_world->exchange("PUT /users/admin/password HTTP/1.1\r\nHost: fuzz\r\nAuthorization: Bearer " + s_world->admin_token + "\r\nContent-Length: " + std::to_string(reset.size()) + "\r\nConnection: close\r\n\r\n" + reset);
    }
    return 0;
}
