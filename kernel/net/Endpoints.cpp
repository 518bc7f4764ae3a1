#include "kernel/net/Endpoints.h"
#include "kernel/pkg/PackageManager.h"

#include "kernel/Version.h"
#include "kernel/console/Log.h"
#include "kernel/cpu/CpuFeatures.h"
#include "kernel/cpu/Smp.h"
#include "kernel/cpu/Time.h"
#include "kernel/drivers/gpu/NvidiaGpu.h"
#include "kernel/drivers/nvme/Nvme.h"
#include "kernel/fs/FsEndpoints.h"
#include "kernel/fs/Storage.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/net/NetworkCore.h"
#include "kernel/net/StaticFiles.h"
#include "kernel/pci/Pci.h"
#include "lib/json/JsonWriter.h"
#include "lib/crypto/Sha256.h"
#include "lib/net/http/HttpHandler.h"
#include "lib/net/http/HttpMetrics.h"
#include "lib/net/http/WebSocket.h"

namespace aisos::network_core {

namespace {

using http::HttpRequest;
using http::HttpResponse;
using http::Role;

void chat_page(const HttpRequest&, std::span<const uint8_t>, HttpResponse& response)
{
    response.send_static(200, "text/html; charset=utf-8", static_files::chat_page());
}

void health(const HttpRequest&, std::span<const uint8_t>, HttpResponse& response)
{
    if (pkg::any_module_loading()) {
        response.send(503, "application/json", R"({"status":"loading"})");
        return;
    }
    response.send(200, "application/json", R"({"status":"ok"})");
}

// Prometheus text exposition format, version 0.0.4.
template<typename... Args>
void metric(FormatSink& out, const char* type, const char* name, const char* help, uint64_t value)
{
    format(out, "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
}

void metrics(const HttpRequest&, std::span<const uint8_t>, HttpResponse& response)
{
    auto& out = response.body_buffer();
    const net::NetCounters& n = stack()->counters();
    const NicCounters& nic = device()->counters();
    const http::HttpCounters& h = http_server()->counters();
    metric(out, "counter", "aisos_nic_rx_frames_total", "Frames received by the NIC driver.", nic.rx_frames);
    metric(out, "counter", "aisos_nic_rx_bytes_total", "Bytes received by the NIC driver.", nic.rx_bytes);
    metric(out, "counter", "aisos_nic_rx_dropped_total", "Frames the NIC driver dropped as malformed.", nic.rx_dropped);
    metric(out, "counter", "aisos_nic_tx_frames_total", "Frames transmitted.", nic.tx_frames);
    metric(out, "counter", "aisos_nic_tx_bytes_total", "Bytes transmitted.", nic.tx_bytes);
    metric(out, "counter", "aisos_nic_tx_ring_full_total", "Transmits refused because the ring was full.", nic.tx_ring_full);
    metric(out, "counter", "aisos_net_ip_packets_received_total", "IPv4 packets received.", n.ip_in);
    metric(out, "counter", "aisos_net_ip_packets_sent_total", "IPv4 packets sent.", n.ip_out);
    metric(out, "counter", "aisos_net_dropped_bad_checksum_total", "Packets dropped for a bad IP, ICMP, UDP or TCP checksum.",
        n.ip_bad_checksum + n.icmp_bad_checksum + n.udp_bad_checksum + n.tcp_bad_checksum);
    metric(out, "counter", "aisos_net_dropped_malformed_total", "Frames and packets dropped as malformed.",
        n.drop_runt + n.arp_malformed + n.ip_malformed + n.icmp_malformed + n.udp_malformed + n.tcp_malformed + n.fragments_dropped);
    metric(out, "counter", "aisos_net_dropped_other_total", "Frames dropped: not for us, VLAN, unknown type, no socket, no route.",
        n.drop_not_for_us + n.drop_vlan + n.drop_unknown_ethertype + n.udp_no_socket + n.tcp_no_socket + n.ip_no_route);
    metric(out, "counter", "aisos_net_icmp_echo_requests_total", "ICMP echo requests answered.", n.icmp_echo_requests);
    metric(out, "gauge", "aisos_tcp_connections_active", "TCP connections not yet closed.", n.tcp_connections_active);
    metric(out, "counter", "aisos_tcp_connections_opened_total", "TCP connections established.", n.tcp_connections_opened);
    metric(out, "counter", "aisos_tcp_connections_reset_total", "TCP connections reset.", n.tcp_connections_reset);
    metric(out, "counter", "aisos_tcp_syn_dropped_total", "SYNs dropped: backlog full or connection limit.",
        n.tcp_backlog_full + n.tcp_connection_limit);
    metric(out, "counter", "aisos_tcp_retransmits_total", "TCP segments retransmitted after a timeout.", n.tcp_retransmits);
    metric(out, "counter", "aisos_tcp_fast_retransmits_total", "TCP fast retransmits.", n.tcp_fast_retransmits);
    metric(out, "counter", "aisos_tcp_bytes_received_total", "TCP payload bytes delivered in order.", n.tcp_bytes_received);
    metric(out, "counter", "aisos_tcp_bytes_sent_total", "TCP payload bytes sent (first transmissions).", n.tcp_bytes_sent);
    http::write_http_metrics(out, h);
    metric(out, "gauge", "aisos_memory_free_bytes", "Free physical memory.", physical_memory::free_bytes());
    metric(out, "gauge", "aisos_uptime_seconds", "Seconds since boot.", time::uptime_ns() / 1000000000ull);
    storage::write_metrics(out);
    pkg::write_metrics(out);
    response.send_buffer(200, "text/plain; version=0.0.4; charset=utf-8");
}

void hex4(char (&buffer)[5], uint16_t value) { format_to(buffer, sizeof(buffer), "{:04x}", value); }

void system_info(const HttpRequest&, std::span<const uint8_t>, HttpResponse& response)
{
    json::JsonWriter json(response.body_buffer());
    json.begin_object();
    json.member("version", version);
    json.key("uptime_s");
    json.unsigned_integer(time::uptime_ns() / 1000000000ull);

    json.key("cpus");
    json.begin_object();
    json.key("count");
    json.unsigned_integer(smp::online_count());
    json.member("model", cpu_features::brand_string());
    json.key("features");
    json.begin_array();
    for (uint32_t f = 0; f < cpu_features::Count; ++f) {
        if (cpu_features::has(static_cast<cpu_features::Feature>(f)))
            json.string(cpu_features::name(static_cast<cpu_features::Feature>(f)));
    }
    json.end_array();
    json.end_object();

    json.key("memory");
    json.begin_object();
    json.key("total_mib");
    json.unsigned_integer(physical_memory::total_bytes() >> 20);
    json.key("free_mib");
    json.unsigned_integer(physical_memory::free_bytes() >> 20);
    json.end_object();

    json.key("pci");
    json.begin_array();
    for (const pci::Device& device : pci::devices()) {
        char bdf[pci::pci_address_text_size], vendor[5], id[5], device_class[6];
        device.address.format(bdf, sizeof(bdf));
        hex4(vendor, device.vendor_id);
        hex4(id, device.device_id);
        format_to(device_class, sizeof(device_class), "{:02x}.{:02x}", device.class_code, device.subclass);
        const char* driver = pci::match_driver(device);
        json.begin_object();
        json.member("bdf", bdf);
        json.member("vendor", vendor);
        json.member("device", id);
        json.member("class", device_class);
        json.key("driver");
        if (driver)
            json.string(driver);
        else
            json.null();
        json.end_object();
    }
    json.end_array();

    json.key("nics");
    json.begin_array();
    if (NetworkDevice* nic = device()) {
        char mac[18], ip[16];
        const uint8_t* m = nic->mac();
        format_to(mac, sizeof(mac), "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
        json.begin_object();
        json.member("driver", nic->driver_name());
        json.member("mac", mac);
        json.key("ip");
        if (stack()->is_configured())
            json.string(net::format_ipv4(stack()->address(), ip, sizeof(ip)));
        else
            json.null();
        json.member("link", nic->link_up() ? "up" : "down");
        json.end_object();
    }
    json.end_array();

    json.key("nvme");
    json.begin_array();
    for (const nvme::NamespaceInfo& ns : nvme::namespaces()) {
        json.begin_object();
        json.member("model", ns.model);
        json.member("serial", ns.serial);
        json.key("namespace");
        json.unsigned_integer(ns.nsid);
        json.key("size_mib");
        json.unsigned_integer(ns.size_bytes >> 20);
        json.member("completion", ns.msix ? "msix" : "poll");
        json.member("discard", ns.discard);
        json.end_object();
    }
    json.end_array();

    json.key("gpus");
    json.begin_array();
    for (const pci::GpuInfo& gpu : pci::gpus()) {
        char vendor[5], id[5], bar0[19];
        hex4(vendor, gpu.vendor_id);
        hex4(id, gpu.device_id);
        format_to(bar0, sizeof(bar0), "{:#x}", gpu.bar0);
        json.begin_object();
        json.member("vendor", vendor);
        json.member("device", id);
        json.member("name", gpu.name);
        json.member("bar0", bar0);
        json.end_object();
    }
    json.end_array();
    json.end_object();
    response.send_buffer(200, "application/json");
}

void system_log(const HttpRequest&, std::span<const uint8_t>, HttpResponse& response)
{
    static char s_copy[64 * 1024]; // the network core is single-threaded
    size_t length = log::copy_ring(s_copy, sizeof(s_copy));
    // Start at a line boundary: the ring may have cut the oldest line.
    size_t start = 0;
    if (length == sizeof(s_copy)) {
        while (start < length && s_copy[start] != '\n')
            ++start;
        if (start < length)
            ++start;
    }
    response.send(200, "text/plain; charset=utf-8", std::string_view(s_copy + start, length - start));
}

void reboot(const HttpRequest&, std::span<const uint8_t>, HttpResponse& response)
{
    schedule_power_action(PowerAction::Reboot);
    response.send(202, "application/json", R"({"status":"rebooting"})");
}

void power_off(const HttpRequest&, std::span<const uint8_t>, HttpResponse& response)
{
    schedule_power_action(PowerAction::PowerOff);
    response.send(202, "application/json", R"({"status":"powering off"})");
}

// --- Test endpoints (debug_endpoints=true) ---

// POST /debug/echo: the body comes back (up to 16 MiB; a response starts only
// after the whole request body, so echo must hold it).
class EchoHandler final : public http::HttpHandler {
public:
    static constexpr size_t max_body = 16 * 1024 * 1024;

    size_t on_body(std::span<const uint8_t> piece, HttpResponse& response) override
    {
        auto& body = response.body_buffer();
        if (body.size() + piece.size() > max_body) {
            response.send_error(413, "echo bodies are limited to 16 MiB");
            return piece.size();
        }
        body.append(piece);
        return piece.size();
    }
    void on_body_end(const HttpRequest&, HttpResponse& response) override
    {
        if (response.started())
            return;
        if (response.body_buffer().failed()) {
            response.send_error(503, "out of memory for the echo body");
            return;
        }
        response.send_buffer(200, "application/octet-stream");
    }
};

// GET /debug/bytes?n=N: N bytes of a fixed pattern, generated as the client reads.
class BytesHandler final : public http::HttpHandler {
public:
    void on_request(const HttpRequest& request, HttpResponse& response) override
    {
        std::string_view query = request.query;
        if (query.substr(0, 2) != "n=" || query.size() == 2 || query.size() > 14) {
            response.send_error(400, "expected ?n=<bytes>");
            return;
        }
        for (char c : query.substr(2)) {
            if (c < '0' || c > '9') {
                response.send_error(400, "n must be a decimal number");
                return;
            }
            m_total = m_total * 10 + static_cast<uint64_t>(c - '0');
        }
        if (response.start(200, "application/octet-stream", http::ResponseLength::known(m_total)).is_error())
            response.send_error(500, "cannot start the response");
    }
    void on_poll(const HttpRequest&, HttpResponse& response) override
    {
        uint8_t chunk[4096];
        while (m_sent < m_total) {
            size_t room = response.writable();
            if (room == 0)
                return;
            size_t n = m_total - m_sent < sizeof(chunk) ? static_cast<size_t>(m_total - m_sent) : sizeof(chunk);
            if (n > room)
                n = room;
            for (size_t i = 0; i < n; ++i) {
                uint64_t index = m_sent + i;
                chunk[i] = static_cast<uint8_t>((index * 2654435761ull) >> 13);
            }
            size_t taken = response.write({ chunk, n });
            m_sent += taken;
            if (taken < n)
                return;
        }
        if (!response.finished())
            response.finish();
    }

private:
    uint64_t m_total { 0 };
    uint64_t m_sent { 0 };
};

// PUT /debug/sink: consumes any body, reports its length and SHA-256.
class SinkHandler final : public http::HttpHandler {
public:
    size_t on_body(std::span<const uint8_t> piece, HttpResponse&) override
    {
        m_bytes += piece.size();
        m_sha.update(piece);
        return piece.size();
    }
    void on_body_end(const HttpRequest&, HttpResponse& response) override
    {
        auto digest = m_sha.finish();
        char hex[2 * crypto::Sha256::digest_size + 1];
        for (size_t i = 0; i < digest.size(); ++i)
            format_to(hex + 2 * i, 3, "{:02x}", digest[i]);
        char body[128];
        response.send(200, "application/json", format_to(body, sizeof(body), "{{\"bytes\": {}, \"sha256\": \"{}\"}}", m_bytes, std::string_view(hex, 64)));
    }

private:
    uint64_t m_bytes { 0 };
    crypto::Sha256 m_sha;
};

template<typename Handler>
class Factory final : public http::HttpHandlerFactory {
public:
    ErrorOr<http::HttpHandler*> create(Allocator& allocator, const HttpRequest&) override
    {
        return TRY(allocator.create<Handler>());
    }
};

class EchoSession final : public http::WebSocketSession {
public:
    void on_message(http::WebSocket& socket, http::WebSocketMessageType type, std::span<const uint8_t> payload) override
    {
        ErrorOr<void> sent = type == http::WebSocketMessageType::Text
            ? socket.send_text({ reinterpret_cast<const char*>(payload.data()), payload.size() })
            : socket.send_binary(payload);
        if (sent.is_error())
            socket.close(1011, "echo queue full");
    }
};

class EchoSessionFactory final : public http::WebSocketFactory {
public:
    ErrorOr<http::WebSocketSession*> create(Allocator& allocator, const HttpRequest&) override
    {
        return TRY(allocator.create<EchoSession>());
    }
};

http::SimpleRoute<decltype(&chat_page)> s_chat_page(&chat_page);
http::SimpleRoute<decltype(&health)> s_health(&health);
http::SimpleRoute<decltype(&metrics)> s_metrics(&metrics);
http::SimpleRoute<decltype(&system_info)> s_system_info(&system_info);
http::SimpleRoute<decltype(&system_log)> s_system_log(&system_log);
http::SimpleRoute<decltype(&reboot)> s_reboot(&reboot);
http::SimpleRoute<decltype(&power_off)> s_power_off(&power_off);
Factory<EchoHandler> s_echo;
Factory<BytesHandler> s_bytes;
Factory<SinkHandler> s_sink;
EchoSessionFactory s_websocket_echo;

} // namespace

ErrorOr<void> register_endpoints(http::Router& router, const config::Config& config)
{
    using http::HttpMethod;
    TRY(router.add(HttpMethod::Get, "/", s_chat_page, { .role = Role::Public }));
    TRY(router.add(HttpMethod::Get, "/health", s_health, { .role = Role::Public }));
    TRY(router.add(HttpMethod::Get, "/metrics", s_metrics, { .role = Role::Public }));
    TRY(router.add(HttpMethod::Get, "/sys/info", s_system_info, { .role = Role::User }));
    TRY(router.add(HttpMethod::Get, "/sys/log", s_system_log, { .role = Role::Admin }));
    TRY(router.add(HttpMethod::Post, "/sys/reboot", s_reboot, { .role = Role::Admin }));
    TRY(router.add(HttpMethod::Post, "/sys/poweroff", s_power_off, { .role = Role::Admin }));
    TRY(storage::register_endpoints(router));
    if (config.debug_endpoints) {
        TRY(router.add(HttpMethod::Post, "/debug/echo", s_echo, { .role = Role::Public, .body_limit = http::unlimited_body }));
        TRY(router.add(HttpMethod::Get, "/debug/bytes", s_bytes, { .role = Role::Public }));
        TRY(router.add(HttpMethod::Put, "/debug/sink", s_sink, { .role = Role::Public, .body_limit = http::unlimited_body }));
        TRY(router.add_websocket("/ws/echo", s_websocket_echo, { .role = Role::Public }));
    }
    return {};
}

} // namespace aisos::network_core
