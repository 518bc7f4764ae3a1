#pragma once

// Futex wait queues shared by FutexWait.cpp and FutexWake.cpp: a fixed
// table of buckets hashed by (process, user address). Threads of different
// processes may share a bucket; the key keeps their wakes apart (a rare
// collision only causes a spurious wake-up, which futex users tolerate).

#include "kernel/proc/WaitQueue.h"

#include <stdint.h>

namespace aisos::syscall::futex {

inline constexpr uint32_t bucket_count = 64;

uint64_t key(uint64_t process_id, uint64_t address);
proc::WaitQueue& bucket(uint64_t key);

} // namespace aisos::syscall::futex
