#include "lib/pci/ConfigAccess.h"

namespace aisos::pci {

void PciConfigAccess::write16(PciAddress address, uint16_t offset, uint16_t value)
{
    uint16_t aligned = offset & ~3;
    uint32_t shift = (offset & 2) * 8;
    uint32_t old = read32(address, aligned);
    uint32_t mask = 0xffffu << shift;
    // Leave the status register's write-1-to-clear bits alone when writing
    // the command register next to it.
    if (aligned == config::command && shift == 0)
        old &= 0x0000ffffu;
    write32(address, aligned, (old & ~mask) | (uint32_t(value) << shift));
}

void PciConfigAccess::write8(PciAddress address, uint16_t offset, uint8_t value)
{
    uint16_t aligned = offset & ~3;
    uint32_t shift = (offset & 3) * 8;
    uint32_t old = read32(address, aligned);
    if (aligned == config::command && shift < 16)
        old &= 0x0000ffffu;
    uint32_t mask = 0xffu << shift;
    write32(address, aligned, (old & ~mask) | (uint32_t(value) << shift));
}

} // namespace aisos::pci
