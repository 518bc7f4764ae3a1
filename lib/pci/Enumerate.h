#pragma once

// Finds every PCI function: starting at each segment's first bus, scans 32
// devices (8 functions when the header says multifunction) and follows
// PCI-to-PCI bridges to their secondary buses. Each bus is scanned at most
// once, so a bridge loop or a bogus secondary bus cannot recurse forever.

#include "lib/base/ErrorOr.h"
#include "lib/pci/ConfigAccess.h"

namespace aisos::pci {

inline constexpr size_t max_devices = 256;

struct PciDevice {
    PciAddress address;
    uint16_t vendor_id;
    uint16_t device_id;
    uint8_t class_code;
    uint8_t subclass;
    uint8_t prog_if;
    uint8_t revision;
    uint8_t header_type; // without the multifunction bit
    bool multifunction;
    uint16_t subsystem_vendor_id; // 0 for bridges
    uint16_t subsystem_id;
    uint8_t interrupt_line;
    uint8_t interrupt_pin; // 0 none, 1..4 INTA..INTD
    uint8_t secondary_bus; // bridges only
    uint8_t subordinate_bus;
};

struct PciSegmentRange {
    uint16_t segment;
    uint8_t bus_start;
    uint8_t bus_end;
};

enum class BusScan {
    FollowBridges, // from bus_start, then secondary buses of bridges
    AllBuses,      // every bus in the range (firmware with several root buses)
};

struct PciDeviceList {
    size_t count { 0 };
    PciDevice devices[max_devices] {};
    size_t dropped { 0 }; // functions found beyond max_devices
};

// Appends to `out` (not cleared, so several segments can be collected).
void enumerate(PciConfigAccess&, PciSegmentRange, BusScan, PciDeviceList& out);

// Reads one function's identity; NotFound when nothing answers there.
ErrorOr<PciDevice> read_device(PciConfigAccess&, PciAddress);

} // namespace aisos::pci
