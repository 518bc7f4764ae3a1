#include "lib/pci/Msi.h"
#include "lib/pci/Bar.h"
#include "lib/pci/Capabilities.h"

namespace aisos::pci {

namespace {

// MSI message control (capability + 2).
constexpr uint16_t msi_enable = 1u << 0;
constexpr uint16_t msi_multiple_capable_shift = 1;   // bits 1..3
constexpr uint16_t msi_multiple_enable_mask = 7u << 4; // bits 4..6
constexpr uint16_t msi_64bit = 1u << 7;
constexpr uint16_t msi_per_vector_mask = 1u << 8;

// MSI-X message control.
constexpr uint16_t msix_table_size_mask = 0x7ff;
constexpr uint16_t msix_function_mask = 1u << 14;
constexpr uint16_t msix_enable = 1u << 15;

constexpr uint32_t msi_address_base = 0xfee00000u;

void disable_intx(PciConfigAccess& access, PciAddress address)
{
    uint16_t command = access.read16(address, config::command);
    access.write16(address, config::command, command | config::command_interrupt_disable);
}

} // namespace

ErrorOr<MsiMessage> msi_message(uint32_t destination_apic_id, uint8_t vector)
{
    if (vector < 32 || vector == 0xff)
        return Error::invalid("MSI vector must be in 32..254");
    if (destination_apic_id > 0xff)
        return Error::unsupported("MSI destination above APIC id 255 needs interrupt remapping");
    // Address: 0xFEE, destination id in bits 19:12, redirection hint (bit 3)
    // and destination mode (bit 2) zero: physical, no redirection.
    // Data: vector in 7:0, delivery mode fixed (000) in 10:8, trigger edge
    // (bit 15 = 0), level bit 14 ignored for edge.
    return MsiMessage { msi_address_base | (destination_apic_id << 12), vector };
}

ErrorOr<MsiCapability> read_msi_capability(PciConfigAccess& access, PciAddress address)
{
    auto offset = find_capability(access, address, capability::msi);
    if (!offset)
        return Error::not_found("device has no MSI capability");
    uint16_t control = access.read16(address, *offset + 2);
    uint8_t multiple = (control >> msi_multiple_capable_shift) & 7;
    if (multiple > 5)
        multiple = 5; // 6 and 7 are reserved encodings
    return MsiCapability { *offset, (control & msi_64bit) != 0, (control & msi_per_vector_mask) != 0, static_cast<uint8_t>(1u << multiple) };
}

void disable_msi(PciConfigAccess& access, PciAddress address)
{
    auto offset = find_capability(access, address, capability::msi);
    if (!offset)
        return;
    uint16_t control = access.read16(address, *offset + 2);
    access.write16(address, *offset + 2, control & ~msi_enable);
}

ErrorOr<void> enable_msi(PciConfigAccess& access, PciAddress address, MsiMessage message)
{
    auto capability = TRY(read_msi_capability(access, address));
    uint16_t base = capability.offset;
    if (!capability.is_64bit && (message.address >> 32) != 0)
        return Error::unsupported("MSI address above 4 GiB on a 32-bit MSI capability");
    uint16_t control = access.read16(address, base + 2);
    control &= ~(msi_enable | msi_multiple_enable_mask);
    access.write16(address, base + 2, control);

    access.write32(address, base + 4, static_cast<uint32_t>(message.address));
    uint16_t data_offset = base + 8;
    if (capability.is_64bit) {
        access.write32(address, base + 8, static_cast<uint32_t>(message.address >> 32));
        data_offset = base + 12;
    }
    access.write16(address, data_offset, static_cast<uint16_t>(message.data));
    if (capability.per_vector_masking) {
        uint16_t mask_offset = capability.is_64bit ? base + 16 : base + 12;
        uint32_t mask = access.read32(address, mask_offset);
        access.write32(address, mask_offset, mask & ~1u);
    }
    disable_intx(access, address);
    access.write16(address, base + 2, control | msi_enable);
    return {};
}

ErrorOr<MsixCapability> read_msix_capability(PciConfigAccess& access, PciAddress address)
{
    auto offset = find_capability(access, address, capability::msix);
    if (!offset)
        return Error::not_found("device has no MSI-X capability");
    uint16_t control = access.read16(address, *offset + 2);
    uint32_t table = access.read32(address, *offset + 4);
    uint32_t pba = access.read32(address, *offset + 8);
    MsixCapability capability {
        *offset,
        static_cast<uint16_t>((control & msix_table_size_mask) + 1),
        static_cast<uint8_t>(table & 7),
        table & ~7u,
        static_cast<uint8_t>(pba & 7),
        pba & ~7u,
    };
    if (capability.table_bar >= max_bars || capability.pba_bar >= max_bars)
        return Error::corrupt("MSI-X table or PBA names a BAR that does not exist");
    return capability;
}

ErrorOr<void> set_msix_state(PciConfigAccess& access, PciAddress address, MsixState state)
{
    auto capability = TRY(read_msix_capability(access, address));
    uint16_t control = access.read16(address, capability.offset + 2);
    control &= ~(msix_enable | msix_function_mask);
    if (state != MsixState::Disabled) {
        disable_intx(access, address);
        control |= msix_enable;
        if (state == MsixState::EnabledMasked)
            control |= msix_function_mask;
    }
    access.write16(address, capability.offset + 2, control);
    return {};
}

ErrorOr<void> write_msix_entry(volatile uint32_t* table, uint16_t table_size, uint16_t index, MsiMessage message, VectorMask mask)
{
    if (!table)
        return Error::invalid("MSI-X table is not mapped");
    if (index >= table_size)
        return Error { ErrorCode::OutOfRange, "MSI-X entry index beyond the table" };
    volatile uint32_t* entry = table + index * (msix_entry_size / 4);
    // Word 3 is vector control; bit 0 masks the vector.
    entry[3] = entry[3] | 1u;
    entry[0] = static_cast<uint32_t>(message.address);
    entry[1] = static_cast<uint32_t>(message.address >> 32);
    entry[2] = message.data;
    if (mask == VectorMask::Unmasked)
        entry[3] = entry[3] & ~1u;
    return {};
}

} // namespace aisos::pci
