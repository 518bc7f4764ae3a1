#include "kernel/pci/Pci.h"

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/console/Log.h"
#include "kernel/cpu/Acpi.h"
#include "kernel/lib/Spinlock.h"
#include "kernel/mm/Mmio.h"
#include "kernel/drivers/PciDriver.h"
#include "kernel/drivers/gpu/NvidiaGpu.h"

namespace aisos::pci {

namespace {

// PCI Express enhanced configuration access: each function's 4 KiB of
// config space is memory-mapped at base + (bus << 20 | device << 15 |
// function << 12), per segment (from the ACPI MCFG table).
class EcamAccess final : public PciConfigAccess {
public:
    struct Window {
        uint16_t segment;
        uint8_t bus_start;
        uint8_t bus_end;
        volatile uint8_t* base; // virtual address of bus_start
    };

    bool add(const acpi::EcamSegment& segment)
    {
        if (m_count == max_windows || segment.bus_end < segment.bus_start)
            return false;
        uint64_t buses = uint64_t(segment.bus_end) - segment.bus_start + 1;
        auto mapped = mmio::map(segment.base + (uint64_t(segment.bus_start) << 20), buses << 20);
        if (mapped.is_error())
            return false;
        m_windows[m_count++] = { segment.segment, segment.bus_start, segment.bus_end, static_cast<volatile uint8_t*>(mapped.value()) };
        return true;
    }

    uint32_t read32(PciAddress address, uint16_t offset) override
    {
        auto* p = locate(address, offset);
        return p ? *reinterpret_cast<volatile uint32_t*>(p) : 0xffffffff;
    }
    void write32(PciAddress address, uint16_t offset, uint32_t value) override
    {
        if (auto* p = locate(address, offset))
            *reinterpret_cast<volatile uint32_t*>(p) = value;
    }
    void write16(PciAddress address, uint16_t offset, uint16_t value) override
    {
        if (auto* p = locate(address, offset & ~1))
            *reinterpret_cast<volatile uint16_t*>(p) = value;
    }
    void write8(PciAddress address, uint16_t offset, uint8_t value) override
    {
        if (auto* p = locate(address, offset))
            *p = value;
    }

    std::span<const Window> windows() const { return { m_windows, m_count }; }

private:
    static constexpr size_t max_windows = acpi::max_ecam_segments;

    volatile uint8_t* locate(PciAddress address, uint16_t offset)
    {
        if (offset > 0xffc || address.device > 31 || address.function > 7)
            return nullptr;
        for (size_t i = 0; i < m_count; ++i) {
            const Window& w = m_windows[i];
            if (w.segment == address.segment && address.bus >= w.bus_start && address.bus <= w.bus_end) {
                uint64_t relative = (uint64_t(address.bus - w.bus_start) << 20) | (uint64_t(address.device) << 15)
                    | (uint64_t(address.function) << 12) | (offset & 0xffc);
                return w.base + relative + (offset & 3);
            }
        }
        return nullptr;
    }

