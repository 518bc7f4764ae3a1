// Kernel entry from boot/ (see lib/boot/BootInfo.h for the contract):
// RDI = BootInfo (direct-map address). Switch to the kernel's own boot stack
// and call kernel_main; it never returns.
.section .text.entry, "ax"
.global _start
.type _start, @function
_start:
    cli
    cld
    leaq boot_stack_top(%rip), %rsp
    xorl %ebp, %ebp
    call kernel_main
1:  cli
    hlt
    jmp 1b
.size _start, . - _start

.section .bss
.balign 4096
.global boot_stack_bottom
boot_stack_bottom:
    .skip 64 * 1024
.global boot_stack_top
boot_stack_top:
