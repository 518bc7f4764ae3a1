#pragma once

// Message-signalled interrupts on x86: the message itself (Intel SDM vol. 3
// 11.11, "Message Signalled Interrupts") and programming of the MSI and
// MSI-X capabilities (PCI Local Bus 3.0 6.8, PCIe 6.0 7.7.1/7.7.2).

#include "lib/base/ErrorOr.h"
#include "lib/pci/ConfigAccess.h"

namespace aisos::pci {

struct MsiMessage {
    uint64_t address;
    uint32_t data;
};

// Fixed delivery, edge triggered, physical destination mode to a local
// APIC id (xAPIC ids, 0..255; larger x2APIC ids need interrupt remapping).
// Vectors 0..31 are exceptions, so 32..254 are accepted.
ErrorOr<MsiMessage> msi_message(uint32_t destination_apic_id, uint8_t vector);

struct MsiCapability {
    uint16_t offset;
    bool is_64bit;
    bool per_vector_masking;
    uint8_t vectors_supported; // 1, 2, 4, ... 32
};

ErrorOr<MsiCapability> read_msi_capability(PciConfigAccess&, PciAddress);

// Programs one MSI vector and enables MSI (and disables legacy INTx):
// disable, write address/data, one vector, unmask vector 0, enable.
ErrorOr<void> enable_msi(PciConfigAccess&, PciAddress, MsiMessage);
void disable_msi(PciConfigAccess&, PciAddress);

struct MsixCapability {
    uint16_t offset;
    uint16_t table_size; // entries
    uint8_t table_bar;   // BAR index holding the table
    uint32_t table_offset;
    uint8_t pba_bar;
    uint32_t pba_offset;
};

inline constexpr size_t msix_entry_size = 16;

ErrorOr<MsixCapability> read_msix_capability(PciConfigAccess&, PciAddress);

enum class MsixState {
    Disabled,
    EnabledMasked, // enabled with the function mask set: no vector fires
    Enabled,
};
// Sets the enable and function-mask bits (and INTx disable when enabling).
ErrorOr<void> set_msix_state(PciConfigAccess&, PciAddress, MsixState);

enum class VectorMask {
    Masked,
    Unmasked,
};
// Writes entry `index` of a mapped MSI-X table (the caller maps BAR
// `table_bar` + `table_offset` uncached). The entry is masked while its
// address and data change.
ErrorOr<void> write_msix_entry(volatile uint32_t* table, uint16_t table_size, uint16_t index, MsiMessage, VectorMask);

} // namespace aisos::pci
