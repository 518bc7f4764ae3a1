#pragma once

// CPUs: per-CPU data (reached through GS), starting the application
// processors (INIT-SIPI-SIPI), and running work pinned on a given CPU.

#include "kernel/arch/x86_64/Gdt.h"
#include "lib/base/ErrorOr.h"

#include <atomic>
#include <stddef.h>
#include <stdint.h>

namespace aisos::smp {

inline constexpr uint32_t max_cpus = 256;

using WorkFunction = void (*)(void* argument);

struct PerCpu {
    PerCpu* self; // at GS:0, so this_cpu() is one load
    // Read by the SYSCALL entry stub at fixed offsets (kernel/syscall/SyscallEntry.S):
    uint64_t syscall_kernel_rsp; // GS:8, top of the running thread's kernel stack
    uint64_t syscall_user_rsp;   // GS:16, scratch for the user RSP during entry
    uint32_t index;
    uint32_t apic_id;
    uint64_t stack_top;
    std::atomic<bool> online;
    std::atomic<uint64_t> timer_ticks;
    uint64_t timer_period_tsc; // TSC-deadline mode: ticks between interrupts on this CPU
    // Work handed to this CPU by run_on(): taken by its idle loop.
    std::atomic<WorkFunction> work;
    void* work_argument;
    std::atomic<bool> busy;
    std::atomic<uint64_t> work_completed;
    Gdt gdt;
    TaskStateSegment tss;
    // The scheduler (kernel/proc): the thread running here, and the stack
    // pointer of this CPU's scheduler loop while a thread runs.
    void* current_thread;
    uint64_t scheduler_rsp;
};
static_assert(__builtin_offsetof(PerCpu, syscall_kernel_rsp) == 8);
static_assert(__builtin_offsetof(PerCpu, syscall_user_rsp) == 16);

// BSP, first thing: GS, GDT/TSS (static interrupt stacks) and IDT, so that
// every later fault is reported.
void early_initialize_bsp();
// BSP, once the APIC is known: timer, IPI handlers, online.
void initialize_bsp(uint32_t apic_id);
// Starts every other enabled CPU the MADT lists; returns the number online.
uint32_t start_application_processors(const uint32_t* apic_ids, uint32_t count);

PerCpu& this_cpu();
uint32_t current_cpu_index();
uint32_t online_count();
PerCpu* cpu(uint32_t index); // nullptr if no such CPU

// Runs function(argument) on CPU index, from that CPU's idle loop. Fails
// with Busy when the CPU is still running earlier work (a pinned loop never
// returns, so its CPU stays busy: that is how the network core is made).
ErrorOr<void> run_on(uint32_t index, WorkFunction, void* argument);
// Waits until CPU index has finished the work given by run_on.
void wait_idle(uint32_t index);

// Panic path: stop every other CPU with an NMI.
void stop_other_cpus();

// The idle loop every CPU ends in: runs handed work, otherwise halts until
// an interrupt arrives.
[[noreturn]] void idle_loop();

} // namespace aisos::smp
