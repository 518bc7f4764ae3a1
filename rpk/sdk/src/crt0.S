/*
 * aiSOS module start-up. The kernel has already applied the module's
 * R_X86_64_RELATIVE relocations, mapped a 1 MiB stack and entered here in
 * ring 3 with RSP 16-byte aligned, no return address, no argc/argv and every
 * other register zero.
 */
/* abi.h holds C declarations and cannot be included here; start.c checks
 * with _Static_assert that this number matches it. */
#define SYS_EXIT 0

    .text

    .globl _start
    .type _start, @function
_start:
    xorl %ebp, %ebp                 /* the outermost frame, for debuggers */
    /* RSP is 16-byte aligned here; a call pushes 8, so the callee sees the
     * alignment the SysV ABI promises (RSP+8 aligned at its entry). */
    call __aisos_run_constructors
    call main
    movslq %eax, %rdi               /* main's int becomes the exit code */
    movl $SYS_EXIT, %eax
    syscall
    ud2                             /* exit never returns */
    .size _start, . - _start

/*
 * New threads (AISOS_SYS_THREAD_CREATE) begin here with RDI = the argument
 * and RSP = stack_top exactly (16-byte aligned). __aisos_thread_main never
 * returns: it ends the thread with AISOS_SYS_THREAD_EXIT.
 */
    .globl __aisos_thread_entry
    .hidden __aisos_thread_entry
    .type __aisos_thread_entry, @function
__aisos_thread_entry:
    xorl %ebp, %ebp
    call __aisos_thread_main
    ud2
    .size __aisos_thread_entry, . - __aisos_thread_entry

    .section .note.GNU-stack, "", @progbits
