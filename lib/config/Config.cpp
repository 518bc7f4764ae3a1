#include "lib/config/Config.h"
#include "lib/base/Format.h"

namespace aisos::config {

namespace {

constexpr bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text)
{
    while (!text.empty() && is_space(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_space(text.back()))
        text.remove_suffix(1);
    return text;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignoring_case(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

bool parse_decimal(std::string_view text, uint32_t max, uint32_t& out)
{
    if (text.empty() || text.size() > 10)
        return false;
    if (text.size() > 1 && text[0] == '0')
        return false; // no leading zeros (010 would read as octal elsewhere)
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + uint64_t(c - '0');
    }
    if (value > max)
        return false;
    out = static_cast<uint32_t>(value);
    return true;
}

bool has_control_characters(std::string_view line)
{
    for (char c : line) {
        auto byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && c != '\t') || byte == 0x7f)
            return true;
    }
    return false;
}

// Visible ASCII without spaces (hashes, e.g. "$argon2id$v=19$...").
bool is_printable_token(std::string_view text)
{
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f)
            return false;
    }
    return true;
}

// A copy of `text` that is safe to put in a log line: at most 64 bytes, cut
// on a UTF-8 boundary, tabs (the only control character a line may hold)
// shown as spaces.
struct Echo {
    char buffer[65];
    size_t length { 0 };

    explicit Echo(std::string_view text)
    {
        size_t count = text.size() < 64 ? text.size() : 64;
        if (count < text.size()) {
            while (count > 0 && (static_cast<unsigned char>(text[count]) & 0xc0) == 0x80)
                --count; // do not split a multi-byte character
        }
        for (size_t i = 0; i < count; ++i)
            buffer[i] = static_cast<unsigned char>(text[i]) < 0x20 ? ' ' : text[i];
        length = count;
        buffer[length] = 0;
    }
    std::string_view view() const { return { buffer, length }; }
};

enum class Key : uint8_t {
    Ip,
    Gateway,
    Dns,
    Hostname,
    AdminPassword,
    AdminPasswordHash,
    DefaultModel,
    NetCores,
    LogLevelKey,
    AnonymousInference,
    DebugFaultKey,
    DebugEndpoints,
    NvmeDiscardKey,
    NvmeCompletionKey,
    Count,
};

struct KeyInfo {
    std::string_view name;
    Key key;
    bool secret; // never echo the value
};

constexpr KeyInfo s_keys[] = {
    { "ip", Key::Ip, false },
    { "gw", Key::Gateway, false },
    { "dns", Key::Dns, false },
    { "hostname", Key::Hostname, false },
    { "admin_password", Key::AdminPassword, true },
    { "admin_password_hash", Key::AdminPasswordHash, true },
    { "default_model", Key::DefaultModel, false },
    { "net_cores", Key::NetCores, false },
    { "log_level", Key::LogLevelKey, false },
    { "anonymous_inference", Key::AnonymousInference, false },
    { "debug_fault", Key::DebugFaultKey, false },
    { "debug_endpoints", Key::DebugEndpoints, false },
    { "nvme_discard", Key::NvmeDiscardKey, false },
    { "nvme_completion", Key::NvmeCompletionKey, false },
};

class Parser {
public:
    Parser(uint32_t cpu_count, ConfigReporter& reporter)
        : m_cpu_count(cpu_count == 0 ? 1 : cpu_count)
        , m_reporter(reporter)
    {
    }

    template<typename... Args>
    void report(Severity severity, std::string_view format_string, const Args&... args)
    {
        char buffer[256];
        m_reporter.report(severity, m_line, format_to(buffer, sizeof(buffer), format_string, args...));
    }

