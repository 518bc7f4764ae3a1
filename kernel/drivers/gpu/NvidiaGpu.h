#pragma once

// NVIDIA GPUs: found on PCI, identified from BAR0's PMC_BOOT_0 register and
// reported. aiSOS has no bare-metal GPU compute path; inference runs on the
// CPU, and the log says so rather than pretending otherwise.

#include "lib/pci/Pci.h"

#include <span>

namespace aisos::pci {

struct GpuInfo {
    PciAddress address;
    uint16_t vendor_id;
    uint16_t device_id;
    uint64_t bar0;
    uint32_t boot0;
    const char* name;         // product name, or the architecture when unknown
    const char* architecture; // "Ampere", ...
};

void identify_nvidia_gpu(PciConfigAccess&, const PciDevice&, const BarSet&);
std::span<const GpuInfo> gpus();

} // namespace aisos::pci
