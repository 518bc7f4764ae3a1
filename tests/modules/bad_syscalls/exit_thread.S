/* A thread entry that never touches its stack: it ends the thread at once.
 * thread_create calls with a bad stack_top use it, so a kernel that wrongly
 * accepts one shows up as an unexpected success in the report instead of a
 * page fault that kills the module before it can report anything else. */
    .text
    .globl bad_syscalls_exit_thread
    .hidden bad_syscalls_exit_thread
    .type bad_syscalls_exit_thread, @function
bad_syscalls_exit_thread:
    movl $5, %eax       /* AISOS_SYS_THREAD_EXIT (bad_syscalls.c checks the number) */
    xorl %edi, %edi
    syscall
    ud2
    .size bad_syscalls_exit_thread, . - bad_syscalls_exit_thread

    .section .note.GNU-stack, "", @progbits