    void parse(std::span<const uint8_t> file)
    {
        std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
        if (text.size() > max_file_size) {
            m_line = 0;
            report(Severity::Error, "aisos.cfg is {} bytes, above the {} byte limit: ignored, using defaults", text.size(), max_file_size);
            return;
        }
        if (text.substr(0, 3) == "\xef\xbb\xbf")
            text.remove_prefix(3); // UTF-8 byte order mark
        while (!text.empty()) {
            ++m_line;
            size_t end = text.find('\n');
            std::string_view line = text.substr(0, end);
            text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
            if (!line.empty() && line.back() == '\r')
                line.remove_suffix(1);
            parse_line(line);
        }
        cross_check();
    }

    Config const& config() const { return m_config; }

private:
    void parse_line(std::string_view line)
    {
        if (line.size() > max_line_length) {
            report(Severity::Error, "line is {} bytes, above the {} byte limit: ignored", line.size(), max_line_length);
            return;
        }
        if (has_control_characters(line)) {
            report(Severity::Error, "line contains control characters: ignored");
            return;
        }
        if (!is_valid_utf8(line)) {
            report(Severity::Error, "line is not valid UTF-8: ignored");
            return;
        }
        std::string_view content = trim(line);
        if (content.empty() || content.front() == '#')
            return;
        size_t equals = content.find('=');
        if (equals == std::string_view::npos) {
            report(Severity::Error, "expected key=value, found no '=': ignored");
            return;
        }
        std::string_view key = trim(content.substr(0, equals));
        std::string_view value = trim(content.substr(equals + 1));
        if (key.empty()) {
            report(Severity::Error, "line has a value but no key: ignored");
            return;
        }
        const KeyInfo* info = nullptr;
        for (auto const& candidate : s_keys) {
            if (candidate.name == key)
                info = &candidate;
        }
        if (!info) {
            report(Severity::Warning, "unknown key '{}': ignored", Echo(key).view());
            return;
        }
        auto index = static_cast<size_t>(info->key);
        if (m_seen_line[index] != 0)
            report(Severity::Warning, "{} is set again (first on line {}); the last value wins", key, m_seen_line[index]);
        m_seen_line[index] = m_line;
        apply(*info, value);
    }

    void invalid(KeyInfo const& info, std::string_view value, std::string_view expected, std::string_view fallback)
    {
        if (info.secret)
            report(Severity::Error, "{}: invalid value ({}); {}", info.name, expected, fallback);
        else
            report(Severity::Error, "{}: invalid value '{}' (expected {}); {}", info.name, Echo(value).view(), expected, fallback);
    }

