// Kernel stack switching between the scheduler loop and threads, and the
// first entry of a new thread into user mode.

.section .text

// void proc_switch_context(uint64_t* save_rsp, uint64_t load_rsp)
// Saves the callee-saved registers on the current stack, stores RSP in
// *save_rsp, loads load_rsp and restores the registers saved there. The
// caller-saved ones are the compiler's business; RFLAGS.IF is the caller's
// (interrupts are off across every switch).
.global proc_switch_context
proc_switch_context:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

// Where a new thread's first switch "returns" to: its kernel stack holds an
// IRET frame (RIP, CS, RFLAGS, RSP, SS) for its user entry, and R12 the
// argument for RDI. Every other register starts at zero so nothing of the
// kernel leaks to user mode.
.global proc_thread_first_entry
proc_thread_first_entry:
    movq %r12, %rdi
    xorl %eax, %eax
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %esi, %esi
    xorl %ebp, %ebp
    xorl %r8d, %r8d
    xorl %r9d, %r9d
    xorl %r10d, %r10d
    xorl %r11d, %r11d
    xorl %r12d, %r12d
    xorl %r13d, %r13d
    xorl %r14d, %r14d
    xorl %r15d, %r15d
    swapgs
    iretq
