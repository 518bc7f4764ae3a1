#pragma once

// Per-CPU GDT and TSS. Layout is fixed by SYSCALL/SYSRET: user data must
// sit 8 bytes below user code (STAR[63:48] = 0x10).

#include <stdint.h>

namespace aisos {

namespace selector {
inline constexpr uint16_t kernel_code = 0x08;
inline constexpr uint16_t kernel_data = 0x10;
inline constexpr uint16_t user_data = 0x18 | 3;
inline constexpr uint16_t user_code = 0x20 | 3;
inline constexpr uint16_t tss = 0x28;
}

// Interrupt stack table slots (1-based, as the IDT encodes them).
enum class InterruptStack : uint8_t { None = 0, DoubleFault = 1, Nmi = 2, MachineCheck = 3 };

struct [[gnu::packed]] TaskStateSegment {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t io_map_base;
};
static_assert(sizeof(TaskStateSegment) == 104);

struct alignas(16) Gdt {
    uint64_t entries[7];
};

// Fills gdt/tss and loads them on the calling CPU. ist_tops[i] is the top of
// the stack for IST slot i+1.
void load_gdt(Gdt& gdt, TaskStateSegment& tss, const uint64_t ist_tops[3]);

} // namespace aisos
