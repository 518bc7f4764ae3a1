#pragma once

// The last step of the loader: a GDT of its own, the switch to the kernel's
// page tables and stack, and the jump. See lib/boot/BootInfo.h for the
// contract this fulfils.

#include <stdint.h>

namespace aisos::boot {

// Segment selectors the kernel finds loaded at entry.
inline constexpr uint16_t handoff_code_selector = 0x08; // 64-bit ring-0 code
inline constexpr uint16_t handoff_data_selector = 0x10; // ring-0 data (DS, ES, SS); FS and GS are null

struct [[gnu::packed]] GdtPointer {
    uint16_t limit;
    uint64_t base;
};

// Writes a three-entry GDT (null, code, data) at `gdt` (24 bytes) and a
// descriptor for it at `pointer` whose base is `gdt_virtual`, the address
// under which the kernel's page tables map `gdt`.
void write_handoff_gdt(uint64_t* gdt, GdtPointer* pointer, uint64_t gdt_virtual);

// With interrupts off: sets EFER.NXE, loads `cr3`, sets CR0.WP, loads the
// GDT at `gdt_pointer_virtual`, reloads the segment registers, switches to
// `stack_pointer`, clears RBP and jumps to `entry` with RDI = `boot_info`.
// Runs from the loader's identity-mapped code, which the new tables map.
[[noreturn]] void jump_to_kernel(uint64_t cr3, uint64_t stack_pointer, uint64_t boot_info, uint64_t entry, uint64_t gdt_pointer_virtual);

} // namespace aisos::boot
