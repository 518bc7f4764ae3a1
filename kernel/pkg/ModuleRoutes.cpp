// HTTP requests to module routes: the router asks ModuleRouteResolver for
// paths no kernel route matches; a ModuleHandler then carries the request
// to the module's ModuleService and streams the answer back (see
// ModuleRequest.h for who may go away when).

#include "kernel/BootConfig.h"
#include "kernel/mm/KernelAllocator.h"
#include "kernel/pkg/Package.h"
#include "kernel/pkg/PackageManager.h"
#include "lib/json/GrowableBuffer.h"
#include "lib/net/http/HttpHandler.h"

namespace aisos::pkg {

namespace {

using http::HttpMethod;
using http::HttpRequest;
using http::HttpResponse;
using http::Role;

static_assert(uint8_t(HttpMethod::Get) == uint8_t(rpk::HttpMethod::Get) && uint8_t(HttpMethod::Options) == uint8_t(rpk::HttpMethod::Options),
    "the HTTP and manifest method enums line up");

Role role_of(rpk::Access access)
{
    switch (access) {
    case rpk::Access::Public: return Role::Public;
    case rpk::Access::User: return Role::User;
    case rpk::Access::Admin: return Role::Admin;
    }
    return Role::Admin;
}

uint32_t abi_method(HttpMethod method) { return static_cast<uint32_t>(method) + AISOS_METHOD_GET; }

uint32_t abi_role(const http::AuthResult& identity)
{
    if (identity.kind != http::AuthResult::Kind::User)
        return AISOS_ROLE_ANONYMOUS;
    return identity.role == Role::Admin ? AISOS_ROLE_ADMIN : AISOS_ROLE_USER;
}

template<size_t N>
uint32_t copy_text(char (&destination)[N], std::string_view text)
{
    size_t length = text.size() < N ? text.size() : N;
    __builtin_memcpy(destination, text.data(), length);
    return static_cast<uint32_t>(length);
}

class ModuleHandler final : public http::HttpHandler {
public:
    ModuleHandler(Allocator& allocator, Package& package)
        : m_package(package)
        , m_body(allocator, AISOS_REQUEST_BODY_MAX)
    {
    }
    ~ModuleHandler() override { drop_request(); }

    size_t on_body(std::span<const uint8_t> piece, HttpResponse&) override
    {
        m_body.append(piece);
        return piece.size();
    }

    void on_body_end(const HttpRequest& request, HttpResponse& response) override
    {
        if (m_body.failed()) {
            response.send_error(413, "request body too large for a module (1 MiB at most)");
            return;
        }
        if (!m_package.used || !m_package.service || m_package.state != PackageState::Running) {
            send_unavailable(response);
            return;
        }
        auto created = ModuleRequest::create(m_body.bytes());
        if (created.is_error()) {
            response.send_error(503, "out of memory for the request");
            return;
        }
        ModuleRequest* module_request = created.value();
        aisos_request& info = module_request->info;
        info.kind = AISOS_REQUEST_HTTP;
        info.method = abi_method(request.method);
        info.role = abi_role(request.identity);
        info.target_length = copy_text(info.target, request.target);
        info.content_type_length = copy_text(info.content_type, request.header("content-type").value_or(std::string_view {}));
        info.user_length = copy_text(info.user, request.identity.user_name());
        if (auto submitted = m_package.service->submit(*module_request); submitted.is_error()) {
            module_request->release(); // the service's reference, never taken
            module_request->release();
            if (submitted.error().code() == ErrorCode::Busy)
                response.send_error(429, "the module is busy: too many requests queued");
            else
                send_unavailable(response);
            return;
        }
        m_request = module_request;
    }

    void on_poll(const HttpRequest&, HttpResponse& response) override
    {
        if (!m_request || response.finished())
            return;
        bool drained = false, done = false, gone = false;
        {
            SpinlockGuard guard(m_request->lock);
            gone = m_request->module_gone && !m_request->ended;
            if (m_request->started && !response.started() && !gone) {
                auto status = static_cast<uint16_t>(m_request->status);
                std::string_view type { m_request->content_type, m_request->content_type_length };
                if (type.empty())
                    type = "application/octet-stream";
                if (response.start(status, type, http::ResponseLength::unknown()).is_error()) {
                    response.abandon();
                    return;
                }
            }
            while (response.started() && m_request->ring_used() > 0) {
                size_t room = response.writable();
                if (room == 0)
                    break;
                size_t at = m_request->ring_read % ModuleRequest::ring_capacity;
                size_t contiguous = ModuleRequest::ring_capacity - at;
                size_t length = m_request->ring_used();
                length = length < contiguous ? length : contiguous;
                length = length < room ? length : room;
                size_t written = response.write({ m_request->ring + at, length });
                if (written == 0)
                    break;
                m_request->ring_read += written;
                drained = true;
            }
            done = m_request->ended && m_request->ring_used() == 0;
        }
        if (drained)
            m_request->writers.wake_all();
        if (gone) {
            // The module died mid-answer: 503 if nothing went out yet,
            // otherwise cut the connection so the body never looks complete.
            if (!response.started())
                send_unavailable(response);
            else
                response.abandon();
            drop_request();
            return;
        }
        if (done) {
            if (!response.started())
                response.send_empty(static_cast<uint16_t>(m_request->status));
            else
                response.finish();
            drop_request();
        }
    }

