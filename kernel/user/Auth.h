#pragma once

// Users and sessions in the kernel: lib/auth's AuthService wired to the
// kernel's wall clock, hardware entropy, and worker CPUs for password
// hashing, with its state in /fs/system when a disk is present.

#include "lib/config/Config.h"
#include "lib/net/http/Authenticator.h"
#include "lib/net/http/Router.h"

namespace aisos::user {

// Creates the service, the first admin, and the /auth, /users and
// /sys/audit routes. Prints a generated admin password once on the console.
ErrorOr<http::Authenticator*> start(http::Router&, const config::Config&);
// From the network loop: saves the audit log every few seconds when it changed.
void poll(uint64_t now_ns);
// Before reboot or power off.
void flush();

} // namespace aisos::user
