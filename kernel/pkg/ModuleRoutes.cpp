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

class ModuleRouteResolver final : public http::RouteResolver {
public:
    http::RouteMatch::Kind resolve(const HttpRequest& request, http::Route& route, uint8_t& allowed_methods) override
    {
        for (Package& package : packages()) {
            if (!package.used || package.removing)
                continue;
            const rpk::Route* match = package.manifest->match_route(request.path, false);
            if (!match)
                continue;
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

http::RouteResolver& module_route_resolver() { return s_resolver; }

} // namespace aisos::pkg
