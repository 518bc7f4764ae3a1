#include "lib/config/Config.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using namespace aisos::config;

namespace {

struct Report {
    Severity severity;
    uint32_t line;
    std::string message;
};

class Recorder final : public ConfigReporter {
public:
    void report(Severity severity, uint32_t line, std::string_view message) override { reports.push_back({ severity, line, std::string(message) }); }
    size_t count(Severity severity) const
    {
        size_t n = 0;
        for (auto& r : reports)
            n += r.severity == severity;
        return n;
    }
    std::string all() const
    {
        std::string text;
        for (auto& r : reports)
            text += std::to_string(r.line) + ": " + r.message + "\n";
        return text;
    }
    std::vector<Report> reports;
};

Config parse(std::string_view text, Recorder& recorder, uint32_t cpus = 4)
{
    return parse_config({ reinterpret_cast<const uint8_t*>(text.data()), text.size() }, cpus, recorder);
}

Ipv4Address ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return { { a, b, c, d } }; }

} // namespace

TEST(Config, DefaultsForAnEmptyFile)
{
    Recorder recorder;
    auto config = parse("", recorder);
    EXPECT_TRUE(recorder.reports.empty());
    EXPECT_EQ(config.address_mode, AddressMode::Dhcp);
    EXPECT_FALSE(config.has_gateway);
    EXPECT_EQ(config.hostname.view(), "aisos");
    EXPECT_TRUE(config.admin_password.empty());
    EXPECT_EQ(config.net_cores, 1u);
    EXPECT_EQ(config.log_level, LogLevel::Info);
    EXPECT_FALSE(config.anonymous_inference);
    EXPECT_EQ(config.debug_fault, DebugFault::None);
    EXPECT_EQ(config.nvme_discard, NvmeDiscard::Auto);
    EXPECT_EQ(config.nvme_completion, NvmeCompletion::Poll);
}

TEST(Config, ParsesEveryKnownKey)
{
    Recorder recorder;
    auto config = parse(
        "# aiSOS configuration\n"
        "ip = 10.0.2.15/24\n"
        "gw=10.0.2.2\r\n"
        "  dns\t=\t10.0.2.3  \n"
        "\n"
        "hostname=inference-01\n"
        "admin_password = correct horse # battery staple\n"
        "admin_password_hash=$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA\n"
        "default_model=llama-3.2-1b-instruct-q4_0.gguf\n"
        "net_cores=2\n"
        "log_level=DEBUG\n"
        "anonymous_inference=true\n"
        "debug_fault=page_fault\n"
        "debug_endpoints=true\n"
        "nvme_discard=Write_Zeroes\n"
        "nvme_completion=msix\n",
        recorder);
    // Only the cross-check warning for having both password forms.
    ASSERT_EQ(recorder.reports.size(), 1u) << recorder.all();
    EXPECT_EQ(recorder.reports[0].severity, Severity::Warning);
    EXPECT_EQ(config.address_mode, AddressMode::Static);
    EXPECT_EQ(config.address, ip(10, 0, 2, 15));
    EXPECT_EQ(config.prefix_length, 24);
    EXPECT_TRUE(config.has_gateway);
    EXPECT_EQ(config.gateway, ip(10, 0, 2, 2));
    EXPECT_EQ(config.dns, ip(10, 0, 2, 3));
    EXPECT_EQ(config.hostname.view(), "inference-01");
    EXPECT_EQ(config.admin_password.view(), "correct horse # battery staple");
    EXPECT_EQ(config.admin_password_hash.view(), "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA");
    EXPECT_EQ(config.default_model.view(), "llama-3.2-1b-instruct-q4_0.gguf");
    EXPECT_EQ(config.net_cores, 2u);
    EXPECT_EQ(config.log_level, LogLevel::Debug);
    EXPECT_TRUE(config.anonymous_inference);
    EXPECT_EQ(config.debug_fault, DebugFault::PageFault);
    EXPECT_TRUE(config.debug_endpoints);
    EXPECT_EQ(config.nvme_discard, NvmeDiscard::WriteZeroes);
    EXPECT_EQ(config.nvme_completion, NvmeCompletion::Msix);
}

