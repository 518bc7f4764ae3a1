#include "kernel/cpu/Time.h"

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/mm/Mmio.h"

namespace aisos::time {

namespace {

uint64_t s_tsc_hz = 0;
uint64_t s_tsc_at_boot = 0;
const char* s_source = "none";

// HPET registers (IA-PC HPET specification 1.0a, section 2.3).
constexpr uint64_t hpet_capabilities = 0x000;
constexpr uint64_t hpet_configuration = 0x010;
constexpr uint64_t hpet_main_counter = 0x0f0;

// Measures TSC ticks over ~10 ms of HPET time.
uint64_t calibrate_with_hpet(volatile uint8_t* hpet)
{
    auto read64 = [&](uint64_t offset) { return *reinterpret_cast<volatile uint64_t*>(hpet + offset); };
    auto write64 = [&](uint64_t offset, uint64_t value) { *reinterpret_cast<volatile uint64_t*>(hpet + offset) = value; };
    uint64_t period_fs = read64(hpet_capabilities) >> 32; // femtoseconds per tick
    if (period_fs == 0 || period_fs > 100000000) // spec: at most 100 ns
        return 0;
    write64(hpet_configuration, read64(hpet_configuration) | 1); // ENABLE_CNF
    uint64_t ticks = 10'000'000'000'000ull / period_fs;            // 10 ms
    uint64_t start_counter = read64(hpet_main_counter);
    uint64_t start_tsc = cpu::rdtsc();
    uint64_t now;
    uint64_t spins = 0;
    while ((now = read64(hpet_main_counter)) - start_counter < ticks) {
        if (++spins > 1'000'000'000ull)
            return 0; // counter not running
    }
    uint64_t end_tsc = cpu::rdtsc();
    uint64_t elapsed_fs = (now - start_counter) * period_fs;
    // tsc_hz = tsc_ticks / seconds = tsc_ticks * 1e15 / elapsed_fs, without overflow.
    return static_cast<uint64_t>((static_cast<unsigned __int128>(end_tsc - start_tsc) * 1'000'000'000'000'000ull) / elapsed_fs);
}

// PIT channel 2 one-shot, gated through port 0x61: counts 11932 ticks of
// 1.193182 MHz (~10 ms) and reads the TSC around it.
uint64_t calibrate_with_pit()
{
    constexpr uint32_t pit_hz = 1193182;
    constexpr uint16_t count = 11932;
    uint8_t gate = cpu::inb(0x61);
    cpu::outb(0x61, (gate & ~0x02) | 0x01); // speaker off, gate on
    cpu::outb(0x43, 0xb0);                  // channel 2, lobyte/hibyte, mode 0
    cpu::outb(0x42, count & 0xff);
    cpu::outb(0x42, count >> 8);
    // Restart the count by toggling the gate.
    gate = cpu::inb(0x61);
    cpu::outb(0x61, gate & ~0x01);
    cpu::outb(0x61, gate | 0x01);
    uint64_t start = cpu::rdtsc();
    uint64_t spins = 0;
    while (!(cpu::inb(0x61) & 0x20)) { // OUT2 goes high at terminal count
        if (++spins > 1'000'000'000ull)
            return 0;
    }
    uint64_t end = cpu::rdtsc();
    return (end - start) * pit_hz / count;
}

} // namespace

void calibrate(uint64_t hpet_physical)
{
    s_tsc_at_boot = cpu::rdtsc();
    uint64_t hz = 0;
    if (hpet_physical != 0) {
        auto mapping = mmio::map(hpet_physical, 0x400);
        if (!mapping.is_error()) {
            hz = calibrate_with_hpet(static_cast<volatile uint8_t*>(mapping.value()));
            if (hz)
                s_source = "hpet";
        }
    }
    if (hz == 0) {
        hz = calibrate_with_pit();
        s_source = "pit";
    }
    if (hz == 0) {
        hz = 1'000'000'000; // last resort: assume 1 GHz rather than divide by zero
        s_source = "assumed";
    }
    s_tsc_hz = hz;
}

uint64_t tsc_frequency_hz() { return s_tsc_hz; }
const char* calibration_source() { return s_source; }

uint64_t uptime_ns()
{
    if (s_tsc_hz == 0)
        return 0;
    uint64_t ticks = cpu::rdtsc() - s_tsc_at_boot;
    return static_cast<uint64_t>(static_cast<unsigned __int128>(ticks) * 1'000'000'000ull / s_tsc_hz);
}

void busy_wait_us(uint64_t microseconds)
{
    uint64_t hz = s_tsc_hz ? s_tsc_hz : 1'000'000'000;
    uint64_t target = cpu::rdtsc() + hz / 1'000'000 * microseconds;
    while (static_cast<int64_t>(cpu::rdtsc() - target) < 0)
        cpu::pause();
}

} // namespace aisos::time
