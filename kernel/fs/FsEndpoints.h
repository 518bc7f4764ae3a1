#pragma once

// PUT, GET, HEAD and DELETE /fs/<path> (../shared/API.md §Files).

#include "lib/net/http/Router.h"

namespace aisos::storage {

ErrorOr<void> register_endpoints(http::Router&);

} // namespace aisos::storage
