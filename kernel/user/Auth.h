#pragma once

// Users and sessions in the kernel: lib/auth's AuthService wired to the
// kernel's wall clock, hardware entropy, and worker CPUs for password
// hashing. Until the file system lands, users live in memory only (they are
// lost at reboot; the admin comes back from aisos.cfg or a new generated
// password).

#include "lib/config/Config.h"
#include "lib/net/http/Authenticator.h"
#include "lib/net/http/Router.h"

namespace aisos::user {

// Creates the service, the first admin, and the /auth, /users and
// /sys/audit routes. Prints a generated admin password once on the console.
ErrorOr<http::Authenticator*> start(http::Router&, const config::Config&);

} // namespace aisos::user
