#include "boot/Handoff.h"

namespace aisos::boot {

namespace {

// Intel SDM vol. 3, 3.4.5: present, DPL 0, G=1; code: type execute/read,
// L=1 (64-bit), D=0; data: type read/write, D/B=1.
constexpr uint64_t gdt_code64 = 0x00af9a000000ffffull;
constexpr uint64_t gdt_data = 0x00cf92000000ffffull;

constexpr uint32_t msr_efer = 0xc0000080;

} // namespace

void write_handoff_gdt(uint64_t* gdt, GdtPointer* pointer, uint64_t gdt_virtual)
{
    gdt[0] = 0;
    gdt[handoff_code_selector / 8] = gdt_code64;
    gdt[handoff_data_selector / 8] = gdt_data;
    pointer->limit = 3 * sizeof(uint64_t) - 1;
    pointer->base = gdt_virtual;
}

void jump_to_kernel(uint64_t cr3, uint64_t stack_pointer, uint64_t boot_info, uint64_t entry, uint64_t gdt_pointer_virtual)
{
    // Fixed registers so that the instructions below, which clobber RAX,
    // RCX and RDX (RDMSR/WRMSR), can never overwrite an input.
    register uint64_t new_cr3 asm("r8") = cr3;
    register uint64_t new_stack asm("r9") = stack_pointer;
    register uint64_t gdtr asm("r10") = gdt_pointer_virtual;
    register uint64_t kernel_entry asm("r11") = entry;
    register uint64_t argument asm("rdi") = boot_info;
    asm volatile(
        "cli\n"
        // EFER.NXE before CR3: the new tables use the NX bit, which is
        // reserved (and faults) while NXE is clear.
        "movl %[efer], %%ecx\n"
        "rdmsr\n"
        "orl $0x800, %%eax\n"
        "wrmsr\n"
        "movq %%r8, %%cr3\n"
        "movq %%cr0, %%rax\n"
        "orq $0x10000, %%rax\n" // CR0.WP: ring 0 honours read-only pages too
        "movq %%rax, %%cr0\n"
        "lgdt (%%r10)\n"
        "movq %%r9, %%rsp\n"
        // Reload CS with a far return onto the kernel's stack, which pops
        // both words again: RSP ends where it started.
        "pushq %[code]\n"
        "leaq 1f(%%rip), %%rax\n"
        "pushq %%rax\n"
        "lretq\n"
        "1:\n"
        "movl %[data], %%eax\n"
        "movl %%eax, %%ds\n"
        "movl %%eax, %%es\n"
        "movl %%eax, %%ss\n"
        "xorl %%eax, %%eax\n"
        "movl %%eax, %%fs\n"
        "movl %%eax, %%gs\n"
        "xorl %%ebp, %%ebp\n"
        "jmpq *%%r11\n"
        :
        : "r"(new_cr3), "r"(new_stack), "r"(gdtr), "r"(kernel_entry), "r"(argument),
        [efer] "i"(msr_efer), [code] "i"(handoff_code_selector), [data] "i"(handoff_data_selector)
        : "rax", "rcx", "rdx", "memory");
    __builtin_unreachable();
}

} // namespace aisos::boot