    void on_abort() override
    {
        if (!m_request)
            return;
        {
            SpinlockGuard guard(m_request->lock);
            m_request->client_gone = true;
        }
        m_request->writers.wake_all();
        drop_request();
    }

private:
    void send_unavailable(HttpResponse& response)
    {
        (void)response.header("Retry-After", "1");
        response.send_error(503, "the module serving this route is not running");
    }

    void drop_request()
    {
        if (!m_request)
            return;
        ModuleRequest* request = m_request;
        m_request = nullptr;
        {
            SpinlockGuard guard(request->lock);
            if (!request->ended)
                request->client_gone = true;
        }
        request->writers.wake_all();
        request->release();
    }

    Package& m_package;
    json::GrowableBuffer m_body;
    ModuleRequest* m_request { nullptr };
};

// A WebSocket to a module (abi.h: one connection id from its OPEN request,
// messages in both directions, response_end closes).
class ModuleWebSocketSession final : public http::WebSocketSession {
public:
    ModuleWebSocketSession(Allocator& allocator, Package& package, ModuleRequest& connection, uint8_t* scratch)
        : m_allocator(allocator)
        , m_package(package)
        , m_connection(&connection)
        , m_scratch(scratch)
    {
    }
    ~ModuleWebSocketSession() override
    {
        m_connection->release();
        m_allocator.free(m_scratch);
    }

    void on_open(http::WebSocket& socket) override
    {
        if (!m_package.used || !m_package.service || m_package.state != PackageState::Running || m_package.service->submit(*m_connection).is_error()) {
            m_connection->release(); // the service's reference, never taken
            socket.close(1013, "the module serving this route is not running");
            return;
        }
        m_submitted = true;
    }

    void on_message(http::WebSocket& socket, http::WebSocketMessageType type, std::span<const uint8_t> payload) override
    {
        if (!m_submitted)
            return;
        if (type != http::WebSocketMessageType::Text) {
            socket.close(1003, "text messages only");
            return;
        }
        auto created = ModuleRequest::create(payload);
        if (created.is_error()) {
            socket.close(1011, "out of memory");
            return;
        }
        ModuleRequest* message = created.value();
        message->info = m_connection->info;
        message->info.kind = AISOS_REQUEST_WEBSOCKET_MESSAGE;
        message->info.body_length = payload.size();
        message->release(); // only the service's reference: the session does not keep messages
        if (!m_package.service || m_package.service->submit(*message).is_error()) {
            message->release();
            socket.close(1013, "the module is busy or gone");
        }
    }

    void on_poll(http::WebSocket& socket) override
    {
        if (!m_submitted || !socket.is_open())
            return;
        bool drained = false, close = false, gone = false;
        {
            SpinlockGuard guard(m_connection->lock);
            while (m_connection->ring_used() >= 4) {
                uint32_t length = 0;
                for (size_t i = 0; i < 4; ++i)
                    length |= uint32_t(m_connection->ring[(m_connection->ring_read + i) % ModuleRequest::ring_capacity]) << (8 * i);
                if (!socket.can_send(length))
                    break;
                for (size_t i = 0; i < length; ++i)
                    m_scratch[i] = m_connection->ring[(m_connection->ring_read + 4 + i) % ModuleRequest::ring_capacity];
                m_connection->ring_read += 4 + length;
                drained = true;
                if (socket.send_text({ reinterpret_cast<const char*>(m_scratch), length }).is_error()) {
                    close = true;
                    break;
                }
            }
            gone = m_connection->module_gone;
            close = close || (m_connection->ended && m_connection->ring_used() == 0);
        }
        if (drained)
            m_connection->writers.wake_all();
        if (gone)
            socket.close(1011, "the module stopped");
        else if (close)
            socket.close(1000);
    }

