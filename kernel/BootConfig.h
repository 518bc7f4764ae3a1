#pragma once

// aisos.cfg as the kernel uses it: parsed by lib/config, warnings and errors
// logged, safe defaults for anything missing or bad.

#include "kernel/DebugFault.h"
#include "kernel/console/Log.h"
#include "lib/config/Config.h"

#include <span>
#include <stdint.h>

namespace aisos {

struct BootConfig {
    log::Level log_level { log::Level::Info };
    DebugFault debug_fault { DebugFault::None };
    config::Config settings; // everything aisos.cfg said (defaults where it was silent or wrong)
};

BootConfig load_boot_config(std::span<const uint8_t> file);

// The configuration the kernel booted with (after load_boot_config).
const config::Config& boot_settings();

} // namespace aisos
