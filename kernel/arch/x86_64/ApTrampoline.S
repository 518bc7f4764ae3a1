// Application processor start-up code. The BSP copies the bytes between
// ap_trampoline_start and ap_trampoline_end to physical 0x8000 (SIPI vector
// 0x08) and fills the data block at its end; each AP then walks real mode →
// protected mode → long mode and jumps to ap_entry(PerCpu*) in the higher
// half. Everything here is addressed relative to 0x8000.

#define TRAMPOLINE_BASE 0x8000
#define ABS(label) (TRAMPOLINE_BASE + (label - ap_trampoline_start))

.section .rodata.ap_trampoline, "a"
.code16
.global ap_trampoline_start
ap_trampoline_start:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    lgdtl ABS(trampoline_gdt_pointer)
    movl %cr0, %eax
    orl $1, %eax              // PE
    movl %eax, %cr0
    ljmpl $0x08, $ABS(protected_mode)

.code32
protected_mode:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $(1 << 5), %eax       // PAE
    movl %eax, %cr4
    movl ABS(ap_data_cr3), %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx    // EFER
    rdmsr
    orl $((1 << 8) | (1 << 11)), %eax // LME, NXE
    wrmsr
    movl %cr0, %eax
    orl $((1 << 31) | (1 << 16)), %eax // PG, WP
    movl %eax, %cr0
    ljmpl $0x18, $ABS(long_mode)

.code64
long_mode:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movq ABS(ap_data_stack), %rsp
    movq ABS(ap_data_per_cpu), %rdi
    movq ABS(ap_data_entry), %rax
    xorl %ebp, %ebp
    pushq $0                  // fake return address: backtraces stop here
    jmpq *%rax

.balign 8
trampoline_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff  // 0x08: 32-bit code
    .quad 0x00cf92000000ffff  // 0x10: data
    .quad 0x00af9a000000ffff  // 0x18: 64-bit code
trampoline_gdt_pointer:
    .word trampoline_gdt_pointer - trampoline_gdt - 1
    .long ABS(trampoline_gdt)

// Filled in by the BSP for each AP (offsets exported below).
.balign 8
.global ap_trampoline_data
ap_trampoline_data:
ap_data_cr3: .quad 0
ap_data_stack: .quad 0
ap_data_per_cpu: .quad 0
ap_data_entry: .quad 0
.global ap_trampoline_end
ap_trampoline_end:
