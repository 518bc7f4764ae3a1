#include "kernel/BootConfig.h"

#include "kernel/cpu/Smp.h"
#include "lib/config/Config.h"

namespace aisos {

namespace {

class LogReporter final : public config::ConfigReporter {
public:
    void report(config::Severity severity, uint32_t line, std::string_view message) override
    {
        if (severity == config::Severity::Error)
            log::error("aisos.cfg line {}: {}", line, message);
        else
            log::warn("aisos.cfg line {}: {}", line, message);
    }
};

log::Level to_log_level(config::LogLevel level)
{
    switch (level) {
    case config::LogLevel::Error: return log::Level::Error;
    case config::LogLevel::Warn: return log::Level::Warn;
    case config::LogLevel::Info: return log::Level::Info;
    case config::LogLevel::Debug: return log::Level::Debug;
    case config::LogLevel::Trace: return log::Level::Trace;
    }
    return log::Level::Info;
}

config::Config s_settings;

} // namespace

const config::Config& boot_settings() { return s_settings; }

BootConfig load_boot_config(std::span<const uint8_t> file)
{
    BootConfig boot_config;
    if (file.empty()) {
        log::info("config: no aisos.cfg, using defaults");
        s_settings = boot_config.settings;
        return boot_config;
    }
    LogReporter reporter;
    // CPUs are not counted yet: net_cores is checked against the real count
    // when the network core is chosen.
    config::Config parsed = config::parse_config(file, smp::max_cpus, reporter);
    boot_config.settings = parsed;
    s_settings = parsed;
    boot_config.log_level = to_log_level(parsed.log_level);
    boot_config.debug_fault = parsed.debug_fault == config::DebugFault::PageFault ? DebugFault::PageFault : DebugFault::None;
    log::info("config: hostname {}, ip {}, log level {}", parsed.hostname.view(),
        parsed.address_mode == config::AddressMode::Dhcp ? "dhcp" : "static", config::log_level_name(parsed.log_level));
    return boot_config;
}

} // namespace aisos
