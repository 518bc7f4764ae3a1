#pragma once

// One installed module, as kept by PackageManager.cpp and read by
// ModuleRoutes.cpp (network core only, except `exited`, which the process
// exit callback sets from a scheduler CPU).

#include "kernel/pkg/ModuleService.h"
#include "kernel/proc/Process.h"
#include "lib/net/http/HttpHandler.h"
#include "lib/net/http/WebSocket.h"
#include "lib/rpk/Manifest.h"

#include <atomic>
#include <span>
#include <stdint.h>

namespace aisos::pkg {

enum class PackageState : uint8_t { Running, Stopped, Crashed };

struct Package;

// Creates the HTTP handler that forwards a request to this package's module.
class ModuleRouteFactory final : public http::HttpHandlerFactory {
public:
    ErrorOr<http::HttpHandler*> create(Allocator&, const http::HttpRequest&) override;
    Package* package { nullptr };
};

// Creates the session that carries a WebSocket to this package's module.
class ModuleWebSocketFactory final : public http::WebSocketFactory {
public:
    ErrorOr<http::WebSocketSession*> create(Allocator&, const http::HttpRequest&) override;
    Package* package { nullptr };
};

struct Package {
    bool used { false };
    rpk::Manifest* manifest { nullptr }; // heap
    uint8_t* image { nullptr };          // the whole .rpk (heap), kept for restarts
    size_t image_size { 0 };
    std::span<const uint8_t> elf;        // inside image

    PackageState state { PackageState::Stopped };
    uint32_t restarts { 0 };
    uint64_t backoff_ns { 0 };
    uint64_t next_start_ns { 0 };
    uint64_t started_at_ns { 0 };
    proc::Process* process { nullptr };
    ModuleService* service { nullptr };
    std::atomic<bool> exited { false };
    bool removing { false };
    bool restart_requested { false }; // POST /pkg/<name>/restart: start again at once
    // An installed newer version waiting for the old process to end.
    rpk::Manifest* pending_manifest { nullptr };
    uint8_t* pending_image { nullptr };
    size_t pending_image_size { 0 };
    std::span<const uint8_t> pending_elf;

    ModuleRouteFactory factory;
    ModuleWebSocketFactory websocket_factory;

    std::string_view name() const { return manifest->name.view(); }
};

// The registry (PackageManager.cpp).
std::span<Package> packages();

} // namespace aisos::pkg
