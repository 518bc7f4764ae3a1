#pragma once

// Background work for CPUs other than the network core: slow, CPU-bound
// jobs (password hashing) that must never run on the network core. The
// scheduler's loop on every worker CPU runs jobs before threads
// (kernel/proc/Scheduler.cpp); workers halt while there is nothing and are
// woken by an IPI when a job arrives.

#include "lib/base/ErrorOr.h"

#include <atomic>
#include <stdint.h>

namespace aisos::worker_pool {

struct Job {
    void (*function)(Job&) { nullptr };
    std::atomic<bool> done { false };
    Job* next { nullptr }; // queue link, owned by the pool while queued
};

// The scheduler registers each CPU that takes jobs.
void add_worker(uint32_t cpu_index);
// Runs one queued job on the calling CPU; false when there was none.
bool run_one();
bool has_work();
// Queues a job; its function runs on a worker, then `done` becomes true.
// Fails when no worker exists (a one-CPU machine runs the job inline).
void submit(Job&);
uint32_t worker_count();

} // namespace aisos::worker_pool
