// SYSCALL entry (LSTAR). The CPU has put the user RIP in RCX and RFLAGS in
// R11 and masked IF (SFMASK); RSP is still the user's. The stub switches to
// the thread's kernel stack (GS:8), builds a SyscallFrame
// (kernel/syscall/Syscall.h) and calls syscall_dispatch with interrupts on.

.section .text
.global syscall_entry
syscall_entry:
    swapgs
    movq %rsp, %gs:16
    movq %gs:8, %rsp
    pushq %gs:16        // user RSP
    pushq %r11          // user RFLAGS
    pushq %rcx          // user RIP
    pushq %rax          // call number; the result replaces it
    pushq %rdi
    pushq %rsi
    pushq %rdx
    pushq %r10
    pushq %r8
    pushq %r9
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    cld
    sti
    call syscall_dispatch
    cli
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    popq %r9
    popq %r8
    popq %r10
    popq %rdx
    popq %rsi
    popq %rdi
    popq %rax
    popq %rcx
    popq %r11
    popq %rsp
    swapgs
    sysretq
