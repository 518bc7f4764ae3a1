#include "kernel/cpu/Fpu.h"

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/cpu/CpuFeatures.h"

namespace aisos::fpu {

namespace {

constexpr uint64_t xcr0_x87 = 1, xcr0_sse = 2, xcr0_avx = 4, xcr0_opmask = 32, xcr0_zmm_hi256 = 64,
                   xcr0_hi16_zmm = 128;
constexpr size_t max_state_size = 16384;

uint64_t s_xcr0 = 0;
size_t s_state_size = 512; // FXSAVE area when XSAVE is absent
alignas(64) uint8_t s_template[max_state_size];

bool use_xsave() { return cpu_features::has(cpu_features::Xsave); }

} // namespace

void enable_on_this_cpu()
{
    uint64_t cr0 = cpu::read_cr0();
    cr0 &= ~(1ull << 2); // EM: no x87 emulation
    cr0 &= ~(1ull << 3); // TS: no lazy switching
    cr0 |= (1ull << 1) | (1ull << 5); // MP, NE (native FPU errors)
    cpu::write_cr0(cr0);
    uint64_t cr4 = cpu::read_cr4();
    cr4 |= (1ull << 9) | (1ull << 10); // OSFXSR, OSXMMEXCPT
    if (use_xsave())
        cr4 |= (1ull << 18); // OSXSAVE
    cpu::write_cr4(cr4);
    asm volatile("fninit");
    if (use_xsave()) {
        uint64_t supported = cpu::cpuid(0xd, 0).eax | (static_cast<uint64_t>(cpu::cpuid(0xd, 0).edx) << 32);
        uint64_t want = xcr0_x87 | xcr0_sse;
        if (cpu_features::has(cpu_features::Avx))
            want |= xcr0_avx;
        if (cpu_features::has(cpu_features::Avx512F))
            want |= xcr0_opmask | xcr0_zmm_hi256 | xcr0_hi16_zmm;
        s_xcr0 = want & supported;
        cpu::xsetbv(0, s_xcr0);
    }
    // Default MXCSR: all exceptions masked, round to nearest.
    uint32_t mxcsr = 0x1f80;
    asm volatile("ldmxcsr %0" ::"m"(mxcsr));
}

void initialize_state_template()
{
    if (use_xsave()) {
        // EBX of leaf 0xD reports the size needed for the features enabled in XCR0.
        s_state_size = cpu::cpuid(0xd, 0).ebx;
        if (s_state_size > max_state_size)
            s_state_size = max_state_size;
    }
    __builtin_memset(s_template, 0, sizeof(s_template));
    save(s_template);
}

size_t state_size() { return (s_state_size + 63) & ~size_t(63); }
uint64_t enabled_mask() { return s_xcr0; }

void save(void* area)
{
    if (use_xsave())
        asm volatile("xsave64 (%0)" ::"r"(area), "a"(static_cast<uint32_t>(s_xcr0)), "d"(static_cast<uint32_t>(s_xcr0 >> 32))
                     : "memory");
    else
        asm volatile("fxsave64 (%0)" ::"r"(area) : "memory");
}

void restore(const void* area)
{
    if (use_xsave())
        asm volatile("xrstor64 (%0)" ::"r"(area), "a"(static_cast<uint32_t>(s_xcr0)), "d"(static_cast<uint32_t>(s_xcr0 >> 32))
                     : "memory");
    else
        asm volatile("fxrstor64 (%0)" ::"r"(area) : "memory");
}

void load_initial_state(void* area) { __builtin_memcpy(area, s_template, state_size()); }

ErrorOr<void> self_test()
{
    alignas(64) static uint8_t area[max_state_size];
    alignas(16) static const uint64_t pattern[2] = { 0x0123456789abcdefull, 0xfedcba9876543210ull };
    alignas(16) static uint64_t readback[2];
    asm volatile("movdqa %0, %%xmm7" ::"m"(pattern) : "xmm7");
    save(area);
    asm volatile("pxor %%xmm7, %%xmm7" ::: "xmm7");
    restore(area);
    asm volatile("movdqa %%xmm7, %0" : "=m"(readback));
    if (readback[0] != pattern[0] || readback[1] != pattern[1])
        return Error { ErrorCode::IoError, "vector state did not survive save/restore" };
    asm volatile("pxor %%xmm7, %%xmm7" ::: "xmm7");
    return {};
}

} // namespace aisos::fpu
