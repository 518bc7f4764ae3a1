#include "kernel/cpu/WorkerPool.h"

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/arch/x86_64/Interrupts.h"
#include "kernel/console/Log.h"
#include "kernel/cpu/Apic.h"
#include "kernel/cpu/Smp.h"
#include "kernel/lib/Spinlock.h"

namespace aisos::worker_pool {

namespace {

Spinlock s_lock;
Job* s_head = nullptr;
Job* s_tail = nullptr;
uint32_t s_workers[smp::max_cpus];
std::atomic<uint32_t> s_worker_count { 0 };

Job* pop()
{
    SpinlockGuard guard(s_lock);
    Job* job = s_head;
    if (job) {
        s_head = job->next;
        if (!s_head)
            s_tail = nullptr;
        job->next = nullptr;
    }
    return job;
}

void run(Job& job)
{
    job.function(job);
    job.done.store(true, std::memory_order_release);
}

} // namespace

void add_worker(uint32_t cpu_index) { s_workers[s_worker_count.fetch_add(1)] = cpu_index; }

bool run_one()
{
    Job* job = pop();
    if (!job)
        return false;
    run(*job);
    return true;
}

bool has_work()
{
    SpinlockGuard guard(s_lock);
    return s_head != nullptr;
}

void submit(Job& job)
{
    job.done.store(false, std::memory_order_relaxed);
    job.next = nullptr;
    if (s_worker_count.load() == 0) {
        run(job);
        return;
    }
    {
        SpinlockGuard guard(s_lock);
        if (s_tail)
            s_tail->next = &job;
        else
            s_head = &job;
        s_tail = &job;
    }
    // Wake every worker: the first one to look takes the job.
    uint32_t count = s_worker_count.load();
    for (uint32_t i = 0; i < count; ++i) {
        if (smp::PerCpu* cpu = smp::cpu(s_workers[i]))
            apic::send_ipi(cpu->apic_id, interrupts::vector::ipi_wake);
    }
}

uint32_t worker_count() { return s_worker_count.load(); }

} // namespace aisos::worker_pool
