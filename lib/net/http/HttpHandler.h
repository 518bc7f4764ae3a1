#pragma once

// Route handlers. For every request the server asks the route's factory for
// a handler object (allocated from the Allocator it passes, destroyed with
// it once the response is finished or the connection is gone), then calls:
//
//   on_request(request, response)  headers parsed, auth passed. May answer
//                                   at once (e.g. an error); the body is then
//                                   not read and the connection closes if one
//                                   was announced.
//   on_body(piece, response)        body bytes as they arrive (Content-Length
//                                   or de-chunked), in order. Returns how many
//                                   it took; fewer than offered = "not now":
//                                   the server keeps the rest, stops reading
//                                   from this client and offers it again on a
//                                   later poll (backpressure).
//   on_body_end(response)           the body is complete (also without body).
//   on_poll(response)               called on every server poll after
//                                   on_body_end until the response is finished,
//                                   and while a streamed response can take
//                                   more data. Must never block.
//   on_abort()                      the connection died before the response
//                                   finished.
//
// Everything runs on the network core inside HttpServer::poll().

#include "lib/base/Allocator.h"
#include "lib/json/GrowableBuffer.h"
#include "lib/net/http/HttpRequest.h"
#include "lib/net/http/HttpResponse.h"

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::http {

class HttpHandler {
public:
    virtual ~HttpHandler() = default;
    virtual void on_request(const HttpRequest&, HttpResponse&) { }
    virtual size_t on_body(std::span<const uint8_t> piece, HttpResponse&) { return piece.size(); }
    virtual void on_body_end(const HttpRequest&, HttpResponse&) { }
    virtual void on_poll(const HttpRequest&, HttpResponse&) { }
    virtual void on_abort() { }
};

class HttpHandlerFactory {
public:
    // Creates the handler for one request, with allocator.create<...>().
    // An error answers 503 (out of memory) without calling anything else.
    virtual ErrorOr<HttpHandler*> create(Allocator&, const HttpRequest&) = 0;

protected:
    ~HttpHandlerFactory() = default;
};

// The convenience for most endpoints: the whole (small) body is collected
// (up to the route's body limit) and `function(request, body, response)` is
// called once; it must send a complete response.
//
//   SimpleRoute health([](const HttpRequest&, std::span<const uint8_t>, HttpResponse& response) {
//       response.send(200, "application/json", R"({"status":"ok"})");
//   });
//   router.add(HttpMethod::Get, "/health", health, { .role = Role::Public });
template<typename Function>
class SimpleRoute final : public HttpHandlerFactory {
public:
    explicit SimpleRoute(Function function)
        : m_function(function)
    {
    }

    ErrorOr<HttpHandler*> create(Allocator& allocator, const HttpRequest&) override
    {
        return TRY(allocator.create<Handler>(allocator, m_function));
    }

private:
    class Handler final : public HttpHandler {
    public:
        Handler(Allocator& allocator, Function& function)
            : m_body(allocator)
            , m_function(function)
        {
        }
        size_t on_body(std::span<const uint8_t> piece, HttpResponse&) override
        {
            m_body.append(piece);
            return piece.size();
        }
        void on_body_end(const HttpRequest& request, HttpResponse& response) override
        {
            if (m_body.failed()) {
                response.send_error(503, "out of memory for the request body");
                return;
            }
            m_function(request, m_body.bytes(), response);
            if (!response.started())
                response.send_error(500, "handler produced no response");
        }

    private:
        json::GrowableBuffer m_body;
        Function& m_function;
    };

    Function m_function;
};

} // namespace aisos::http
