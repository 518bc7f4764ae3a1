#include "kernel/cpu/Smp.h"

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/arch/x86_64/Interrupts.h"
#include "kernel/console/Log.h"
#include "kernel/cpu/Apic.h"
#include "kernel/cpu/Fpu.h"
#include "kernel/cpu/Time.h"
#include "kernel/lib/Panic.h"
#include "kernel/mm/KernelStacks.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/mm/VirtualMemory.h"
#include "kernel/syscall/Syscall.h"

extern "C" const uint8_t ap_trampoline_start[];
extern "C" const uint8_t ap_trampoline_end[];
extern "C" const uint8_t ap_trampoline_data[];

namespace aisos::smp {

namespace {

constexpr uint64_t trampoline_physical = 0x8000;
constexpr size_t kernel_stack_size = 64 * 1024;
constexpr size_t interrupt_stack_size = 16 * 1024;
constexpr uint32_t timer_hz = 100;

PerCpu s_cpus[max_cpus];
std::atomic<uint32_t> s_cpu_count { 0 };

struct TrampolineData {
    uint64_t cr3;
    uint64_t stack;
    uint64_t per_cpu;
    uint64_t entry;
};

// Every CPU's own GDT/TSS (with stacks for double faults, NMIs and machine
// checks) and GS base pointing at its PerCpu.
ErrorOr<void> setup_cpu_tables(PerCpu& cpu)
{
    cpu::wrmsr(cpu::msr::gs_base, reinterpret_cast<uint64_t>(&cpu));
    cpu::wrmsr(cpu::msr::kernel_gs_base, 0);
    uint64_t ist[3];
    for (auto& top : ist)
        top = TRY(kernel_stacks::allocate(interrupt_stack_size));
    load_gdt(cpu.gdt, cpu.tss, ist);
    interrupts::load_idt();
    return {};
}

void timer_interrupt(InterruptFrame&, void*) { apic::on_timer_interrupt(); }
void ipi_nothing(InterruptFrame&, void*) { }

extern "C" [[noreturn]] void ap_entry(PerCpu* cpu)
{
    if (setup_cpu_tables(*cpu).is_error())
        cpu::halt_forever();
    virtual_memory::configure_this_cpu();
    fpu::enable_on_this_cpu();
    syscall::enable_on_this_cpu();
    apic::enable_on_this_cpu();
    apic::start_timer(timer_hz);
    cpu->online.store(true, std::memory_order_release);
    idle_loop();
}

bool wait_online(PerCpu& cpu, uint64_t microseconds)
{
    uint64_t step = 100;
    for (uint64_t waited = 0; waited < microseconds; waited += step) {
        if (cpu.online.load(std::memory_order_acquire))
            return true;
        time::busy_wait_us(step);
    }
    return cpu.online.load(std::memory_order_acquire);
}

} // namespace

void early_initialize_bsp()
{
    // Before memory management exists: static interrupt stacks for the BSP.
    alignas(16) static uint8_t ist_stacks[3][interrupt_stack_size];
    PerCpu& bsp = s_cpus[0];
    bsp.self = &bsp;
    bsp.index = 0;
    cpu::wrmsr(cpu::msr::gs_base, reinterpret_cast<uint64_t>(&bsp));
    cpu::wrmsr(cpu::msr::kernel_gs_base, 0);
    uint64_t ist[3];
    for (int i = 0; i < 3; ++i)
        ist[i] = reinterpret_cast<uint64_t>(ist_stacks[i] + interrupt_stack_size);
    load_gdt(bsp.gdt, bsp.tss, ist);
    interrupts::initialize_idt();
    interrupts::load_idt();
}

void initialize_bsp(uint32_t apic_id)
{
    PerCpu& bsp = s_cpus[0];
    bsp.apic_id = apic_id;
    interrupts::set_handler(interrupts::vector::timer, timer_interrupt, nullptr);
    interrupts::set_handler(interrupts::vector::ipi_call, ipi_nothing, nullptr);
    interrupts::set_handler(interrupts::vector::ipi_wake, ipi_nothing, nullptr);
    apic::enable_on_this_cpu();
    apic::start_timer(timer_hz);
    bsp.online.store(true);
    s_cpu_count.store(1);
}

uint32_t start_application_processors(const uint32_t* apic_ids, uint32_t count)
{
    uint64_t cr3 = cpu::read_cr3();
    if (cr3 >= (1ull << 32)) {
        log::error("smp: page tables above 4 GiB, APs cannot start");
        return online_count();
    }
    size_t trampoline_size = ap_trampoline_end - ap_trampoline_start;
    virtual_memory::map_identity_page(trampoline_physical);
    auto* trampoline = static_cast<uint8_t*>(physical_memory::to_virtual(trampoline_physical));
    __builtin_memcpy(trampoline, ap_trampoline_start, trampoline_size);
    auto* data = reinterpret_cast<volatile TrampolineData*>(trampoline + (ap_trampoline_data - ap_trampoline_start));

    uint32_t bsp_id = s_cpus[0].apic_id;
    for (uint32_t i = 0; i < count; ++i) {
        if (apic_ids[i] == bsp_id)
            continue;
        uint32_t index = s_cpu_count.load();
        if (index >= max_cpus) {
            log::warn("smp: more than {} CPUs, ignoring the rest", max_cpus);
            break;
        }
        PerCpu& cpu = s_cpus[index];
        cpu.self = &cpu;
        cpu.index = index;
        cpu.apic_id = apic_ids[i];
        auto stack = kernel_stacks::allocate(kernel_stack_size);
        if (stack.is_error()) {
            log::error("smp: no memory for CPU {}'s stack", index);
            break;
        }
        cpu.stack_top = stack.value();
        data->cr3 = cr3;
        data->stack = cpu.stack_top;
        data->per_cpu = reinterpret_cast<uint64_t>(&cpu);
        data->entry = reinterpret_cast<uint64_t>(&ap_entry);
        asm volatile("mfence" ::: "memory");

        // Intel SDM vol. 3, 8.4.4.1: INIT, 10 ms, SIPI, 200 us, SIPI.
        apic::send_init(cpu.apic_id);
        time::busy_wait_us(10000);
        apic::send_startup(cpu.apic_id, trampoline_physical >> 12);
        if (!wait_online(cpu, 200)) {
            apic::send_startup(cpu.apic_id, trampoline_physical >> 12);
            // Emulated CPUs can take a long time to come up: wait generously.
            if (!wait_online(cpu, 5'000'000)) {
                log::error("smp: CPU with APIC id {} did not start", cpu.apic_id);
                continue;
            }
        }
        s_cpu_count.fetch_add(1);
        log::debug("smp: CPU {} (APIC id {}) online", index, cpu.apic_id);
    }
    virtual_memory::unmap_identity_page(trampoline_physical);
    return online_count();
}

PerCpu& this_cpu()
{
    PerCpu* self;
    asm volatile("movq %%gs:0, %0" : "=r"(self));
    return *self;
}

uint32_t current_cpu_index()
{
    // Before GS is set up (early boot, panics), we are the BSP.
    if (cpu::rdmsr(cpu::msr::gs_base) == 0)
        return 0;
    return this_cpu().index;
}

uint32_t online_count()
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s_cpu_count.load(); ++i)
        n += s_cpus[i].online.load() ? 1 : 0;
    return n;
}

