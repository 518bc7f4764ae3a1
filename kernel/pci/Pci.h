#pragma once

// PCI(e) for the kernel: ECAM access (from ACPI MCFG) with the legacy
// 0xCF8/0xCFC mechanism as fallback, enumeration, the device list that
// /sys/info reports, and driver matching.

#include "lib/pci/Pci.h"

#include <span>

namespace aisos::pci {

void initialize(); // enumerate, log every device, identify GPUs
std::span<const Device> devices();
ConfigAccess& config_access();

} // namespace aisos::pci
