#pragma once

// Walks of the standard capability list (config offsets 0x40..0xff) and the
// PCIe extended capability list (0x100..0xfff). Both walks are bounded by
// the number of entries that can fit, so a looping or corrupt list ends.

#include "lib/pci/ConfigAccess.h"

#include <optional>

namespace aisos::pci {

namespace capability {
inline constexpr uint8_t power_management = 0x01;
inline constexpr uint8_t msi = 0x05;
inline constexpr uint8_t vendor_specific = 0x09;
inline constexpr uint8_t pci_express = 0x10;
inline constexpr uint8_t msix = 0x11;
} // namespace capability

namespace extended_capability {
inline constexpr uint16_t advanced_error_reporting = 0x0001;
inline constexpr uint16_t device_serial_number = 0x0003;
inline constexpr uint16_t sr_iov = 0x0010;
inline constexpr uint16_t resizable_bar = 0x0015;
} // namespace extended_capability

// Calls visit(id, offset) for each capability until it returns false.
template<typename Visit>
void for_each_capability(PciConfigAccess&, PciAddress, Visit);

std::optional<uint16_t> find_capability(PciConfigAccess&, PciAddress, uint8_t id);
std::optional<uint16_t> find_extended_capability(PciConfigAccess&, PciAddress, uint16_t id);

// Offset of the first capability, or 0 when the function has none.
uint8_t first_capability(PciConfigAccess&, PciAddress);

template<typename Visit>
void for_each_capability(PciConfigAccess& access, PciAddress address, Visit visit)
{
    uint8_t offset = first_capability(access, address);
    // At most (256 - 64) / 4 capabilities fit; anything longer is a loop.
    for (int remaining = 48; offset >= 0x40 && remaining > 0; --remaining) {
        uint16_t header = access.read16(address, offset);
        if (!visit(static_cast<uint8_t>(header), static_cast<uint16_t>(offset)))
            return;
        offset = static_cast<uint8_t>(header >> 8) & 0xfc;
    }
}

} // namespace aisos::pci
