#include "kernel/proc/Process.h"

#include "kernel/arch/x86_64/Gdt.h"
#include "kernel/console/Log.h"
#include "kernel/cpu/Fpu.h"
#include "kernel/mm/Heap.h"
#include "kernel/mm/KernelStacks.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/proc/UserMemory.h"
#include "lib/elf/Relocations.h"

extern "C" void proc_thread_first_entry();

namespace aisos::proc {

namespace {

constexpr size_t kernel_stack_size = 64 * 1024;
constexpr uint64_t user_rflags = 0x202; // IF, and the always-one bit

Spinlock s_registry_lock;
Process* s_processes = nullptr;
std::atomic<uint64_t> s_next_process_id { 1 };
std::atomic<uint64_t> s_next_thread_id { 1 };

// Kernel stacks are recycled rather than unmapped: the stack window is
// never reused otherwise, and threads come and go with module restarts.
Spinlock s_stack_pool_lock;
uint64_t s_free_stacks[512];
size_t s_free_stack_count = 0;

ErrorOr<uint64_t> allocate_kernel_stack()
{
    {
        SpinlockGuard guard(s_stack_pool_lock);
        if (s_free_stack_count > 0)
            return s_free_stacks[--s_free_stack_count];
    }
    return kernel_stacks::allocate(kernel_stack_size);
}

void free_kernel_stack(uint64_t top)
{
    SpinlockGuard guard(s_stack_pool_lock);
    if (s_free_stack_count < sizeof(s_free_stacks) / sizeof(s_free_stacks[0]))
        s_free_stacks[s_free_stack_count++] = top;
    // else: leaked (more than 512 threads ended at once); bounded by the window.
}

void free_thread(Thread* thread)
{
    if (thread->vector_state)
        heap::free(thread->vector_state);
    heap::destroy(thread);
}

const char* exit_kind_name(ExitKind kind)
{
    switch (kind) {
    case ExitKind::Exited: return "exited";
    case ExitKind::Crashed: return "crashed";
    case ExitKind::Killed: return "killed";
    }
    return "?";
}

} // namespace

ErrorOr<Process*> Process::create(std::string_view name, const ProcessLimits& limits)
{
    auto* process = TRY(heap::create<Process>());
    process->m_id = s_next_process_id.fetch_add(1);
    process->m_name_length = name.size() < sizeof(process->m_name) - 1 ? name.size() : sizeof(process->m_name) - 1;
    __builtin_memcpy(process->m_name, name.data(), process->m_name_length);
    process->m_limits = limits;
    auto space = AddressSpace::create(limits.max_memory);
    if (space.is_error()) {
        heap::destroy(process);
        return space.error();
    }
    process->m_space = space.value();
    SpinlockGuard guard(s_registry_lock);
    process->m_next = s_processes;
    s_processes = process;
    return process;
}

ErrorOr<void> Process::load(std::span<const uint8_t> elf)
{
    auto module = TRY(elf::validate_module(elf));
    const elf::ExecutableLayout& layout = module.layout;
    for (uint32_t i = 0; i < layout.segment_count; ++i) {
        const elf::LoadSegment& segment = layout.segments[i];
        uint64_t start = image_base + (segment.virtual_address & ~0xfffull);
        uint64_t end = image_base + segment.virtual_address + segment.memory_size;
        mm::PageFlags flags = mm::PageFlags::None;
        if (segment.flags & elf::segment_writable)
            flags = flags | mm::PageFlags::Writable;
        if (segment.flags & elf::segment_executable)
            flags = flags | mm::PageFlags::Executable;
        TRY(m_space->map_anonymous_at(start, end - start, flags, RegionKind::Image));
        TRY(m_space->write(image_base + segment.virtual_address, elf.subspan(segment.file_offset, segment.file_size)));
    }
    auto write64 = [this](uint64_t address, uint64_t value) -> ErrorOr<void> { return m_space->write64(image_base + address, value); };
    TRY(elf::apply_relocations(module.relocations, elf, image_base, write64));

    uint64_t stack = TRY(m_space->map_anonymous(main_stack_size, true, RegionKind::Stack));
    m_main_thread = TRY(create_thread(image_base + layout.entry, stack + main_stack_size, 0));
    return {};
}

void Process::start()
{
    if (m_main_thread)
        scheduler::make_runnable(*m_main_thread);
}

ErrorOr<Thread*> Process::create_thread(uint64_t entry, uint64_t stack_top, uint64_t argument)
{
    // Checked now, because a bad entry or stack would only fault in user
    // mode later, killing the whole module for one bad argument.
    if (!m_space->contains(entry, 1, AddressSpace::Access::Execute))
        return Error::invalid("thread entry is not in the module's code");
    if (stack_top % 16 != 0 || stack_top < 64 || !m_space->contains(stack_top - 64, 64, AddressSpace::Access::Write))
        return Error::invalid("thread stack top misaligned or not in writable memory");
    {
        SpinlockGuard guard(m_lock);
        if (is_killed())
            return Error { ErrorCode::Busy, "process is exiting" };
        if (m_thread_slots >= m_limits.max_threads)
            return Error { ErrorCode::Overflow, "module thread limit reached" };
        ++m_thread_slots;
    }
    auto release_slot = [this] {
        SpinlockGuard guard(m_lock);
        --m_thread_slots;
    };
    auto thread = heap::create<Thread>();
    if (thread.is_error()) {
        release_slot();
        return thread.error();
    }
    Thread* t = thread.value();
    auto vector_state = heap::allocate(fpu::state_size(), 64);
    auto stack = vector_state.is_error() ? ErrorOr<uint64_t>(vector_state.error()) : allocate_kernel_stack();
    if (vector_state.is_error() || stack.is_error()) {
        if (!vector_state.is_error())
            heap::free(vector_state.value());
        heap::destroy(t);
        release_slot();
        return stack.error();
    }
    t->id = s_next_thread_id.fetch_add(1);
    t->process = this;
    t->priority = m_limits.priority;
    t->vector_state = vector_state.value();
    fpu::load_initial_state(t->vector_state);
    t->kernel_stack_top = stack.value();
    t->user_entry = entry;
    t->user_stack = stack_top;
    t->user_argument = argument;

    // The first switch to the thread pops the callee-saved registers (R12 =
    // the argument) and returns into proc_thread_first_entry, which IRETs to
    // user mode through the frame above them.
    auto* top = reinterpret_cast<uint64_t*>(t->kernel_stack_top);
    *--top = selector::user_data;
    *--top = stack_top;
    *--top = user_rflags;
    *--top = selector::user_code;
    *--top = entry;
    *--top = reinterpret_cast<uint64_t>(proc_thread_first_entry);
    *--top = 0;        // rbp
    *--top = 0;        // rbx
    *--top = argument; // r12
    *--top = 0;        // r13
    *--top = 0;        // r14
    *--top = 0;        // r15
    t->saved_rsp = reinterpret_cast<uint64_t>(top);

    {
        SpinlockGuard guard(m_lock);
        t->next_in_process = m_threads;
        m_threads = t;
        ++m_live_threads;
    }
    if (m_main_thread) // later threads start at once; the main one at start()
        scheduler::make_runnable(*t);
    return t;
}

ErrorOr<int64_t> Process::join_thread(uint64_t thread_id)
{
    Thread* target = nullptr;
    {
        SpinlockGuard guard(m_lock);
        for (Thread* t = m_threads; t; t = t->next_in_process) {
            if (t->id == thread_id) {
                target = t;
                break;
            }
        }
        if (!target)
            return Error::not_found("no such thread");
        if (target == scheduler::current())
            return Error::invalid("a thread cannot join itself");
        if (target->joined)
            return Error { ErrorCode::Busy, "thread is already being joined" };
        target->joined = true;
    }
    WaitResult result = wait_until(m_join_queue, [target] { return target->reaped; });
    if (result != WaitResult::Ready)
        return Error { ErrorCode::Busy, "process is exiting" };
    int64_t code = target->exit_code;
    {
        SpinlockGuard guard(m_lock);
        Thread** link = &m_threads;
        while (*link != target)
            link = &(*link)->next_in_process;
        *link = target->next_in_process;
        --m_thread_slots;
    }
    free_thread(target);
    return code;
}

void Process::discard()
{
    m_exit_callback = nullptr;
    if (m_main_thread) {
        // Created but never made runnable: it holds no CPU state yet.
        free_kernel_stack(m_main_thread->kernel_stack_top);
        m_main_thread->reaped = true;
        m_main_thread = nullptr;
    }
    m_live_threads = 0;
    tear_down();
}

void Process::kill(ExitKind kind, int64_t code)
{
    SpinlockGuard guard(m_lock);
    bool expected = false;
    if (m_killed.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
        m_exit_kind = kind;
        m_exit_code = code;
    }
    for (Thread* t = m_threads; t; t = t->next_in_process)
        scheduler::wake(*t);
}

void Process::tear_down()
{
    {
        SpinlockGuard guard(s_registry_lock);
        Process** link = &s_processes;
        while (*link && *link != this)
            link = &(*link)->m_next;
        if (*link)
            *link = m_next;
    }
    Thread* thread = m_threads;
    m_threads = nullptr;
    while (thread) {
        Thread* next = thread->next_in_process;
        free_thread(thread);
        thread = next;
    }
    AddressSpace::destroy(m_space);
    m_space = nullptr;
    {
        SpinlockGuard guard(metrics_lock);
        if (metrics_text)
            heap::free(metrics_text);
        metrics_text = nullptr;
        metrics_length = 0;
    }
    log::info("proc: {} (pid {}) {} with code {}", name(), m_id, exit_kind_name(m_exit_kind), m_exit_code);
    m_dead.store(true, std::memory_order_release);
    if (m_exit_callback)
        m_exit_callback(*this, m_exit_context);
    unref();
}

void Process::unref()
{
    if (m_references.fetch_sub(1, std::memory_order_acq_rel) == 1)
        heap::destroy(this);
}

void reap_thread(Thread& thread)
{
    free_kernel_stack(thread.kernel_stack_top);
    thread.kernel_stack_top = 0;
    Process& process = *thread.process;
    bool last;
    {
        SpinlockGuard guard(process.m_lock);
        thread.reaped = true;
        last = --process.m_live_threads == 0;
    }
    process.m_join_queue.wake_all();
    if (last)
        process.tear_down();
}

[[noreturn]] void exit_thread(Thread& thread, int64_t code)
{
    thread.exit_code = code;
    scheduler::exit_current();
}

void for_each_thread_impl(void (*visit)(void*, Thread&), void* context)
{
    SpinlockGuard guard(s_registry_lock);
    for (Process* process = s_processes; process; process = process->m_next) {
        SpinlockGuard process_guard(process->m_lock);
        for (Thread* t = process->m_threads; t; t = t->next_in_process) {
            if (!t->reaped)
                visit(context, *t);
        }
    }
}

[[noreturn]] void on_user_fault(const char* description, uint64_t rip, uint64_t address)
{
    Thread& thread = *scheduler::current();
    Process& process = *thread.process;
    log::warn("proc: {} (pid {}) thread {} crashed: {} at {:#x} (address {:#x})", process.name(), process.id(), thread.id,
        description, rip - image_base, address);
    process.kill(ExitKind::Crashed, -1);
    exit_thread(thread, -1);
}

} // namespace aisos::proc
