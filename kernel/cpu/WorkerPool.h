#pragma once

// Background work for CPUs other than the network core: slow, CPU-bound
// jobs (password hashing, later checksums of large uploads) that must never
// run on the network core. Workers sleep (hlt) while the queue is empty and
// are woken by an IPI when a job arrives.

#include "lib/base/ErrorOr.h"

#include <atomic>
#include <stdint.h>

namespace aisos::worker_pool {

struct Job {
    void (*function)(Job&) { nullptr };
    std::atomic<bool> done { false };
    Job* next { nullptr }; // queue link, owned by the pool while queued
};

// Turns every online CPU except `reserved_cpu` into a worker.
void start(uint32_t reserved_cpu);
// Queues a job; its function runs on a worker, then `done` becomes true.
// Fails when no worker exists (a one-CPU machine runs the job inline).
void submit(Job&);
uint32_t worker_count();

} // namespace aisos::worker_pool