    void on_close(uint16_t) override
    {
        if (!m_submitted)
            return;
        bool module_alive;
        {
            SpinlockGuard guard(m_connection->lock);
            m_connection->client_gone = true;
            module_alive = !m_connection->module_gone && !m_connection->ended;
        }
        m_connection->writers.wake_all();
        if (module_alive && m_package.service) {
            // Tell the module, so it can release the connection.
            if (auto notice = ModuleRequest::create({}); !notice.is_error()) {
                notice.value()->info = m_connection->info;
                notice.value()->info.kind = AISOS_REQUEST_WEBSOCKET_CLOSE;
                notice.value()->info.body_length = 0;
                notice.value()->release();
                if (m_package.service->submit(*notice.value()).is_error())
                    notice.value()->release();
            }
        }
    }

private:
    Allocator& m_allocator;
    Package& m_package;
    ModuleRequest* m_connection; // the session's reference
    uint8_t* m_scratch; // one message, ModuleRequest::ring_capacity bytes (owned by the allocator)
    bool m_submitted { false };
};

class ModuleRouteResolver final : public http::RouteResolver {
public:
    http::RouteMatch::Kind resolve(const HttpRequest& request, http::Route& route, uint8_t& allowed_methods) override
    {
        for (Package& package : packages()) {
            if (!package.used || package.removing)
                continue;
            const rpk::Route* match = package.manifest->match_route(request.path, request.upgrade_websocket);
            // A plain request to a WebSocket-only path gets the server's 426.
            if (!match && !request.upgrade_websocket)
                match = package.manifest->match_route(request.path, true);
            if (!match)
                continue;
            if (match->websocket) {
                if (request.method != HttpMethod::Get) {
                    allowed_methods = uint8_t(1u << unsigned(HttpMethod::Get));
                    return http::RouteMatch::Kind::MethodNotAllowed;
                }
                route = {};
                route.method = HttpMethod::Get;
                route.pattern = match->path.view();
                route.websocket = &package.websocket_factory;
                route.options.role = role_of(match->access);
                if (route.options.role == Role::User && boot_settings().anonymous_inference)
                    route.options.role = Role::Public;
                return http::RouteMatch::Kind::Found;
            }
            auto method = static_cast<rpk::HttpMethod>(static_cast<uint8_t>(request.method));
            bool allowed = match->allows(method) || (request.method == HttpMethod::Head && match->allows(rpk::HttpMethod::Get));
            if (!allowed) {
                allowed_methods = match->methods;
                return http::RouteMatch::Kind::MethodNotAllowed;
            }
            route = {};
            route.method = request.method;
            route.pattern = match->path.view();
            route.handler = &package.factory;
            route.options.role = role_of(match->access);
            // aisos.cfg anonymous_inference=true opens user routes to everyone.
            if (route.options.role == Role::User && boot_settings().anonymous_inference)
                route.options.role = Role::Public;
            route.options.body_limit = AISOS_REQUEST_BODY_MAX;
            return http::RouteMatch::Kind::Found;
        }
        return http::RouteMatch::Kind::NotFound;
    }
};

ModuleRouteResolver s_resolver;

} // namespace

ErrorOr<http::HttpHandler*> ModuleRouteFactory::create(Allocator& allocator, const HttpRequest&)
{
    return TRY(allocator.create<ModuleHandler>(allocator, *package));
}

ErrorOr<http::WebSocketSession*> ModuleWebSocketFactory::create(Allocator& allocator, const HttpRequest& request)
{
    // The request's views die with this call: the OPEN request copies them.
    ModuleRequest* connection = TRY(ModuleRequest::create({}));
    aisos_request& info = connection->info;
    info.kind = AISOS_REQUEST_WEBSOCKET_OPEN;
    info.method = abi_method(request.method);
    info.role = abi_role(request.identity);
    info.target_length = copy_text(info.target, request.target);
    info.user_length = copy_text(info.user, request.identity.user_name());
    auto scratch = allocator.allocate(ModuleRequest::ring_capacity, 16);
    if (scratch.is_error()) {
        connection->release();
        connection->release();
        return scratch.error();
    }
    auto session = allocator.create<ModuleWebSocketSession>(allocator, *package, *connection, static_cast<uint8_t*>(scratch.value()));
    if (session.is_error()) {
        allocator.free(scratch.value());
        connection->release();
        connection->release();
        return session.error();
    }
    return session.value();
}

http::RouteResolver& module_route_resolver() { return s_resolver; }

} // namespace aisos::pkg
