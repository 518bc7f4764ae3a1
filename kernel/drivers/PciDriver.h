#pragma once

// PCI drivers register themselves: AISOS_PCI_DRIVER("virtio-net", probe)
// places a record in the .aisos_drivers section, and pci::initialize() calls
// probe() for every device whose lib/pci match-table name equals the
// driver's. Adding a driver never means editing a central list.

#include "lib/base/ErrorOr.h"
#include "lib/pci/Pci.h"

namespace aisos::pci {

struct PciDriver {
    const char* name; // as lib/pci's match table names the device
    ErrorOr<void> (*probe)(PciConfigAccess&, const PciDevice&);
};

} // namespace aisos::pci

#define AISOS_PCI_DRIVER_CONCAT2(a, b) a##b
#define AISOS_PCI_DRIVER_CONCAT(a, b) AISOS_PCI_DRIVER_CONCAT2(a, b)
#define AISOS_PCI_DRIVER(driver_name, probe_function)                                                           \
    [[gnu::used, gnu::section(".aisos_drivers")]] static const ::aisos::pci::PciDriver AISOS_PCI_DRIVER_CONCAT( \
        s_pci_driver_, __LINE__) { driver_name, probe_function }