TEST(Config, BadValuesGiveAnErrorAndTheSafeDefault)
{
    struct Case {
        const char* line;
        const char* mentions;
    };
    const Case cases[] = {
        { "ip=10.0.2.15", "ip" },          // no prefix
        { "ip=10.0.2.15/33", "ip" },
        { "ip=10.0.2.15/0", "ip" },
        { "ip=10.0.2/24", "ip" },
        { "ip=10.0.2.256/24", "ip" },
        { "ip=10.0.02.1/24", "ip" },       // leading zero
        { "ip=10.0.2.0/24", "network" },   // network address
        { "ip=10.0.2.255/24", "broadcast" },
        { "ip=127.0.0.1/8", "loopback" },
        { "ip=224.0.0.1/4", "multicast" },
        { "ip=dhcpx", "ip" },
        { "gw=10.0.2", "gw" },
        { "gw=0.0.0.0", "gw" },
        { "dns=1.1.1.1.1", "dns" },
        { "hostname=-bad", "hostname" },
        { "hostname=bad_name", "hostname" },
        { "hostname=a.b", "hostname" },
        { "hostname=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "hostname" }, // 64
        { "net_cores=0", "1 to 4" },
        { "net_cores=5", "1 to 4" },
        { "net_cores=two", "net_cores" },
        { "net_cores=99999999999", "net_cores" },
        { "log_level=verbose", "log_level" },
        { "anonymous_inference=yes", "anonymous_inference" },
        { "debug_endpoints=1", "debug_endpoints" },
        { "debug_fault=segfault", "debug_fault" },
        { "nvme_discard=trim", "nvme_discard" },
        { "nvme_completion=interrupts", "nvme_completion" },
        { "admin_password=", "admin_password" },
        { "admin_password_hash=has space", "admin_password_hash" },
        { "default_model=", "default_model" },
    };
    for (auto const& c : cases) {
        Recorder recorder;
        auto config = parse(c.line, recorder);
        ASSERT_EQ(recorder.count(Severity::Error), 1u) << c.line << "\n" << recorder.all();
        auto const& report = recorder.reports[0];
        EXPECT_EQ(report.line, 1u);
        EXPECT_NE(report.message.find(c.mentions), std::string::npos) << report.message;
        EXPECT_EQ(config.address_mode, AddressMode::Dhcp) << c.line;
        EXPECT_FALSE(config.has_gateway);
        EXPECT_FALSE(config.has_dns);
        EXPECT_EQ(config.hostname.view(), "aisos");
        EXPECT_EQ(config.net_cores, 1u);
        EXPECT_EQ(config.log_level, LogLevel::Info);
        EXPECT_FALSE(config.anonymous_inference);
        EXPECT_EQ(config.debug_fault, DebugFault::None);
        EXPECT_TRUE(config.admin_password.empty());
        EXPECT_TRUE(config.admin_password_hash.empty());
    }
    // A bad later value resets an earlier good one to the default.
    Recorder recorder;
    auto config = parse("log_level=trace\nlog_level=loud\n", recorder);
    EXPECT_EQ(config.log_level, LogLevel::Info);
}

TEST(Config, PasswordsNeverAppearInMessages)
{
    Recorder recorder;
    std::string long_password(200, 'p');
    parse("admin_password=" + long_password + "\nadmin_password=Zq9x\nadmin_password_hash=sec ret\n", recorder);
    EXPECT_GE(recorder.reports.size(), 3u);
    for (auto& r : recorder.reports) {
        EXPECT_EQ(r.message.find("ppppp"), std::string::npos) << r.message;
        EXPECT_EQ(r.message.find("Zq9x"), std::string::npos) << r.message;
        EXPECT_EQ(r.message.find("sec ret"), std::string::npos) << r.message;
    }
}

TEST(Config, UnknownAndDuplicateKeysWarn)
{
    Recorder recorder;
    auto config = parse("colour=blue\nlog_level=warn\nlog_level=error\nLOG_LEVEL=trace\n", recorder);
    EXPECT_EQ(config.log_level, LogLevel::Error); // last wins; keys are case-sensitive
    ASSERT_EQ(recorder.count(Severity::Warning), 3u) << recorder.all();
    EXPECT_EQ(recorder.count(Severity::Error), 0u);
    EXPECT_EQ(recorder.reports[0].line, 1u);
    EXPECT_NE(recorder.reports[0].message.find("colour"), std::string::npos);
    EXPECT_EQ(recorder.reports[1].line, 3u);
    EXPECT_NE(recorder.reports[1].message.find("line 2"), std::string::npos);
    EXPECT_EQ(recorder.reports[2].line, 4u);
}

TEST(Config, MalformedLines)
{
    Recorder recorder;
    auto config = parse("just some words\n=value\nhostname=ok-name\n", recorder);
    EXPECT_EQ(recorder.count(Severity::Error), 2u) << recorder.all();
    EXPECT_EQ(config.hostname.view(), "ok-name");
    // '=' inside the value is kept.
    Recorder r2;
    auto c2 = parse("admin_password=a=b=c\n", r2);
    EXPECT_EQ(c2.admin_password.view(), "a=b=c");
}

TEST(Config, RejectsControlCharactersAndBadUtf8PerLine)
{
    Recorder recorder;
    std::string text = "hostname=one\n";
    text += std::string("hostname=tw\x01o\n");
    text += std::string("default_model=mod\xc3\x28" "el\n"); // invalid continuation
    text += std::string("log_level=debug\0\n", 17);
    text += "default_model=caf\xc3\xa9-\xe6\xa8\xa1\xe5\x9e\x8b\n"; // valid UTF-8
    auto config = parse(text, recorder);
    EXPECT_EQ(recorder.count(Severity::Error), 3u) << recorder.all();
    EXPECT_EQ(config.hostname.view(), "one");
    EXPECT_EQ(config.log_level, LogLevel::Info);
    EXPECT_EQ(config.default_model.view(), "caf\xc3\xa9-\xe6\xa8\xa1\xe5\x9e\x8b");
    for (auto& r : recorder.reports)
        for (char c : r.message)
            EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "control character echoed in: " << r.message;
}

TEST(Config, Limits)
{
    Recorder recorder;
    std::string long_line = "default_model=" + std::string(max_line_length, 'm') + "\nnet_cores=3\n";
    auto config = parse(long_line, recorder);
    EXPECT_EQ(recorder.count(Severity::Error), 1u);
    EXPECT_TRUE(config.default_model.empty());
    EXPECT_EQ(config.net_cores, 3u);

    Recorder big;
    std::string huge = "net_cores=2\n" + std::string(max_file_size, '#');
    auto ignored = parse(huge, big);
    ASSERT_EQ(big.reports.size(), 1u);
    EXPECT_EQ(big.reports[0].line, 0u);
    EXPECT_EQ(ignored.net_cores, 1u);

    // A file of exactly the limit is read.
    Recorder edge;
    std::string exact = "net_cores=2\n";
    exact += std::string(max_file_size - exact.size(), '\n');
    EXPECT_EQ(parse(exact, edge).net_cores, 2u);
    // A byte order mark and a missing final newline are fine.
    Recorder bom;
    EXPECT_EQ(parse("\xef\xbb\xbfnet_cores=4", bom).net_cores, 4u);
    EXPECT_TRUE(bom.reports.empty());
    // A machine with one CPU: net_cores=1 only.
    Recorder one;
    EXPECT_EQ(parse("net_cores=2", one, 1).net_cores, 1u);
    EXPECT_EQ(one.count(Severity::Error), 1u);
}

TEST(Config, CrossChecks)
{
    Recorder dhcp;
    parse("ip=dhcp\ngw=192.168.1.1\n", dhcp);
    EXPECT_EQ(dhcp.count(Severity::Warning), 1u);
    Recorder subnet;
    parse("ip=192.168.1.10/24\ngw=192.168.2.1\n", subnet);
    EXPECT_EQ(subnet.count(Severity::Warning), 1u);
    Recorder good;
    auto config = parse("ip=192.168.1.10/32\ngw=192.168.1.10\n", good);
    EXPECT_TRUE(good.reports.empty()) << good.all();
    EXPECT_EQ(config.prefix_length, 32);
    Recorder p2p;
    EXPECT_EQ(parse("ip=10.0.0.0/31", p2p).address_mode, AddressMode::Static); // RFC 3021
}

TEST(Config, Helpers)
{
    Ipv4Address a;
    EXPECT_TRUE(parse_ipv4("0.0.0.0", a));
    EXPECT_TRUE(parse_ipv4("255.255.255.255", a));
    EXPECT_EQ(a.value(), 0xffffffffu);
    EXPECT_FALSE(parse_ipv4("1.2.3", a));
    EXPECT_FALSE(parse_ipv4("1.2.3.4.", a));
    EXPECT_FALSE(parse_ipv4("1..3.4", a));
    EXPECT_FALSE(parse_ipv4(" 1.2.3.4", a));
    EXPECT_FALSE(parse_ipv4("1.2.3.-4", a));
    EXPECT_FALSE(parse_ipv4("", a));
    EXPECT_TRUE(is_valid_hostname_label("a"));
    EXPECT_TRUE(is_valid_hostname_label("0day"));
    EXPECT_FALSE(is_valid_hostname_label("end-"));
    EXPECT_FALSE(is_valid_hostname_label(""));
    EXPECT_TRUE(is_valid_utf8("plain"));
    EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));       // U+1F600
    EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));               // overlong '/'
    EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));           // surrogate
    EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));       // above U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xe6\xa8"));               // truncated
    EXPECT_FALSE(is_valid_utf8("\xff"));
    EXPECT_STREQ(log_level_name(LogLevel::Trace), "trace");
}

