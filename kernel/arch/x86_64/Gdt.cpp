#include "kernel/arch/x86_64/Gdt.h"

namespace aisos {

namespace {

// Long-mode code/data descriptors: base and limit are ignored, only the
// access byte and the L bit matter.
constexpr uint64_t descriptor(uint8_t access, uint8_t flags)
{
    return (static_cast<uint64_t>(access) << 40) | (static_cast<uint64_t>(flags) << 52) | 0xffffull
        | (0xfull << 48);
}

constexpr uint8_t present = 0x80, ring3 = 0x60, code_or_data = 0x10, executable = 0x08, readable_writable = 0x02;
constexpr uint8_t long_mode = 0x2, granularity_4k = 0x8, size_32 = 0x4;

struct [[gnu::packed]] DescriptorPointer {
    uint16_t limit;
    uint64_t base;
};

} // namespace

void load_gdt(Gdt& gdt, TaskStateSegment& tss, const uint64_t ist_tops[3])
{
    gdt.entries[0] = 0;
    gdt.entries[1] = descriptor(present | code_or_data | executable | readable_writable, long_mode | granularity_4k);
    gdt.entries[2] = descriptor(present | code_or_data | readable_writable, size_32 | granularity_4k);
    gdt.entries[3] = descriptor(present | ring3 | code_or_data | readable_writable, size_32 | granularity_4k);
    gdt.entries[4] = descriptor(present | ring3 | code_or_data | executable | readable_writable, long_mode | granularity_4k);

    __builtin_memset(&tss, 0, sizeof(tss));
    for (int i = 0; i < 3; ++i)
        tss.ist[i] = ist_tops[i];
    tss.io_map_base = sizeof(TaskStateSegment); // no I/O permission bitmap

    // A 64-bit TSS descriptor takes two GDT slots.
    uint64_t base = reinterpret_cast<uint64_t>(&tss);
    uint64_t limit = sizeof(TaskStateSegment) - 1;
    gdt.entries[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((limit >> 16) & 0xf) << 48)
        | (((base >> 24) & 0xff) << 56);
    gdt.entries[6] = base >> 32;

    DescriptorPointer pointer { sizeof(gdt.entries) - 1, reinterpret_cast<uint64_t>(gdt.entries) };
    asm volatile(
        "lgdt %0\n"
        "movw %1, %%ax\n"
        "movw %%ax, %%ds\n"
        "movw %%ax, %%es\n"
        "movw %%ax, %%ss\n"
        "xorl %%eax, %%eax\n"
        "movw %%ax, %%fs\n"
        // Loading GS would clear the GS base: leave it alone.
        "pushq %2\n"
        "leaq 1f(%%rip), %%rax\n"
        "pushq %%rax\n"
        "lretq\n"
        "1:\n"
        "ltr %w3\n"
        :
        : "m"(pointer), "i"(selector::kernel_data), "i"(static_cast<uint64_t>(selector::kernel_code)),
        "r"(static_cast<uint32_t>(selector::tss))
        : "rax", "memory");
}

} // namespace aisos
