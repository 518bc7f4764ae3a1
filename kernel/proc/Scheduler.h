#pragma once

// The preemptive SMP scheduler. Every CPU except the network core runs
// cpu_loop(): kernel jobs from the worker pool first (password hashing),
// then threads from its own run queue, then threads stolen from the
// busiest other queue; it halts when there is nothing. A thread runs until
// it blocks, yields, exits, or the timer finds another runnable thread of
// at least its priority waiting on that CPU (10 ms slices at 100 Hz).
//
// Threads run in user mode; in the kernel (syscalls) they are not
// preempted, only block explicitly. The scheduler loop runs on each CPU's
// own boot stack with the kernel's page tables, so nothing it does depends
// on a process that may be going away.

#include "kernel/arch/x86_64/InterruptFrame.h"
#include "kernel/proc/Thread.h"

#include <stdint.h>

namespace aisos::proc::scheduler {

// Starts the scheduler on every online CPU except reserved_cpu (the network
// core; smp::max_cpus for none). The calling CPU becomes one of them and
// never returns.
[[noreturn]] void start(uint32_t reserved_cpu);

uint32_t cpu_count(); // CPUs that run threads

Thread* current(); // nullptr outside a thread (scheduler loop, network core)

// A new thread (state Runnable, not on a CPU) joins a run queue.
void make_runnable(Thread&);
// Blocked -> Runnable; false when it was not blocked.
bool wake(Thread&);

// The current thread: mark Blocked (with an optional monotonic deadline
// after which the timer wakes it), then block() switches away unless a
// wake came in between. Called with interrupts off.
void prepare_to_block(uint64_t deadline_ns);
void block();
void yield();
[[noreturn]] void exit_current();

// From the interrupt path, after EOI, when returning to user mode.
void on_return_to_user(InterruptFrame&);

} // namespace aisos::proc::scheduler
