#pragma once

// Everything in lib/pci, plus the short names the kernel uses.

#include "lib/pci/Bar.h"
#include "lib/pci/Capabilities.h"
#include "lib/pci/ConfigAccess.h"
#include "lib/pci/DriverMatch.h"
#include "lib/pci/Enumerate.h"
#include "lib/pci/Msi.h"
#include "lib/pci/NvidiaGpu.h"
#include "lib/pci/PciAddress.h"

namespace aisos::pci {

using ConfigAccess = PciConfigAccess;
using Device = PciDevice;

inline const char* match_driver(PciDevice const& device)
{
    return match_driver(device.vendor_id, device.device_id, device.class_code, device.subclass, device.prog_if);
}

} // namespace aisos::pci
