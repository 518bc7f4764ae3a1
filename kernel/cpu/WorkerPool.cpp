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

[[noreturn]] void worker_loop(void*)
{
    for (;;) {
        if (Job* job = pop()) {
            run(*job);
            continue;
        }
        // Check again with interrupts off, then halt: STI's one-instruction
        // delay means a wake-up IPI sent after the check still ends the HLT.
        cpu::disable_interrupts();
        bool empty;
        {
            s_lock.lock();
            empty = s_head == nullptr;
            s_lock.unlock();
        }
        if (empty)
            asm volatile("sti; hlt" ::: "memory");
        else
            cpu::enable_interrupts();
    }
}

} // namespace

void start(uint32_t reserved_cpu)
{
    uint32_t count = smp::online_count();
    for (uint32_t index = 0; index < count; ++index) {
        if (index == reserved_cpu)
            continue;
        auto result = smp::run_on(index, worker_loop, nullptr);
        if (result.is_error()) {
            log::warn("workers: CPU {} unavailable: {}", index, result.error().reason());
            continue;
        }
        s_workers[s_worker_count.fetch_add(1)] = index;
    }
    log::info("workers: {} CPUs take background jobs", s_worker_count.load());
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
