#pragma once

// SSE/AVX/AVX-512 enablement and per-thread vector state (XSAVE).
// Kernel code itself never uses vector registers (-mgeneral-regs-only);
// the state belongs to user-mode threads and is saved and restored on
// context switches with save()/restore().

#include "lib/base/ErrorOr.h"

#include <stddef.h>
#include <stdint.h>

namespace aisos::fpu {

// On every CPU, before anything touches vector registers.
void enable_on_this_cpu();
// Once, on the BSP after enable: sizes the save area and captures the
// initial (clean) state new threads start from.
void initialize_state_template();

size_t state_size();   // bytes of an XSAVE area (64-byte aligned)
uint64_t enabled_mask(); // XCR0
void save(void* area);  // area: state_size() bytes, 64-byte aligned
void restore(const void* area);
void load_initial_state(void* area); // copies the clean template into area

// Saves state, clobbers the registers, restores, and checks they came back.
ErrorOr<void> self_test();

} // namespace aisos::fpu
