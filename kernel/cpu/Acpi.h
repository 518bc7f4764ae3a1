#pragma once

// The kernel's view of ACPI: the tables lib/acpi parsed, and the two
// actions ACPI gives a server OS without an AML interpreter: power off
// (S5 via PM1 control) and reset (FADT reset register).

#include "lib/acpi/AcpiInfo.h"
#include "lib/base/ErrorOr.h"

#include <span>
#include <stdint.h>

namespace aisos::acpi {

struct IoApicInfo {
    uint32_t id;
    uint64_t address;
    uint32_t gsi_base;
};


ErrorOr<void> initialize(uint64_t rsdp_physical);

uint64_t local_apic_address();
uint64_t hpet_address(); // 0 when absent
uint8_t century_register(); // CMOS index of the RTC century, 0 when absent
std::span<const IoApicInfo> io_apics();
std::span<const EcamSegment> ecam_segments();
// Fills apic_ids with the enabled processors' APIC ids; returns how many.
uint32_t enabled_cpu_apic_ids(uint32_t* apic_ids, uint32_t capacity);

[[noreturn]] void power_off();
[[noreturn]] void reset();

} // namespace aisos::acpi
