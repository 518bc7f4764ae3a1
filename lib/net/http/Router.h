#pragma once

// Method + path routing. Patterns are literal segments, ":name" (one
// segment) and a final "*name" (the rest of the path, possibly empty):
//
//   router.add(HttpMethod::Get, "/users/:name", users_get, { .role = Role::Admin });
//   router.add(HttpMethod::Put, "/fs/*path", fs_put, { .role = Role::Admin, .body_limit = unlimited_body });
//
// Pattern strings and factories are referenced, not copied: they must
// outlive the router (string literals and long-lived objects). Routes are
// tried in the order added. A path that matches no pattern is 404; one that
// matches only under other methods is 405 with Allow. HEAD falls back to the
// GET route. Each route needs a role, default Admin (fails closed).

#include "lib/base/ErrorOr.h"
#include "lib/net/http/Authenticator.h"
#include "lib/net/http/HttpMethod.h"
#include "lib/net/http/HttpRequest.h"

#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::http {

class HttpHandlerFactory;
class WebSocketFactory;

inline constexpr uint64_t unlimited_body = ~uint64_t(0);
inline constexpr uint64_t default_body_limit = 0; // use HttpLimits::default_body_limit

struct RouteOptions {
    Role role { Role::Admin };
    uint64_t body_limit { default_body_limit };
};

struct Route {
    HttpMethod method;
    std::string_view pattern;
    HttpHandlerFactory* handler { nullptr };
    WebSocketFactory* websocket { nullptr };
    RouteOptions options;
};

struct RouteMatch {
    enum class Kind : uint8_t { Found, NotFound, MethodNotAllowed } kind { Kind::NotFound };
    const Route* route { nullptr };
    uint8_t allowed_methods { 0 }; // bit per HttpMethod, for Allow
};

// Routes that come and go at run time (module routes from installed
// packages): asked only for paths no static route matches. On Found it
// fills `route` (its factory must stay alive while the request runs).
class RouteResolver {
public:
    virtual RouteMatch::Kind resolve(const HttpRequest&, Route& route, uint8_t& allowed_methods) = 0;

protected:
    ~RouteResolver() = default;
};

class Router {
public:
    static constexpr size_t max_routes = 128;

    ErrorOr<void> add(HttpMethod, std::string_view pattern, HttpHandlerFactory&, RouteOptions = {});
    // A WebSocket endpoint (GET with Upgrade: websocket).
    ErrorOr<void> add_websocket(std::string_view pattern, WebSocketFactory&, RouteOptions = {});

    // Matches request.method and request.path; on Found fills request.parameters.
    // A resolved (dynamic) route is kept in the router until the next match:
    // use the result before matching again.
    RouteMatch match(HttpRequest&) const;

    void set_resolver(RouteResolver* resolver) { m_resolver = resolver; }

    // "GET, HEAD, POST" for an Allow field.
    static std::string_view format_allow(uint8_t allowed_methods, char (&buffer)[64]);

private:
    ErrorOr<void> add_route(const Route&);
    static bool match_pattern(std::string_view pattern, std::string_view path, HttpRequest* request);

    Route m_routes[max_routes];
    size_t m_count { 0 };
    RouteResolver* m_resolver { nullptr };
    mutable Route m_resolved;
};

} // namespace aisos::http
