#pragma once

// Access to PCI configuration space. The kernel implements it with ECAM
// (memory-mapped, 4 KiB per function) or the legacy 0xCF8/0xCFC ports (256
// bytes per function); tests implement it over plain arrays.
//
// Reads of absent functions return all ones, as the hardware does.

#include "lib/pci/PciAddress.h"

namespace aisos::pci {

// Standard configuration header offsets (PCI Local Bus 3.0, PCIe 6.0 7.5.1).
namespace config {
inline constexpr uint16_t vendor_id = 0x00;
inline constexpr uint16_t device_id = 0x02;
inline constexpr uint16_t command = 0x04;
inline constexpr uint16_t status = 0x06;
inline constexpr uint16_t revision = 0x08;
inline constexpr uint16_t prog_if = 0x09;
inline constexpr uint16_t subclass = 0x0a;
inline constexpr uint16_t class_code = 0x0b;
inline constexpr uint16_t header_type = 0x0e;
inline constexpr uint16_t bar0 = 0x10;
inline constexpr uint16_t primary_bus = 0x18;   // type 1
inline constexpr uint16_t secondary_bus = 0x19; // type 1
inline constexpr uint16_t subordinate_bus = 0x1a; // type 1
inline constexpr uint16_t subsystem_vendor_id = 0x2c; // type 0
inline constexpr uint16_t subsystem_id = 0x2e;        // type 0
inline constexpr uint16_t capabilities_pointer = 0x34;
inline constexpr uint16_t cardbus_capabilities_pointer = 0x14; // type 2
inline constexpr uint16_t interrupt_line = 0x3c;
inline constexpr uint16_t interrupt_pin = 0x3d;

inline constexpr uint16_t command_io_space = 1u << 0;
inline constexpr uint16_t command_memory_space = 1u << 1;
inline constexpr uint16_t command_bus_master = 1u << 2;
inline constexpr uint16_t command_interrupt_disable = 1u << 10;
inline constexpr uint16_t status_capabilities_list = 1u << 4;

inline constexpr uint8_t header_type_mask = 0x7f;
inline constexpr uint8_t header_multifunction = 0x80;
inline constexpr uint8_t header_general = 0;
inline constexpr uint8_t header_bridge = 1;
inline constexpr uint8_t header_cardbus = 2;
} // namespace config

class PciConfigAccess {
public:
    virtual uint32_t read32(PciAddress, uint16_t offset) = 0;
    virtual void write32(PciAddress, uint16_t offset, uint32_t value) = 0;

    // Narrow writes default to read-modify-write of the containing dword.
    // That can clear write-1-to-clear bits next to the target (e.g. status
    // beside command); ECAM implementations should override them with
    // native-width accesses.
    virtual void write16(PciAddress, uint16_t offset, uint16_t value);
    virtual void write8(PciAddress, uint16_t offset, uint8_t value);

    uint16_t read16(PciAddress address, uint16_t offset) { return static_cast<uint16_t>(read32(address, offset & ~3) >> ((offset & 2) * 8)); }
    uint8_t read8(PciAddress address, uint16_t offset) { return static_cast<uint8_t>(read32(address, offset & ~3) >> ((offset & 3) * 8)); }

protected:
    ~PciConfigAccess() = default;
};

} // namespace aisos::pci
