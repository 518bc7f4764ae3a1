#include "lib/net/http/Router.h"
#include "lib/net/http/HttpSyntax.h"

namespace aisos::http {

static bool valid_pattern(std::string_view pattern)
{
    if (pattern.empty() || pattern.front() != '/')
        return false;
    size_t position = 1;
    size_t parameters = 0;
    while (position <= pattern.size()) {
        size_t slash = pattern.find('/', position);
        size_t end = slash == std::string_view::npos ? pattern.size() : slash;
        auto segment = pattern.substr(position, end - position);
        if (!segment.empty() && (segment.front() == ':' || segment.front() == '*')) {
            if (segment.size() < 2 || ++parameters > HttpRequest::max_route_parameters)
                return false;
            if (segment.front() == '*' && slash != std::string_view::npos)
                return false; // a wildcard must be last
        }
        if (slash == std::string_view::npos)
            break;
        position = slash + 1;
    }
    return true;
}

ErrorOr<void> Router::add_route(const Route& route)
{
    if (!valid_pattern(route.pattern))
        return Error::invalid("invalid route pattern");
    if (m_count == max_routes)
        return Error { ErrorCode::Overflow, "too many routes" };
    m_routes[m_count++] = route;
    return {};
}

ErrorOr<void> Router::add(HttpMethod method, std::string_view pattern, HttpHandlerFactory& factory, RouteOptions options)
{
    Route route { method, pattern, &factory, nullptr, options };
    return add_route(route);
}

ErrorOr<void> Router::add_websocket(std::string_view pattern, WebSocketFactory& factory, RouteOptions options)
{
    Route route { HttpMethod::Get, pattern, nullptr, &factory, options };
    return add_route(route);
}

bool Router::match_pattern(std::string_view pattern, std::string_view path, HttpRequest* request)
{
    size_t p = 0; // in pattern
    size_t s = 0; // in path
    size_t parameters = 0;
    while (true) {
        if (p == pattern.size() || s == path.size()) {
            // A trailing "*name" also matches an empty rest ("/fs/" and "/fs").
            if (p < pattern.size() && s == path.size()) {
                auto rest = pattern.substr(p);
                if (rest.size() >= 2 && rest.front() == '*') {
                    if (request)
                        request->parameters[parameters++] = { rest.substr(1), {} };
                    break;
                }
                if (rest.size() >= 3 && rest.substr(0, 2) == "/*") {
                    if (request)
                        request->parameters[parameters++] = { rest.substr(2), {} };
                    break;
                }
                return false;
            }
            if (p == pattern.size() && s == path.size())
                break;
            return false;
        }
        char c = pattern[p];
        if (c == ':' && pattern[p - 1] == '/') {
            size_t name_end = pattern.find('/', p);
            if (name_end == std::string_view::npos)
                name_end = pattern.size();
            size_t value_end = path.find('/', s);
            if (value_end == std::string_view::npos)
                value_end = path.size();
            if (value_end == s)
                return false; // a parameter is never empty
            if (request)
                request->parameters[parameters++] = { pattern.substr(p + 1, name_end - p - 1), path.substr(s, value_end - s) };
            p = name_end;
            s = value_end;
            continue;
        }
        if (c == '*' && pattern[p - 1] == '/') {
            if (request)
                request->parameters[parameters++] = { pattern.substr(p + 1), path.substr(s) };
            s = path.size();
            p = pattern.size();
            break;
        }
        if (c != path[s])
            return false;
        ++p;
        ++s;
    }
    if (request)
        request->parameter_count = parameters;
    return true;
}

RouteMatch Router::match(HttpRequest& request) const
{
    RouteMatch result;
    const Route* head_fallback = nullptr;
    for (size_t i = 0; i < m_count; ++i) {
        const auto& route = m_routes[i];
        if (!match_pattern(route.pattern, request.path, nullptr))
            continue;
        result.allowed_methods |= uint8_t(1u << unsigned(route.method));
        if (route.method == HttpMethod::Get)
            result.allowed_methods |= uint8_t(1u << unsigned(HttpMethod::Head));
        if (route.method == request.method && !result.route)
            result.route = &route;
        if (request.method == HttpMethod::Head && route.method == HttpMethod::Get && !head_fallback)
            head_fallback = &route;
    }
    if (!result.route)
        result.route = head_fallback;
    if (result.route) {
        result.kind = RouteMatch::Kind::Found;
        match_pattern(result.route->pattern, request.path, &request);
    } else if (result.allowed_methods) {
        result.kind = RouteMatch::Kind::MethodNotAllowed;
    } else if (m_resolver) {
        uint8_t allowed = 0;
        result.kind = m_resolver->resolve(request, m_resolved, allowed);
        result.allowed_methods = allowed;
        result.route = result.kind == RouteMatch::Kind::Found ? &m_resolved : nullptr;
    }
    return result;
}

std::string_view Router::format_allow(uint8_t allowed_methods, char (&buffer)[64])
{
    size_t length = 0;
    for (size_t i = 0; i < http_method_count; ++i) {
        if (!(allowed_methods & (1u << i)))
            continue;
        auto name = http_method_name(static_cast<HttpMethod>(i));
        if (length > 0) {
            buffer[length++] = ',';
            buffer[length++] = ' ';
        }
        __builtin_memcpy(buffer + length, name.data(), name.size());
        length += name.size();
    }
    return { buffer, length };
}

} // namespace aisos::http