TEST(Config, RandomInputNeverCrashes)
{
    std::mt19937 rng(3);
    const std::string seed = "ip=10.0.2.15/24\ngw=10.0.2.2\nhostname=x\nnet_cores=2\nlog_level=debug\nadmin_password=pw\n";
    for (int round = 0; round < 3000; ++round) {
        std::string text = seed;
        for (int i = 0, n = 1 + int(rng() % 10); i < n; ++i)
            text[rng() % text.size()] = static_cast<char>(rng());
        Recorder recorder;
        auto config = parse(text, recorder, 1 + rng() % 8);
        EXPECT_GE(config.net_cores, 1u);
        EXPECT_LE(config.hostname.view().size(), 63u);
    }
}

TEST(Config, EchoedTextIsSanitized)
{
    // Found by fuzz_config: a tab inside an unknown key reached the log.
    Recorder recorder;
    parse("bad\tkey=1\nlog_level=lo\tud\nhostname=" + std::string(63, 'x') + "\xc3\xa9\xc3\xa9\n", recorder);
    ASSERT_EQ(recorder.reports.size(), 3u) << recorder.all();
    for (auto& r : recorder.reports) {
        for (char c : r.message)
            EXPECT_GE(static_cast<unsigned char>(c), 0x20) << r.message;
        EXPECT_TRUE(is_valid_utf8(r.message)) << r.message;
    }
    EXPECT_NE(recorder.reports[0].message.find("bad key"), std::string::npos);
}
