#include "lib/pci/Enumerate.h"

namespace aisos::pci {

ErrorOr<PciDevice> read_device(PciConfigAccess& access, PciAddress address)
{
    uint32_t id = access.read32(address, config::vendor_id);
    uint16_t vendor = static_cast<uint16_t>(id);
    if (vendor == 0xffff || vendor == 0x0000)
        return Error::not_found("no PCI function at this address");
    PciDevice device {};
    device.address = address;
    device.vendor_id = vendor;
    device.device_id = static_cast<uint16_t>(id >> 16);
    uint32_t class_register = access.read32(address, config::revision);
    device.revision = static_cast<uint8_t>(class_register);
    device.prog_if = static_cast<uint8_t>(class_register >> 8);
    device.subclass = static_cast<uint8_t>(class_register >> 16);
    device.class_code = static_cast<uint8_t>(class_register >> 24);
    uint8_t header = access.read8(address, config::header_type);
    device.header_type = header & config::header_type_mask;
    device.multifunction = header & config::header_multifunction;
    if (device.header_type == config::header_general) {
        uint32_t subsystem = access.read32(address, config::subsystem_vendor_id);
        device.subsystem_vendor_id = static_cast<uint16_t>(subsystem);
        device.subsystem_id = static_cast<uint16_t>(subsystem >> 16);
    } else if (device.header_type == config::header_bridge) {
        uint32_t buses = access.read32(address, config::primary_bus);
        device.secondary_bus = static_cast<uint8_t>(buses >> 8);
        device.subordinate_bus = static_cast<uint8_t>(buses >> 16);
    }
    uint32_t interrupt = access.read32(address, config::interrupt_line);
    device.interrupt_line = static_cast<uint8_t>(interrupt);
    device.interrupt_pin = static_cast<uint8_t>(interrupt >> 8);
    return device;
}

namespace {

struct Scanner {
    PciConfigAccess& access;
    PciSegmentRange range;
    BusScan mode;
    PciDeviceList& out;
    bool scanned[256] {};
    // Buses waiting to be scanned, in discovery order (depth first would
    // also work; a queue keeps the stack flat in the kernel).
    uint8_t pending[256] {};
    size_t pending_count { 0 };

    void queue(uint8_t bus)
    {
        if (bus < range.bus_start || bus > range.bus_end || scanned[bus])
            return;
        scanned[bus] = true;
        pending[pending_count++] = bus;
    }

    void add(PciDevice const& device)
    {
        if (out.count == max_devices) {
            ++out.dropped;
            return;
        }
        out.devices[out.count++] = device;
    }

    void scan_bus(uint8_t bus)
    {
        for (uint8_t slot = 0; slot < 32; ++slot) {
            auto first = read_device(access, { range.segment, bus, slot, 0 });
            if (first.is_error())
                continue;
            uint8_t functions = first.value().multifunction ? 8 : 1;
            for (uint8_t function = 0; function < functions; ++function) {
                auto device = function == 0 ? std::move(first) : read_device(access, { range.segment, bus, slot, function });
                if (device.is_error())
                    continue;
                add(device.value());
                if (device.value().header_type == config::header_bridge && mode == BusScan::FollowBridges)
                    queue(device.value().secondary_bus);
            }
        }
    }

    void run()
    {
        if (range.bus_end < range.bus_start)
            return;
        if (mode == BusScan::AllBuses) {
            for (unsigned bus = range.bus_start; bus <= range.bus_end; ++bus)
                scan_bus(static_cast<uint8_t>(bus));
            return;
        }
        queue(range.bus_start);
        for (size_t next = 0; next < pending_count; ++next)
            scan_bus(pending[next]);
    }
};

} // namespace

void enumerate(PciConfigAccess& access, PciSegmentRange range, BusScan mode, PciDeviceList& out)
{
    Scanner scanner { access, range, mode, out };
    scanner.run();
}

} // namespace aisos::pci
