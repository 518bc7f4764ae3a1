#pragma once

// Local APIC: x2APIC (MSRs) when the CPU has it, xAPIC (MMIO) otherwise.
// End of interrupt, IPIs, the AP start-up sequence, and the per-CPU timer.

#include "lib/base/ErrorOr.h"

#include <stdint.h>

namespace aisos::apic {

// BSP: chooses the mode and maps the registers. mmio_physical comes from ACPI.
ErrorOr<void> initialize(uint64_t mmio_physical);
// Every CPU (BSP included): software-enable, spurious vector, task priority 0.
void enable_on_this_cpu();
bool x2apic_mode();

uint32_t id(); // this CPU's APIC id
void end_of_interrupt();

void send_ipi(uint32_t apic_id, uint8_t vector);
void send_nmi_to_all_others();
void send_init(uint32_t apic_id);
void send_startup(uint32_t apic_id, uint8_t page); // page: trampoline physical address >> 12

// Periodic timer at hz on this CPU, delivering timer vector. Uses the
// TSC-deadline mode when the CPU has it, the APIC timer's periodic mode
// (calibrated against the TSC) otherwise.
void start_timer(uint32_t hz);
void on_timer_interrupt(); // re-arms TSC-deadline mode
uint64_t timer_ticks();    // on this CPU

} // namespace aisos::apic
