#pragma once

// I/O APICs: legacy and device interrupt lines (GSIs) routed to a CPU and
// vector. All lines start masked; the 8259 PICs are masked for good.

#include "lib/base/ErrorOr.h"

#include <stdint.h>

namespace aisos::ioapic {

enum class Polarity : uint8_t { ActiveHigh, ActiveLow };
enum class Trigger : uint8_t { Edge, Level };

void disable_legacy_pic();
ErrorOr<void> add(uint32_t id, uint64_t physical, uint32_t gsi_base); // from the MADT
ErrorOr<void> route(uint32_t gsi, uint8_t vector, uint32_t destination_apic_id, Polarity, Trigger);
ErrorOr<void> mask(uint32_t gsi);
uint32_t count();

} // namespace aisos::ioapic
