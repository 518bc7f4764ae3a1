// One entry stub per vector. Each pushes a zero error code where the CPU
// pushes none, then its vector number, and jumps to the common path, which
// saves the general registers, switches GS when coming from ring 3, and
// calls interrupt_dispatch(InterruptFrame*).

.macro STUB vector, has_error
.balign 16
interrupt_stub_\vector:
.if \has_error == 0
    pushq $0
.endif
    pushq $\vector
    jmp interrupt_common
.endm

.section .text
interrupt_common:
    // If we came from user mode, load the kernel's GS base, and clear
    // RFLAGS.AC (user mode may set it with POPF; with SMAP it would let
    // the kernel touch user memory unchecked during this interrupt).
    testq $3, 24(%rsp)
    jz 1f
    swapgs
    cmpb $0, proc_smap_enabled(%rip)
    je 1f
    clac
1:  pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    cld
    call interrupt_dispatch
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    testq $3, 24(%rsp)
    jz 2f
    swapgs
2:  addq $16, %rsp
    iretq

// Vectors 8, 10-14, 17, 21, 29, 30 carry a CPU-pushed error code.
.altmacro
.macro STUB_FOR n
.if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
    STUB \n, 1
.else
    STUB \n, 0
.endif
.endm

.set i, 0
.rept 256
    STUB_FOR %i
    .set i, i + 1
.endr

.macro STUB_ADDRESS n
    .quad interrupt_stub_\n
.endm

.section .rodata
.balign 8
.global interrupt_stub_table
interrupt_stub_table:
.set i, 0
.rept 256
    STUB_ADDRESS %i
    .set i, i + 1
.endr
