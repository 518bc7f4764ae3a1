// POST /pkg/install, GET /pkg, DELETE /pkg/<name> (../shared/API.md), and
// POST /pkg/<name>/restart (an addition: restart a stuck module).

#include "kernel/pkg/PackageManager.h"
#include "lib/json/JsonWriter.h"
#include "lib/net/http/HttpHandler.h"

namespace aisos::pkg {

http::RouteResolver& module_route_resolver(); // ModuleRoutes.cpp

namespace {

using http::HttpMethod;
using http::HttpRequest;
using http::HttpResponse;
using http::Role;

void install_package(const HttpRequest&, std::span<const uint8_t> body, HttpResponse& response)
{
    rpk::Diagnostic diagnostic;
    auto installed = install(body, diagnostic);
    if (installed.is_error()) {
        std::string_view reason = diagnostic.empty() ? std::string_view(installed.error().reason()) : diagnostic.view();
        ErrorCode code = installed.error().code();
        uint16_t status = code == ErrorCode::Exists ? 409
            : code == ErrorCode::NoSpace               ? 507
            : code == ErrorCode::OutOfMemory           ? 503
            : code == ErrorCode::IoError               ? 500
                                                       : 400;
        response.send_error(status, reason);
        return;
    }
    json::JsonWriter json(response.body_buffer());
    json.begin_object();
    json.member("name", std::string_view(installed.value().name));
    json.member("version", std::string_view(installed.value().version));
    json.member("state", installed.value().state);
    json.end_object();
    response.send_buffer(installed.value().replaced ? 200 : 201, "application/json");
}

void list_packages(const HttpRequest&, std::span<const uint8_t>, HttpResponse& response)
{
    json::JsonWriter json(response.body_buffer());
    write_list(json);
    response.send_buffer(200, "application/json");
}

void remove_package(const HttpRequest& request, std::span<const uint8_t>, HttpResponse& response)
{
    auto removed = remove(request.parameter("name"));
    if (removed.is_error()) {
        response.send_error(removed.error().code() == ErrorCode::NotFound ? 404 : 500, removed.error().reason());
        return;
    }
    response.send_empty(204);
}

void restart_package(const HttpRequest& request, std::span<const uint8_t>, HttpResponse& response)
{
    auto restarted = restart(request.parameter("name"));
    if (restarted.is_error()) {
        response.send_error(restarted.error().code() == ErrorCode::NotFound ? 404 : 500, restarted.error().reason());
        return;
    }
    response.send(202, "application/json", R"({"state":"restarting"})");
}

http::SimpleRoute<decltype(&install_package)> s_install(&install_package);
http::SimpleRoute<decltype(&restart_package)> s_restart(&restart_package);
http::SimpleRoute<decltype(&list_packages)> s_list(&list_packages);
http::SimpleRoute<decltype(&remove_package)> s_remove(&remove_package);

} // namespace

ErrorOr<void> start(http::Router& router)
{
    TRY(router.add(HttpMethod::Post, "/pkg/install", s_install, { .role = Role::Admin, .body_limit = max_package_size }));
    TRY(router.add(HttpMethod::Get, "/pkg", s_list, { .role = Role::User }));
    TRY(router.add(HttpMethod::Delete, "/pkg/:name", s_remove, { .role = Role::Admin }));
    TRY(router.add(HttpMethod::Post, "/pkg/:name/restart", s_restart, { .role = Role::Admin }));
    router.set_resolver(&module_route_resolver());
    return {};
}

} // namespace aisos::pkg
