#include "kernel/net/NetworkCore.h"
#include "kernel/pkg/PackageManager.h"

#include "kernel/Version.h"
#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/console/Log.h"
#include "kernel/cpu/Acpi.h"
#include "kernel/cpu/Apic.h"
#include "kernel/cpu/Random.h"
#include "kernel/cpu/Rtc.h"
#include "kernel/cpu/Smp.h"
#include "kernel/cpu/Time.h"
#include "kernel/mm/Heap.h"
#include "kernel/mm/KernelAllocator.h"
#include "kernel/net/Endpoints.h"
#include "kernel/net/TcpByteStream.h"
#include "kernel/user/Auth.h"

namespace aisos::network_core {

namespace {

constexpr uint16_t http_port = 80;
constexpr size_t receive_budget = 64;      // frames per poll before timers and HTTP get a turn
constexpr uint64_t idle_before_halt_ns = 2'000'000; // spin this long without traffic, then halt
constexpr uint32_t net_core_timer_hz = 1000; // an idle core wakes within a millisecond

// The driver's transmit, as the stack's FrameTransmitter.
class DeviceTransmitter final : public net::FrameTransmitter {
public:
    explicit DeviceTransmitter(NetworkDevice& device)
        : m_device(device)
    {
    }
    ErrorOr<void> transmit(std::span<const uint8_t> frame) override { return m_device.transmit(frame); }

private:
    NetworkDevice& m_device;
};

struct State {
    NetworkDevice* device { nullptr };
    DeviceTransmitter* transmitter { nullptr };
    net::Stack* stack { nullptr };
    net::TcpListener* listener { nullptr };
    http::HttpServer* http { nullptr };
    uint32_t cpu { 0 };
    bool announced { false };
    PowerAction power_action { PowerAction::None };
    uint64_t power_action_at { 0 };
    char hostname[64] {};
};

State s;
http::Router s_router;
char s_server_name[32];

uint64_t stack_random(void*) { return random::hardware_u64(); }

void deliver_frame(std::span<const uint8_t> frame, void* now) { s.stack->receive(frame, *static_cast<uint64_t*>(now)); }

void release_stream(void*, http::ByteStream* stream)
{
    auto* tcp = static_cast<TcpByteStream*>(stream);
    tcp->socket().release();
    heap::destroy(tcp);
}

void accept_connections()
{
    while (net::TcpSocket* socket = s.listener->accept()) {
        auto stream = heap::create<TcpByteStream>(*socket);
        if (stream.is_error()) {
            socket->abort();
            socket->release();
            continue;
        }
        http::ClientInfo client { socket->remote_address().value, socket->remote_port() };
        if (s.http->accept(stream.value(), client).is_error()) {
            socket->abort();
            socket->release();
            heap::destroy(stream.value());
        }
    }
}

void announce_when_configured()
{
    if (s.announced || !s.stack->is_configured())
        return;
    s.announced = true;
    char ip[16];
    const uint8_t* m = s.device->mac();
    log::contract("net {} mac {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} ip {}", s.device->driver_name(), m[0], m[1], m[2],
        m[3], m[4], m[5], net::format_ipv4(s.stack->address(), ip, sizeof(ip)));
    log::contract("ready");
}

// The file system makes every commit durable before it returns; the audit
// log is the one thing saved lazily, so it is saved now.
void carry_out_power_action(uint64_t now)
{
    if (s.power_action == PowerAction::None || now < s.power_action_at)
        return;
    log::info("power: {} requested over HTTP", s.power_action == PowerAction::Reboot ? "reboot" : "power off");
    user::flush();
    if (s.power_action == PowerAction::Reboot)
        acpi::reset();
    acpi::power_off();
}

[[noreturn]] void loop(void*)
{
    apic::start_timer(net_core_timer_hz);
    uint64_t last_activity = time::uptime_ns();
    for (;;) {
        uint64_t now = time::uptime_ns();
        size_t received = s.device->poll_receive(deliver_frame, &now, receive_budget);
        s.stack->poll(now);
        accept_connections();
        s.http->set_wall_clock(rtc::unix_seconds());
        s.http->poll(now);
        s.stack->poll(now); // send what the HTTP server queued without waiting a round
        s.device->flush_transmit();
        announce_when_configured();
        user::poll(now);
        pkg::poll(now);
        carry_out_power_action(now);

        if (received > 0 || s.http->active_connections() > 0) {
            last_activity = now;
            continue;
        }
        if (now - last_activity < idle_before_halt_ns) {
            cpu::pause();
            continue;
        }
        // Idle: sleep until the next timer tick (1 ms on this core).
        asm volatile("sti; hlt" ::: "memory");
    }
}

} // namespace

ErrorOr<void> start(const config::Config& config)
{
    auto devices = network_devices::all();
    if (devices.empty())
        return Error::not_found("no supported network device");
    s.device = devices[0];
    s.transmitter = TRY(heap::create<DeviceTransmitter>(*s.device));

    net::InterfaceConfig interface;
    interface.mac = net::MacAddress::from(s.device->mac());
    interface.use_dhcp = config.address_mode == config::AddressMode::Dhcp;
    if (!interface.use_dhcp) {
        auto o = config.address.octets;
        interface.address = net::Ipv4Address::from_octets(o[0], o[1], o[2], o[3]);
        interface.prefix_length = config.prefix_length;
        if (config.has_gateway) {
            auto g = config.gateway.octets;
            interface.gateway = net::Ipv4Address::from_octets(g[0], g[1], g[2], g[3]);
        }
    }
    if (config.has_dns) {
        auto d = config.dns.octets;
        interface.dns = net::Ipv4Address::from_octets(d[0], d[1], d[2], d[3]);
    }
    auto hostname = config.hostname.view();
    __builtin_memcpy(s.hostname, hostname.data(), hostname.size() < 63 ? hostname.size() : 63);
    interface.hostname = s.hostname;
    interface.random = stack_random;

    s.stack = TRY(net::Stack::create(KernelAllocator::the(), *s.transmitter, interface));
    s.listener = TRY(s.stack->tcp_listen(http_port, 128));

    TRY(register_endpoints(s_router, config));
    TRY(pkg::start(s_router));
    http::Authenticator* authenticator = TRY(user::start(s_router, config));
    s.http = TRY(heap::create<http::HttpServer>(KernelAllocator::the(), s_router, http::HttpLimits {}));
    s.http->set_authenticator(authenticator);
    format_to(s_server_name, sizeof(s_server_name), "aiSOS/{}", version);
    s.http->set_server_name(s_server_name);
    s.http->set_release_callback(release_stream, nullptr);

    // The network core: the first application processor, or the BSP when alone.
    // One NIC queue needs one core; more are not used yet.
    if (config.net_cores > 1)
        log::warn("net: net_cores={} asked for, one network core is used (one NIC queue)", config.net_cores);
    uint32_t wanted = smp::online_count() > 1 ? 1 : 0;
    s.cpu = wanted;
    log::info("net: {} on CPU {}, {} addressing, HTTP on port {}", s.device->driver_name(), s.cpu,
        interface.use_dhcp ? "DHCP" : "static", http_port);
    if (wanted == 0)
        loop(nullptr);
    TRY(smp::run_on(wanted, loop, nullptr));
    return {};
}

void schedule_power_action(PowerAction action)
{
    s.power_action = action;
    s.power_action_at = time::uptime_ns() + 200'000'000; // 200 ms for the 202 to reach the client
}

NetworkDevice* device() { return s.device; }
net::Stack* stack() { return s.stack; }
http::HttpServer* http_server() { return s.http; }
uint32_t cpu_index() { return s.cpu; }

} // namespace aisos::network_core
