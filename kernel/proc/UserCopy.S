// Copies between kernel and user memory that survive a bad user pointer:
// a page fault inside [proc_user_copy_start, proc_user_copy_end) is turned
// by the exception handler into a jump to proc_user_copy_fault, which
// returns 1 instead of 0 (see kernel/proc/UserMemory.cpp). SMAP is lifted
// (stac) only for the copy itself.

.section .text

// uint64_t proc_user_copy(void* destination, const void* source, uint64_t length)
// returns 0 on success, 1 when a user page was missing or read-only.
.global proc_user_copy
.global proc_user_copy_start
.global proc_user_copy_end
.global proc_user_copy_fault
proc_user_copy:
    movq %rdx, %rcx
    cmpb $0, proc_smap_enabled(%rip)
    je proc_user_copy_start
    stac
proc_user_copy_start:
    rep movsb
proc_user_copy_end:
    cmpb $0, proc_smap_enabled(%rip)
    je 1f
    clac
1:  xorl %eax, %eax
    ret
proc_user_copy_fault:
    cmpb $0, proc_smap_enabled(%rip)
    je 2f
    clac
2:  movl $1, %eax
    ret
