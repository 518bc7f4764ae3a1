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
    bool msix;           // completions by MSI-X interrupt (aisos.cfg nvme_completion=msix), else polled
    const char* discard; // how freed blocks are discarded: "deallocate", "write zeroes" or "none"
};

std::span<const NamespaceInfo> namespaces();

struct Statistics {
    uint64_t interrupts;       // MSI-X completion interrupts taken
    uint64_t discard_commands; // Dataset Management / Write Zeroes commands completed
    uint64_t resets;           // controller resets after a command timeout
};
Statistics statistics();

} // namespace aisos::nvme