    void apply(KeyInfo const& info, std::string_view value)
    {
        Config defaults;
        switch (info.key) {
        case Key::Ip: {
            if (equals_ignoring_case(value, "dhcp")) {
                m_config.address_mode = AddressMode::Dhcp;
                return;
            }
            Ipv4Address address;
            uint32_t prefix = 0;
            size_t slash = value.find('/');
            if (slash == std::string_view::npos || !parse_ipv4(value.substr(0, slash), address) || !parse_decimal(value.substr(slash + 1), 32, prefix) || prefix == 0) {
                invalid(info, value, "'dhcp' or a.b.c.d/prefix with prefix 1..32", "using dhcp");
                m_config.address_mode = AddressMode::Dhcp;
                return;
            }
            uint32_t ip = address.value();
            uint32_t host_mask = prefix == 32 ? 0 : (0xffffffffu >> prefix);
            bool network_or_broadcast = prefix <= 30 && ((ip & host_mask) == 0 || (ip & host_mask) == host_mask);
            if (ip == 0 || address.octets[0] == 127 || address.octets[0] >= 224 || network_or_broadcast) {
                invalid(info, value, "a unicast host address, not a network, broadcast, loopback or multicast address", "using dhcp");
                m_config.address_mode = AddressMode::Dhcp;
                return;
            }
            m_config.address_mode = AddressMode::Static;
            m_config.address = address;
            m_config.prefix_length = static_cast<uint8_t>(prefix);
            return;
        }
        case Key::Gateway:
        case Key::Dns: {
            Ipv4Address address;
            bool ok = parse_ipv4(value, address) && address.value() != 0 && address.octets[0] < 224;
            bool& present = info.key == Key::Gateway ? m_config.has_gateway : m_config.has_dns;
            Ipv4Address& field = info.key == Key::Gateway ? m_config.gateway : m_config.dns;
            if (!ok) {
                invalid(info, value, "a unicast IPv4 address a.b.c.d", "left unset");
                present = false;
                return;
            }
            present = true;
            field = address;
            return;
        }
        case Key::Hostname:
            if (!is_valid_hostname_label(value)) {
                invalid(info, value, "1-63 letters, digits or '-', not starting or ending with '-'", "using 'aisos'");
                m_config.hostname = defaults.hostname;
                return;
            }
            m_config.hostname.assign(value);
            return;
        case Key::AdminPassword:
            if (value.empty() || !m_config.admin_password.assign(value)) {
                invalid(info, value, "1 to 128 bytes", "no admin password set from aisos.cfg");
                m_config.admin_password = defaults.admin_password;
                return;
            }
            if (value.size() < 8)
                report(Severity::Warning, "admin_password is shorter than 8 characters");
            return;
        case Key::AdminPasswordHash:
            if (value.empty() || !is_printable_token(value) || !m_config.admin_password_hash.assign(value)) {
                invalid(info, value, "1 to 255 visible ASCII characters", "no admin password hash set from aisos.cfg");
                m_config.admin_password_hash = defaults.admin_password_hash;
            }
            return;
        case Key::DefaultModel:
            if (value.empty() || !m_config.default_model.assign(value)) {
                invalid(info, value, "a model name of 1 to 255 bytes", "no default model");
                m_config.default_model = defaults.default_model;
            }
            return;
        case Key::NetCores: {
            uint32_t cores = 0;
            if (!parse_decimal(value, m_cpu_count, cores) || cores == 0) {
                char expected[48];
                invalid(info, value, format_to(expected, sizeof(expected), "a whole number from 1 to {}", m_cpu_count), "using 1");
                m_config.net_cores = 1;
                return;
            }
            m_config.net_cores = cores;
            return;
        }
        case Key::LogLevelKey: {
            constexpr std::string_view names[] = { "error", "warn", "info", "debug", "trace" };
            for (size_t i = 0; i < 5; ++i) {
                if (equals_ignoring_case(value, names[i])) {
                    m_config.log_level = static_cast<LogLevel>(i);
                    return;
                }
            }
            invalid(info, value, "error, warn, info, debug or trace", "using info");
            m_config.log_level = LogLevel::Info;
            return;
        }
        case Key::AnonymousInference:
            m_config.anonymous_inference = parse_boolean(info, value);
            return;
        case Key::DebugEndpoints:
            m_config.debug_endpoints = parse_boolean(info, value);
            return;
        case Key::DebugFaultKey:
            if (equals_ignoring_case(value, "none")) {
                m_config.debug_fault = DebugFault::None;
            } else if (equals_ignoring_case(value, "page_fault")) {
                m_config.debug_fault = DebugFault::PageFault;
            } else {
                invalid(info, value, "none or page_fault", "using none");
                m_config.debug_fault = DebugFault::None;
            }
            return;
        case Key::NvmeDiscardKey: {
            constexpr std::string_view names[] = { "auto", "deallocate", "write_zeroes", "off" };
            for (size_t i = 0; i < 4; ++i) {
                if (equals_ignoring_case(value, names[i])) {
                    m_config.nvme_discard = static_cast<NvmeDiscard>(i);
                    return;
                }
            }
            invalid(info, value, "auto, deallocate, write_zeroes or off", "using auto");
            m_config.nvme_discard = NvmeDiscard::Auto;
            return;
        }
        case Key::NvmeCompletionKey:
            if (equals_ignoring_case(value, "poll")) {
                m_config.nvme_completion = NvmeCompletion::Poll;
            } else if (equals_ignoring_case(value, "msix")) {
                m_config.nvme_completion = NvmeCompletion::Msix;
            } else {
                invalid(info, value, "poll or msix", "using poll");
                m_config.nvme_completion = NvmeCompletion::Poll;
            }
            return;
        case Key::Count:
            return;
        }
    }

