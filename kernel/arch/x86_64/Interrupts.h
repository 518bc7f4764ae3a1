#pragma once

// The IDT (shared by all CPUs) and a table of handlers per vector.
// Vectors 0-31 are CPU exceptions (handled by kernel/arch/x86_64/Exceptions.cpp);
// 32-239 are for devices (IOAPIC, MSI/MSI-X); 240-255 are the kernel's own.

#include "kernel/arch/x86_64/InterruptFrame.h"

#include <stdint.h>

namespace aisos::interrupts {

namespace vector {
inline constexpr uint8_t first_device = 0x20;
inline constexpr uint8_t last_device = 0xef;
inline constexpr uint8_t timer = 0xf0;
inline constexpr uint8_t ipi_call = 0xf1;   // run the CPU's queued work
inline constexpr uint8_t ipi_halt = 0xf2;   // panic on another CPU: stop
inline constexpr uint8_t ipi_wake = 0xf3;   // just wake from hlt
inline constexpr uint8_t ipi_tlb_flush = 0xf4; // reload CR3 (kernel/proc/AddressSpace.cpp)
inline constexpr uint8_t spurious = 0xff;
}

using Handler = void (*)(InterruptFrame&, void* context);

void initialize_idt(); // once, on the BSP
void load_idt();       // on every CPU
void set_handler(uint8_t vector, Handler, void* context);
// Finds a free device vector and installs the handler there.
int allocate_device_vector(Handler, void* context);

} // namespace aisos::interrupts
