#pragma once

// A thread of a user-mode process: its kernel stack (syscalls and
// interrupts from user mode run on it), the saved kernel stack pointer
// while it is switched out, and its vector-register state.
//
// State changes go through the scheduler under the thread's own lock:
//   Running  --preempted-->  Runnable --picked--> Running
//   Running  --waits------>  Blocked  --woken---> Runnable
//   Running  --exits------>  Dead (reaped by the scheduler, kept as a zombie
//                            for thread_join until joined or the process ends)

#include "kernel/lib/Spinlock.h"

#include <atomic>
#include <stdint.h>

namespace aisos::proc {

class Process;

enum class ThreadState : uint8_t { Runnable, Running, Blocked, Dead };

// Strict priority between levels (a Low thread runs only when no High or
// Normal one is runnable on that CPU); round robin within a level.
enum class Priority : uint8_t { High = 0, Normal = 1, Low = 2 };
inline constexpr uint32_t priority_levels = 3;

struct Thread {
    uint64_t id { 0 };
    Process* process { nullptr };

    Spinlock lock; // state and on_cpu
    ThreadState state { ThreadState::Runnable };
    bool on_cpu { false }; // its registers live on a CPU or mid-switch
    Priority priority { Priority::Normal };
    uint32_t last_cpu { ~0u };

    uint64_t saved_rsp { 0 };        // while switched out
    uint64_t kernel_stack_top { 0 };
    void* vector_state { nullptr };  // XSAVE area
    uint64_t slice_start_tick { 0 };

    // Where a new thread starts in user mode.
    uint64_t user_entry { 0 };
    uint64_t user_stack { 0 };
    uint64_t user_argument { 0 };

    // Timed waits: the scheduler's timer scan wakes Blocked threads whose
    // deadline passed (0 = none).
    std::atomic<uint64_t> wake_deadline_ns { 0 };

    int64_t exit_code { 0 };
    bool joined { false };   // someone is joining or joined it
    bool reaped { false };   // the scheduler freed its stack (a zombie now)

    Thread* next_runnable { nullptr };   // run queue link
    Thread* next_in_process { nullptr }; // the process's thread list
    Thread* next_waiting { nullptr };    // wait queue link
    Thread* previous_waiting { nullptr };
    void* waiting_on { nullptr };        // the WaitQueue it is linked into
    uint64_t futex_key { 0 };            // user address it waits on (futex)
};

} // namespace aisos::proc
