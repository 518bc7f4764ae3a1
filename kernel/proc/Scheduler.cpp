#include "kernel/proc/Scheduler.h"

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/arch/x86_64/Interrupts.h"
#include "kernel/console/Log.h"
#include "kernel/cpu/Apic.h"
#include "kernel/cpu/Fpu.h"
#include "kernel/cpu/Smp.h"
#include "kernel/cpu/Time.h"
#include "kernel/cpu/WorkerPool.h"
#include "kernel/mm/VirtualMemory.h"
#include "kernel/proc/Process.h"

extern "C" void proc_switch_context(uint64_t* save_rsp, uint64_t load_rsp);

namespace aisos::proc::scheduler {

namespace {

struct RunQueue {
    Spinlock lock;
    Thread* head[priority_levels] {};
    Thread* tail[priority_levels] {};
    std::atomic<uint32_t> length { 0 };
};

RunQueue s_queues[smp::max_cpus];
bool s_runs_threads[smp::max_cpus];
std::atomic<bool> s_idle[smp::max_cpus];
uint32_t s_cpus[smp::max_cpus];
std::atomic<uint32_t> s_cpu_count { 0 };
std::atomic<uint64_t> s_last_timeout_scan_ns { 0 };

void push(RunQueue& queue, Thread& thread)
{
    auto level = static_cast<uint32_t>(thread.priority);
    thread.next_runnable = nullptr;
    if (queue.tail[level])
        queue.tail[level]->next_runnable = &thread;
    else
        queue.head[level] = &thread;
    queue.tail[level] = &thread;
    queue.length.fetch_add(1, std::memory_order_relaxed);
}

Thread* pop(RunQueue& queue, uint32_t up_to_level = priority_levels - 1)
{
    for (uint32_t level = 0; level <= up_to_level; ++level) {
        Thread* thread = queue.head[level];
        if (!thread)
            continue;
        queue.head[level] = thread->next_runnable;
        if (!queue.head[level])
            queue.tail[level] = nullptr;
        thread->next_runnable = nullptr;
        queue.length.fetch_sub(1, std::memory_order_relaxed);
        return thread;
    }
    return nullptr;
}

bool has_waiting_at_or_above(RunQueue& queue, Priority priority)
{
    if (queue.length.load(std::memory_order_relaxed) == 0)
        return false;
    SpinlockGuard guard(queue.lock);
    for (uint32_t level = 0; level <= static_cast<uint32_t>(priority); ++level) {
        if (queue.head[level])
            return true;
    }
    return false;
}

// Queue placement is the load balancer's first half: a woken thread goes
// back to its last CPU (warm caches) unless another CPU's queue is shorter.
void enqueue(Thread& thread)
{
    uint32_t count = s_cpu_count.load(std::memory_order_acquire);
    uint32_t target = thread.last_cpu < smp::max_cpus && s_runs_threads[thread.last_cpu] ? thread.last_cpu : s_cpus[0];
    uint32_t best_length = s_queues[target].length.load(std::memory_order_relaxed) + (s_idle[target].load() ? 0 : 1);
    for (uint32_t i = 0; i < count && best_length > 0; ++i) {
        uint32_t index = s_cpus[i];
        uint32_t length = s_queues[index].length.load(std::memory_order_relaxed) + (s_idle[index].load() ? 0 : 1);
        if (length < best_length) {
            best_length = length;
            target = index;
        }
    }
    {
        SpinlockGuard guard(s_queues[target].lock);
        push(s_queues[target], thread);
    }
    if (target != smp::current_cpu_index() && s_idle[target].load(std::memory_order_acquire)) {
        if (smp::PerCpu* cpu = smp::cpu(target))
            apic::send_ipi(cpu->apic_id, interrupts::vector::ipi_wake);
    }
}

// The load balancer's second half: an idle CPU takes work from the
// longest other queue.
Thread* pick(uint32_t self)
{
    {
        SpinlockGuard guard(s_queues[self].lock);
        if (Thread* thread = pop(s_queues[self]))
            return thread;
    }
    uint32_t count = s_cpu_count.load(std::memory_order_acquire);
    uint32_t victim = smp::max_cpus, longest = 0;
    for (uint32_t i = 0; i < count; ++i) {
        uint32_t index = s_cpus[i];
        uint32_t length = s_queues[index].length.load(std::memory_order_relaxed);
        if (index != self && length > longest) {
            longest = length;
            victim = index;
        }
    }
    if (victim == smp::max_cpus)
        return nullptr;
    SpinlockGuard guard(s_queues[victim].lock);
    return pop(s_queues[victim]);
}

// Wakes threads whose timed wait expired; at most once per millisecond
// across all CPUs.
void scan_timeouts()
{
    uint64_t now = time::uptime_ns();
    uint64_t last = s_last_timeout_scan_ns.load(std::memory_order_relaxed);
    if (now - last < 1'000'000 || !s_last_timeout_scan_ns.compare_exchange_strong(last, now))
        return;
    for_each_thread([now](Thread& thread) {
        uint64_t deadline = thread.wake_deadline_ns.load(std::memory_order_relaxed);
        if (deadline != 0 && deadline <= now)
            wake(thread);
    });
}

// Runs one thread until it gives the CPU back, then files it by its state.
void run(smp::PerCpu& self, Thread& thread)
{
    cpu::disable_interrupts();
    {
        SpinlockGuard guard(thread.lock);
        thread.state = ThreadState::Running;
        thread.on_cpu = true;
    }
    self.current_thread = &thread;
    thread.last_cpu = self.index;
    thread.slice_start_tick = self.timer_ticks.load(std::memory_order_relaxed);
    self.syscall_kernel_rsp = thread.kernel_stack_top;
    self.tss.rsp[0] = thread.kernel_stack_top;
    set_active_root(self.index, thread.process->page_table_root());
    cpu::write_cr3(thread.process->page_table_root());
    fpu::restore(thread.vector_state);

    proc_switch_context(&self.scheduler_rsp, thread.saved_rsp);

    // Back on this CPU's own stack, interrupts still off.
    fpu::save(thread.vector_state);
    cpu::write_cr3(virtual_memory::kernel_root_physical());
    set_active_root(self.index, 0);
    self.current_thread = nullptr;
    ThreadState state;
    {
        SpinlockGuard guard(thread.lock);
        thread.on_cpu = false;
        state = thread.state;
        if (state == ThreadState::Runnable)
            enqueue(thread);
    }
    if (state == ThreadState::Dead)
        reap_thread(thread);
    cpu::enable_interrupts();
}

// Switches from the current thread back to this CPU's scheduler loop.
// Interrupts are off; the thread continues here when picked again.
void switch_to_scheduler(Thread& thread)
{
    proc_switch_context(&thread.saved_rsp, smp::this_cpu().scheduler_rsp);
}

bool queues_empty_for(uint32_t self)
{
    if (s_queues[self].length.load(std::memory_order_relaxed) != 0)
        return false;
    uint32_t count = s_cpu_count.load(std::memory_order_acquire);
    for (uint32_t i = 0; i < count; ++i) {
        if (s_queues[s_cpus[i]].length.load(std::memory_order_relaxed) != 0)
            return false;
    }
    return true;
}

[[noreturn]] void cpu_loop(void*)
{
    smp::PerCpu& self = smp::this_cpu();
    for (;;) {
        cpu::enable_interrupts();
        if (worker_pool::run_one())
            continue;
        scan_timeouts();
        if (Thread* thread = pick(self.index)) {
            run(self, *thread);
            continue;
        }
        // Check again with interrupts off, then halt: STI's one-instruction
        // delay means a wake-up IPI sent after the check still ends the HLT.
        cpu::disable_interrupts();
        s_idle[self.index].store(true, std::memory_order_release);
        if (!worker_pool::has_work() && queues_empty_for(self.index))
            asm volatile("sti; hlt; cli" ::: "memory");
        s_idle[self.index].store(false, std::memory_order_release);
    }
}

} // namespace

[[noreturn]] void start(uint32_t reserved_cpu)
{
    uint32_t online = smp::online_count();
    uint32_t self = smp::current_cpu_index();
    for (uint32_t index = 0; index < online; ++index) {
        if (index == reserved_cpu)
            continue;
        s_runs_threads[index] = true;
        s_cpus[s_cpu_count.load()] = index;
        s_cpu_count.fetch_add(1, std::memory_order_release);
        worker_pool::add_worker(index);
    }
    initialize_tlb_shootdown();
    log::info("scheduler: {} CPUs run module threads and kernel jobs", s_cpu_count.load());
    for (uint32_t i = 0; i < s_cpu_count.load(); ++i) {
        uint32_t index = s_cpus[i];
        if (index == self)
            continue;
        if (auto result = smp::run_on(index, cpu_loop, nullptr); result.is_error())
            log::warn("scheduler: CPU {} unavailable: {}", index, result.error().reason());
    }
    if (!s_runs_threads[self]) {
        // The caller is the reserved CPU (a one-CPU machine): it has other
        // work to do; nothing runs threads.
        smp::idle_loop();
    }
    cpu_loop(nullptr);
}

uint32_t cpu_count() { return s_cpu_count.load(std::memory_order_acquire); }

Thread* current()
{
    if (cpu::rdmsr(cpu::msr::gs_base) == 0)
        return nullptr;
    return static_cast<Thread*>(smp::this_cpu().current_thread);
}

void make_runnable(Thread& thread)
{
    SpinlockGuard guard(thread.lock);
    thread.state = ThreadState::Runnable;
    enqueue(thread);
}

bool wake(Thread& thread)
{
    SpinlockGuard guard(thread.lock);
    if (thread.state != ThreadState::Blocked)
        return false;
    thread.state = ThreadState::Runnable;
    thread.wake_deadline_ns.store(0, std::memory_order_relaxed);
    if (!thread.on_cpu)
        enqueue(thread);
    return true;
}

void prepare_to_block(uint64_t deadline_ns)
{
    Thread& thread = *current();
    thread.wake_deadline_ns.store(deadline_ns, std::memory_order_relaxed);
    thread.lock.lock();
    thread.state = ThreadState::Blocked;
    thread.lock.unlock();
}

void block()
{
    Thread& thread = *current();
    bool interrupts_were_enabled = cpu::interrupts_enabled();
    cpu::disable_interrupts();
    thread.lock.lock();
    bool still_blocked = thread.state == ThreadState::Blocked;
    thread.lock.unlock();
    if (still_blocked)
        switch_to_scheduler(thread);
    if (interrupts_were_enabled)
        cpu::enable_interrupts();
}

void yield()
{
    Thread& thread = *current();
    bool interrupts_were_enabled = cpu::interrupts_enabled();
    cpu::disable_interrupts();
    thread.lock.lock();
    thread.state = ThreadState::Runnable;
    thread.lock.unlock();
    switch_to_scheduler(thread);
    if (interrupts_were_enabled)
        cpu::enable_interrupts();
}

[[noreturn]] void exit_current()
{
    cpu::disable_interrupts();
    Thread& thread = *current();
    thread.lock.lock();
    thread.state = ThreadState::Dead;
    thread.lock.unlock();
    switch_to_scheduler(thread);
    __builtin_unreachable();
}

void on_return_to_user(InterruptFrame& frame)
{
    Thread* thread = current();
    if (!thread)
        return;
    if (frame.vector == interrupts::vector::timer) {
        scan_timeouts();
        smp::PerCpu& self = smp::this_cpu();
        bool slice_used = self.timer_ticks.load(std::memory_order_relaxed) != thread->slice_start_tick;
        if (slice_used && has_waiting_at_or_above(s_queues[self.index], thread->priority))
            yield();
    }
    if (thread->process->is_killed())
        exit_thread(*thread, 0);
}

} // namespace aisos::proc::scheduler
