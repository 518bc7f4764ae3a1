#include "kernel/cpu/Apic.h"

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/arch/x86_64/Interrupts.h"
#include "kernel/cpu/CpuFeatures.h"
#include "kernel/cpu/Smp.h"
#include "kernel/cpu/Time.h"
#include "kernel/mm/Mmio.h"

namespace aisos::apic {

namespace {

// Register offsets in xAPIC MMIO space; the x2APIC MSR is 0x800 + offset/16.
enum Register : uint32_t {
    Id = 0x020,
    TaskPriority = 0x080,
    Eoi = 0x0b0,
    SpuriousVector = 0x0f0,
    InterruptCommandLow = 0x300,
    InterruptCommandHigh = 0x310,
    LvtTimer = 0x320,
    LvtLint0 = 0x350,
    LvtLint1 = 0x360,
    LvtError = 0x370,
    TimerInitialCount = 0x380,
    TimerCurrentCount = 0x390,
    TimerDivide = 0x3e0,
};

constexpr uint32_t lvt_masked = 1u << 16;
constexpr uint32_t timer_periodic = 1u << 17;
constexpr uint32_t timer_tsc_deadline = 2u << 17;
constexpr uint32_t icr_delivery_pending = 1u << 12;
constexpr uint32_t icr_level_assert = 1u << 14;
constexpr uint32_t icr_delivery_init = 5u << 8;
constexpr uint32_t icr_delivery_startup = 6u << 8;
constexpr uint32_t icr_delivery_nmi = 4u << 8;
constexpr uint32_t icr_all_excluding_self = 3u << 18;

bool s_x2apic = false;
volatile uint8_t* s_mmio = nullptr;
uint64_t s_apic_ticks_per_second = 0; // APIC timer at divide-by-16, calibrated once

uint32_t read(Register reg)
{
    if (s_x2apic)
        return static_cast<uint32_t>(cpu::rdmsr(0x800 + (reg >> 4)));
    return *reinterpret_cast<volatile uint32_t*>(s_mmio + reg);
}

void write(Register reg, uint32_t value)
{
    if (s_x2apic) {
        cpu::wrmsr(0x800 + (reg >> 4), value);
        return;
    }
    *reinterpret_cast<volatile uint32_t*>(s_mmio + reg) = value;
}

// One IPI. In x2APIC mode the ICR is a single 64-bit MSR write.
void write_icr(uint32_t destination, uint32_t command)
{
    if (s_x2apic) {
        cpu::wrmsr(0x830, (static_cast<uint64_t>(destination) << 32) | command);
        return;
    }
    write(InterruptCommandHigh, destination << 24);
    write(InterruptCommandLow, command);
    for (int spins = 0; spins < 1000000 && (read(InterruptCommandLow) & icr_delivery_pending); ++spins)
        cpu::pause();
}

} // namespace

ErrorOr<void> initialize(uint64_t mmio_physical)
{
    s_x2apic = cpu_features::has(cpu_features::X2apic);
    if (!s_x2apic) {
        if (mmio_physical == 0)
            return Error::not_found("no local APIC address");
        s_mmio = static_cast<volatile uint8_t*>(TRY(mmio::map(mmio_physical, 0x1000)));
    }
    return {};
}

bool x2apic_mode() { return s_x2apic; }

void enable_on_this_cpu()
{
    uint64_t base = cpu::rdmsr(cpu::msr::apic_base);
    base |= 1ull << 11; // global enable
    if (s_x2apic)
        base |= 1ull << 10;
    cpu::wrmsr(cpu::msr::apic_base, base);
    write(TaskPriority, 0);
    write(SpuriousVector, 0x100 | interrupts::vector::spurious);
    write(LvtError, lvt_masked);
}

uint32_t id()
{
    uint32_t value = read(Id);
    return s_x2apic ? value : value >> 24;
}

void end_of_interrupt() { write(Eoi, 0); }

void send_ipi(uint32_t apic_id, uint8_t vector) { write_icr(apic_id, vector); }

void send_nmi_to_all_others() { write_icr(0, icr_all_excluding_self | icr_delivery_nmi | icr_level_assert); }

void send_init(uint32_t apic_id) { write_icr(apic_id, icr_delivery_init | icr_level_assert); }

void send_startup(uint32_t apic_id, uint8_t page) { write_icr(apic_id, icr_delivery_startup | icr_level_assert | page); }

void start_timer(uint32_t hz)
{
    auto& self = smp::this_cpu();
    self.timer_period_tsc = time::tsc_frequency_hz() / hz;
    if (cpu_features::has(cpu_features::TscDeadline)) {
        write(LvtTimer, timer_tsc_deadline | interrupts::vector::timer);
        cpu::wrmsr(cpu::msr::tsc_deadline, cpu::rdtsc() + self.timer_period_tsc);
        return;
    }
    // Calibrate the APIC timer against the TSC once (10 ms, divide by 16);
    // the BSP does it before any AP starts.
    if (s_apic_ticks_per_second == 0) {
        write(TimerDivide, 0x3);
        write(LvtTimer, lvt_masked);
        write(TimerInitialCount, 0xffffffff);
        time::busy_wait_us(10000);
        uint32_t elapsed = 0xffffffff - read(TimerCurrentCount);
        write(TimerInitialCount, 0);
        s_apic_ticks_per_second = static_cast<uint64_t>(elapsed) * 100;
    }
    uint64_t count = s_apic_ticks_per_second / hz;
    write(TimerDivide, 0x3);
    write(LvtTimer, timer_periodic | interrupts::vector::timer);
    write(TimerInitialCount, static_cast<uint32_t>(count ? count : 1));
}

void on_timer_interrupt()
{
    auto& self = smp::this_cpu();
    self.timer_ticks.fetch_add(1, std::memory_order_relaxed);
    if (cpu_features::has(cpu_features::TscDeadline))
        cpu::wrmsr(cpu::msr::tsc_deadline, cpu::rdtsc() + self.timer_period_tsc);
}

uint64_t timer_ticks() { return smp::this_cpu().timer_ticks.load(std::memory_order_relaxed); }

} // namespace aisos::apic