PerCpu* cpu(uint32_t index) { return index < s_cpu_count.load() ? &s_cpus[index] : nullptr; }

ErrorOr<void> run_on(uint32_t index, WorkFunction function, void* argument)
{
    PerCpu* target = cpu(index);
    if (!target || !target->online.load())
        return Error::not_found("no such CPU online");
    bool expected = false;
    if (!target->busy.compare_exchange_strong(expected, true))
        return Error { ErrorCode::Busy, "CPU is running other work" };
    target->work_argument = argument;
    target->work.store(function, std::memory_order_release);
    if (target != &this_cpu())
        apic::send_ipi(target->apic_id, interrupts::vector::ipi_wake);
    return {};
}

void wait_idle(uint32_t index)
{
    PerCpu* target = cpu(index);
    if (!target)
        return;
    while (target->busy.load(std::memory_order_acquire))
        cpu::pause();
}

void stop_other_cpus()
{
    if (s_cpu_count.load() > 1)
        apic::send_nmi_to_all_others();
}

[[noreturn]] void idle_loop()
{
    PerCpu& self = this_cpu();
    for (;;) {
        cpu::disable_interrupts();
        WorkFunction work = self.work.exchange(nullptr, std::memory_order_acquire);
        if (work) {
            cpu::enable_interrupts();
            work(self.work_argument);
            self.work_completed.fetch_add(1);
            self.busy.store(false, std::memory_order_release);
            continue;
        }
        // STI takes effect after the next instruction, so an IPI that
        // arrives now still wakes the HLT: no lost wake-up.
        asm volatile("sti; hlt" ::: "memory");
    }
}

} // namespace aisos::smp
