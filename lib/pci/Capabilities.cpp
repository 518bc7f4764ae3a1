#include "lib/pci/Capabilities.h"

namespace aisos::pci {

uint8_t first_capability(PciConfigAccess& access, PciAddress address)
{
    if (!(access.read16(address, config::status) & config::status_capabilities_list))
        return 0;
    uint8_t header = access.read8(address, config::header_type) & config::header_type_mask;
    uint16_t pointer_offset = header == config::header_cardbus ? config::cardbus_capabilities_pointer : config::capabilities_pointer;
    uint8_t offset = access.read8(address, pointer_offset) & 0xfc;
    return offset >= 0x40 ? offset : 0;
}

std::optional<uint16_t> find_capability(PciConfigAccess& access, PciAddress address, uint8_t id)
{
    std::optional<uint16_t> found;
    for_each_capability(access, address, [&](uint8_t capability_id, uint16_t offset) {
        if (capability_id != id)
            return true;
        found = offset;
        return false;
    });
    return found;
}

std::optional<uint16_t> find_extended_capability(PciConfigAccess& access, PciAddress address, uint16_t id)
{
    uint16_t offset = 0x100;
    // At most (4096 - 256) / 4 headers fit.
    for (int remaining = 960; remaining > 0; --remaining) {
        uint32_t header = access.read32(address, offset);
        // All ones: no extended space (legacy access, conventional PCI);
        // zero: an empty list.
        if (header == 0xffffffffu || header == 0)
            return std::nullopt;
        if ((header & 0xffff) == id)
            return offset;
        uint16_t next = static_cast<uint16_t>(header >> 20) & 0xffc;
        if (next < 0x100)
            return std::nullopt;
        offset = next;
    }
    return std::nullopt;
}

} // namespace aisos::pci
