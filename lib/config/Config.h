#pragma once

// aisos.cfg: one `key = value` per line, '#' starts a comment line,
// whitespace around keys and values is trimmed, CRLF line ends are fine.
// A '#' after a value is part of the value (passwords may contain one).
//
// Parsing never fails as a whole: an unknown key or a duplicate is a
// warning, a bad value is an error that keeps the key's safe default, and
// every such problem goes to the reporter (the kernel logs it). Lines longer
// than max_line_length or holding control characters or invalid UTF-8 are
// rejected whole; a file above max_file_size is ignored entirely.
//
// Known keys: ip (dhcp | a.b.c.d/prefix), gw, dns, hostname (RFC 1123
// label), admin_password, admin_password_hash, default_model, net_cores
// (1..cpu_count), log_level (error|warn|info|debug|trace),
// anonymous_inference (true|false), debug_fault (none|page_fault),
// debug_endpoints (true|false: the /debug/* test endpoints, off by default),
// nvme_discard (auto|deallocate|write_zeroes|off: how freed blocks are handed
// back to the disk; auto = Dataset Management deallocate when the controller
// has it, else Write Zeroes with deallocate, else nothing), nvme_completion
// (poll|msix: poll completion queues, the default, or sleep until an MSI-X
// interrupt).

#include "lib/base/FixedString.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::config {

inline constexpr size_t max_file_size = 64 * 1024;
inline constexpr size_t max_line_length = 512;

using aisos::FixedString;

struct Ipv4Address {
    uint8_t octets[4] {};

    constexpr uint32_t value() const { return (uint32_t(octets[0]) << 24) | (uint32_t(octets[1]) << 16) | (uint32_t(octets[2]) << 8) | octets[3]; }
    constexpr bool operator==(Ipv4Address const&) const = default;
};

enum class AddressMode : uint8_t { Dhcp, Static };
enum class LogLevel : uint8_t { Error, Warn, Info, Debug, Trace };
enum class DebugFault : uint8_t {
    None,
    PageFault, // fault on purpose after boot (tests the panic report)
};

enum class NvmeDiscard : uint8_t { Auto, Deallocate, WriteZeroes, Off };
enum class NvmeCompletion : uint8_t { Poll, Msix };

struct Config {
    AddressMode address_mode { AddressMode::Dhcp };
    Ipv4Address address {};      // Static only
    uint8_t prefix_length { 0 }; // Static only
    bool has_gateway { false };
    Ipv4Address gateway {};
    bool has_dns { false };
    Ipv4Address dns {};
    FixedString<63> hostname;
    FixedString<128> admin_password;
    FixedString<255> admin_password_hash;
    FixedString<255> default_model;
    uint32_t net_cores { 1 };
    LogLevel log_level { LogLevel::Info };
    bool anonymous_inference { false };
    bool debug_endpoints { false };
    DebugFault debug_fault { DebugFault::None };
    NvmeDiscard nvme_discard { NvmeDiscard::Auto };
    NvmeCompletion nvme_completion { NvmeCompletion::Poll };

    Config() { hostname.assign("aisos"); }
};

enum class Severity : uint8_t { Warning, Error };

class ConfigReporter {
public:
    // `line` is 1-based, 0 for problems with the whole file. The message
    // never contains a password.
    virtual void report(Severity, uint32_t line, std::string_view message) = 0;

protected:
    ~ConfigReporter() = default;
};

// `cpu_count` bounds net_cores.
Config parse_config(std::span<const uint8_t> file, uint32_t cpu_count, ConfigReporter&);

// Helpers, exposed for tests and for other parsers of the same formats.
bool parse_ipv4(std::string_view, Ipv4Address&);
bool is_valid_hostname_label(std::string_view);
bool is_valid_utf8(std::string_view);
const char* log_level_name(LogLevel);

} // namespace aisos::config
