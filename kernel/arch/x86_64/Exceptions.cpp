// CPU exceptions. In user mode they kill the module (kernel/proc); in the
// kernel only a page fault inside the user-copy routine is recovered (it
// becomes -EFAULT); anything else becomes a panic report naming the
// exception, the faulting address and the function.

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/arch/x86_64/InterruptFrame.h"
#include "kernel/lib/Format.h"
#include "kernel/lib/Panic.h"
#include "kernel/proc/Process.h"
#include "kernel/proc/UserMemory.h"

namespace aisos {

bool panic_in_progress(); // Panic.cpp

namespace {

const char* exception_name(uint64_t vector)
{
    static const char* const names[32] = {
        "divide error", "debug", "non-maskable interrupt", "breakpoint", "overflow", "bound range exceeded",
        "invalid opcode", "device not available", "double fault", "coprocessor segment overrun", "invalid TSS",
        "segment not present", "stack-segment fault", "general protection fault", "page fault", "reserved (15)",
        "x87 floating-point error", "alignment check", "machine check", "SIMD floating-point error",
        "virtualization exception", "control protection exception", "reserved (22)", "reserved (23)",
        "reserved (24)", "reserved (25)", "reserved (26)", "reserved (27)", "hypervisor injection",
        "VMM communication", "security exception", "reserved (31)",
    };
    return vector < 32 ? names[vector] : "unknown";
}

} // namespace

void handle_exception(InterruptFrame& frame)
{
    // Another CPU panicked and sent us an NMI: stop here, quietly.
    if (frame.vector == 2 && panic_in_progress())
        cpu::halt_forever();

    char reason[160];
    if (frame.from_user()) {
        // A module's fault ends the module, never the kernel.
        if (frame.vector == 14)
            kformat(reason, sizeof(reason), "page fault ({} {})", (frame.error_code & 1) ? "protection violation," : "page not present,",
                (frame.error_code & 16) ? "instruction fetch" : ((frame.error_code & 2) ? "write" : "read"));
        else
            kformat(reason, sizeof(reason), "{}", exception_name(frame.vector));
        proc::on_user_fault(reason, frame.rip, frame.vector == 14 ? cpu::read_cr2() : 0);
    }
    // A bad pointer a module passed to a syscall: the copy routine's fault
    // becomes its error return.
    if (frame.vector == 14 && proc::fix_up_user_copy_fault(frame.rip))
        return;
    if (frame.vector == 14) {
        uint64_t address = cpu::read_cr2();
        uint64_t e = frame.error_code;
        kformat(reason, sizeof(reason), "page fault ({} {} in {} mode{}) accessing {:#018x}",
            (e & 1) ? "protection violation," : "page not present,", (e & 16) ? "instruction fetch" : ((e & 2) ? "write" : "read"),
            (e & 4) ? "user" : "kernel", (e & 8) ? ", reserved bit set" : "", address);
        panic_from_exception(reason, frame, address, true);
    }
    if (frame.error_code != 0)
        kformat(reason, sizeof(reason), "{} (error code {:#x})", exception_name(frame.vector), frame.error_code);
    else
        kformat(reason, sizeof(reason), "{}", exception_name(frame.vector));
    panic_from_exception(reason, frame, 0, false);
}

} // namespace aisos
