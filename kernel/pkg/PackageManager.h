#pragma once

// Installed modules (.rpk): verification, persistence under
// /fs/system/pkg/<name>.rpk, start at boot, and the supervisor that
// restarts a crashed module with exponential backoff (1 s, 2 s, 4 s, ...
// up to 60 s; back to 1 s after a minute of running). Everything here runs
// on the network core (HTTP handlers and poll()), except the process exit
// callback, which only flags the package for poll() to handle.

#include "lib/base/ErrorOr.h"
#include "lib/base/Format.h"
#include "lib/net/http/Router.h"
#include "lib/rpk/Diagnostic.h"

#include <span>
#include <stdint.h>
#include <string_view>

namespace aisos::json {
class JsonWriter;
}

namespace aisos::pkg {

inline constexpr size_t max_packages = 16;
inline constexpr uint64_t max_package_size = 64ull << 20;

// Registers /pkg endpoints and module routes on the network core's router.
ErrorOr<void> start(http::Router&);
// Network core loop: loads installed packages once the scheduler runs,
// restarts crashed ones when their backoff has passed.
void poll(uint64_t now_ns);

struct InstallResult {
    char name[33];
    char version[33];
    const char* state;
    bool replaced;
};
// Verifies and installs (or replaces) a package. On failure `diagnostic`
// holds the reason for the client; nothing was changed.
ErrorOr<InstallResult> install(std::span<const uint8_t> package, rpk::Diagnostic& diagnostic);
ErrorOr<void> remove(std::string_view name);
// Ends the module's process (its requests get 503 or a cut connection) and
// starts it again at once; a stopped or crashed one starts now.
ErrorOr<void> restart(std::string_view name);
void write_list(json::JsonWriter&);
// GET /health: a module said it is loading (AISOS_SYS_SERVICE_STATUS).
bool any_module_loading();
// GET /metrics: per-module state and the lines modules published.
void write_metrics(FormatSink&);

} // namespace aisos::pkg
