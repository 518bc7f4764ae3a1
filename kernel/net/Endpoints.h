#pragma once

// The kernel's HTTP endpoints (../shared/API.md): the chat page, health,
// metrics, system information, and, when aisos.cfg says debug_endpoints=true,
// test endpoints used by the network integration tests.

#include "lib/config/Config.h"
#include "lib/net/http/Router.h"

namespace aisos::network_core {

ErrorOr<void> register_endpoints(http::Router&, const config::Config&);

} // namespace aisos::network_core
