#pragma once

// NVMe (base specification 1.4): the driver's view for the rest of the
// kernel. Each namespace of each controller is a block::BlockDevice.

#include "lib/block/BlockDevice.h"

#include <span>
#include <stdint.h>

namespace aisos::nvme {

struct NamespaceInfo {
    const char* model;  // the controller's model number, trimmed
    const char* serial; // the controller's serial number, trimmed
    uint32_t nsid;
    uint64_t size_bytes;
    block::BlockDevice* device;
};

std::span<const NamespaceInfo> namespaces();

} // namespace aisos::nvme
