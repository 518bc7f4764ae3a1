#pragma once

// Which aiSOS driver handles a PCI function. Rows are tried in order, the
// first match wins, so exact vendor/device rows come before class rows.
// Adding a device is adding a row.

#include <span>
#include <stdint.h>

namespace aisos::pci {

inline constexpr uint32_t match_any = 0xffffffffu;

struct DriverMatch {
    uint32_t vendor_id { match_any };
    uint32_t device_id { match_any };
    uint32_t class_code { match_any };
    uint32_t subclass { match_any };
    uint32_t prog_if { match_any };
    const char* driver;
};

// Driver name for a function, or null when no driver claims it.
const char* match_driver(uint16_t vendor_id, uint16_t device_id, uint8_t class_code, uint8_t subclass, uint8_t prog_if);

std::span<const DriverMatch> driver_table();

} // namespace aisos::pci