    Window m_windows[max_windows] {};
    size_t m_count { 0 };
};

// The legacy mechanism (I/O ports 0xCF8/0xCFC): segment 0, the first 256
// bytes of config space only. Used when there is no MCFG table.
class LegacyAccess final : public PciConfigAccess {
public:
    uint32_t read32(PciAddress address, uint16_t offset) override
    {
        if (!valid(address, offset))
            return 0xffffffff;
        SpinlockGuard guard(m_lock);
        cpu::outl(0xcf8, select(address, offset));
        return cpu::inl(0xcfc);
    }
    void write32(PciAddress address, uint16_t offset, uint32_t value) override
    {
        if (!valid(address, offset))
            return;
        SpinlockGuard guard(m_lock);
        cpu::outl(0xcf8, select(address, offset));
        cpu::outl(0xcfc, value);
    }

private:
    static bool valid(PciAddress address, uint16_t offset)
    {
        return address.segment == 0 && offset < 256 && address.device < 32 && address.function < 8;
    }
    static uint32_t select(PciAddress address, uint16_t offset)
    {
        return 0x80000000u | (uint32_t(address.bus) << 16) | (uint32_t(address.device) << 11)
            | (uint32_t(address.function) << 8) | (offset & 0xfc);
    }
    Spinlock m_lock;
};

EcamAccess s_ecam;
LegacyAccess s_legacy;
PciConfigAccess* s_access = nullptr;
PciDeviceList s_devices;

extern "C" const PciDriver __drivers_start[];
extern "C" const PciDriver __drivers_end[];

// Hands a device to the driver registered under its matched name, if any.
void probe_driver(const PciDevice& device, const char* name)
{
    for (const PciDriver* driver = __drivers_start; driver < __drivers_end; ++driver) {
        if (std::string_view(driver->name) != name)
            continue;
        char bdf[pci_address_text_size];
        device.address.format(bdf, sizeof(bdf));
        auto result = driver->probe(*s_access, device);
        if (result.is_error())
            log::error("pci {}: driver {} failed: {}", bdf, name, result.error().reason());
        return;
    }
}

void log_device_details(const PciDevice& device, const char* driver)
{
    char bdf[pci_address_text_size];
    device.address.format(bdf, sizeof(bdf));
    BarSet bars = read_bars(*s_access, device.address);
    for (size_t i = 0; i < bars.count; ++i) {
        const Bar& bar = bars.bars[i];
        if (bar.kind == BarKind::None)
            continue;
        const char* kind = bar.kind == BarKind::Io ? "io" : bar.kind == BarKind::Memory32 ? "mem32" : bar.kind == BarKind::Memory64 ? "mem64" : "invalid";
        log::debug("pci {} bar{} {} {:#x} size {:#x}{}", bdf, i, kind, bar.address, bar.size, bar.prefetchable ? " prefetchable" : "");
    }
    bool msi = find_capability(*s_access, device.address, capability::msi).has_value();
    auto msix = find_capability(*s_access, device.address, capability::msix);
    bool express = find_capability(*s_access, device.address, capability::pci_express).has_value();
    log::debug("pci {} {}{}{}{}", bdf, driver ? driver : "-", express ? " pcie" : "", msi ? " msi" : "",
        msix ? " msi-x" : "");
    if (driver && std::string_view(driver) == "nvidia-gpu")
        identify_nvidia_gpu(*s_access, device, bars);
}

} // namespace

void initialize()
{
    auto segments = acpi::ecam_segments();
    for (auto& segment : segments) {
        if (!s_ecam.add(segment))
            log::warn("pci: cannot map ECAM segment {} at {:#x}", segment.segment, segment.base);
    }
    if (!s_ecam.windows().empty()) {
        s_access = &s_ecam;
        for (auto& window : s_ecam.windows())
            enumerate(*s_access, { window.segment, window.bus_start, window.bus_end }, BusScan::FollowBridges, s_devices);
        log::info("pci: ECAM, {} segment(s), {} functions", s_ecam.windows().size(), s_devices.count);
    } else {
        s_access = &s_legacy;
        enumerate(*s_access, { 0, 0, 255 }, BusScan::FollowBridges, s_devices);
        log::info("pci: no MCFG table, legacy configuration access, {} functions", s_devices.count);
    }
    if (s_devices.dropped)
        log::warn("pci: {} functions beyond the first {} not tracked", s_devices.dropped, max_devices);

    for (size_t i = 0; i < s_devices.count; ++i) {
        const PciDevice& device = s_devices.devices[i];
        const char* driver = match_driver(device);
        char bdf[pci_address_text_size];
        device.address.format(bdf, sizeof(bdf));
        log::contract("pci {} {:04x}:{:04x} class {:02x}.{:02x} {}", bdf, device.vendor_id, device.device_id,
            device.class_code, device.subclass, driver ? driver : "-");
        log_device_details(device, driver);
    }
    for (size_t i = 0; i < s_devices.count; ++i) {
        if (const char* driver = match_driver(s_devices.devices[i]))
            probe_driver(s_devices.devices[i], driver);
    }
}

std::span<const Device> devices() { return { s_devices.devices, s_devices.count }; }

ConfigAccess& config_access() { return *s_access; }

} // namespace aisos::pci