    // true | false (any case); anything else is an error and means false.
    bool parse_boolean(const KeyInfo& info, std::string_view value)
    {
        if (equals_ignoring_case(value, "true"))
            return true;
        if (!equals_ignoring_case(value, "false"))
            invalid(info, value, "true or false", "using false");
        return false;
    }

    void cross_check()
    {
        m_line = 0;
        if (m_config.address_mode == AddressMode::Dhcp && m_config.has_gateway)
            report(Severity::Warning, "gw is ignored with ip=dhcp (DHCP provides the router)");
        if (m_config.address_mode == AddressMode::Static && m_config.has_gateway) {
            uint32_t mask = m_config.prefix_length == 0 ? 0 : 0xffffffffu << (32 - m_config.prefix_length);
            if ((m_config.gateway.value() & mask) != (m_config.address.value() & mask))
                report(Severity::Warning, "gw is outside the ip's subnet");
        }
        if (!m_config.admin_password.empty() && !m_config.admin_password_hash.empty())
            report(Severity::Warning, "both admin_password and admin_password_hash are set");
    }

    uint32_t m_cpu_count;
    ConfigReporter& m_reporter;
    Config m_config;
    uint32_t m_line { 0 };
    uint32_t m_seen_line[static_cast<size_t>(Key::Count)] {};
};

} // namespace

bool parse_ipv4(std::string_view text, Ipv4Address& out)
{
    Ipv4Address address;
    for (int part = 0; part < 4; ++part) {
        size_t dot = text.find('.');
        std::string_view digits = part < 3 ? text.substr(0, dot) : text;
        if (part < 3 && dot == std::string_view::npos)
            return false;
        uint32_t value = 0;
        if (!parse_decimal(digits, 255, value))
            return false;
        address.octets[part] = static_cast<uint8_t>(value);
        if (part < 3)
            text.remove_prefix(dot + 1);
    }
    out = address;
    return true;
}

bool is_valid_hostname_label(std::string_view label)
{
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
        return false;
    for (char c : label) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

bool is_valid_utf8(std::string_view text)
{
    size_t i = 0;
    while (i < text.size()) {
        auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x80) {
            ++i;
            continue;
        }
        size_t length;
        uint32_t code_point;
        if ((byte & 0xe0) == 0xc0) {
            length = 2;
            code_point = byte & 0x1f;
        } else if ((byte & 0xf0) == 0xe0) {
            length = 3;
            code_point = byte & 0x0f;
        } else if ((byte & 0xf8) == 0xf0) {
            length = 4;
            code_point = byte & 0x07;
        } else {
            return false;
        }
        if (text.size() - i < length)
            return false;
        for (size_t k = 1; k < length; ++k) {
            auto continuation = static_cast<unsigned char>(text[i + k]);
            if ((continuation & 0xc0) != 0x80)
                return false;
            code_point = (code_point << 6) | (continuation & 0x3f);
        }
        constexpr uint32_t minimum[] = { 0, 0, 0x80, 0x800, 0x10000 };
        if (code_point < minimum[length] || code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff))
            return false; // overlong, out of range, or a UTF-16 surrogate
        i += length;
    }
    return true;
}

const char* log_level_name(LogLevel level)
{
    switch (level) {
    case LogLevel::Error: return "error";
    case LogLevel::Warn: return "warn";
    case LogLevel::Info: return "info";
    case LogLevel::Debug: return "debug";
    case LogLevel::Trace: return "trace";
    }
    return "info";
}

Config parse_config(std::span<const uint8_t> file, uint32_t cpu_count, ConfigReporter& reporter)
{
    Parser parser(cpu_count, reporter);
    parser.parse(file);
    return parser.config();
}

} // namespace aisos::config
