#include "kernel/cpu/CpuFeatures.h"

#include "kernel/arch/x86_64/Cpu.h"

namespace aisos::cpu_features {

namespace {

bool s_has[Count];
char s_brand[49];

const char* const s_names[Count] = {
    "sse2", "sse3", "ssse3", "sse4.1", "sse4.2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
    "avx512vnni", "avx512bf16", "avxvnni", "xsave", "xsaveopt", "x2apic", "tsc-deadline", "invariant-tsc", "rdrand",
    "rdseed", "1g-pages", "nx", "smep", "smap", "pcid", "hypervisor",
};

bool bit(uint32_t value, int n) { return (value >> n) & 1; }

} // namespace

void detect()
{
    auto leaf0 = cpu::cpuid(0);
    uint32_t max_leaf = leaf0.eax;
    auto leaf1 = cpu::cpuid(1);
    s_has[Sse2] = bit(leaf1.edx, 26);
    s_has[Sse3] = bit(leaf1.ecx, 0);
    s_has[Ssse3] = bit(leaf1.ecx, 9);
    s_has[Fma] = bit(leaf1.ecx, 12);
    s_has[Sse41] = bit(leaf1.ecx, 19);
    s_has[Sse42] = bit(leaf1.ecx, 20);
    s_has[X2apic] = bit(leaf1.ecx, 21);
    s_has[TscDeadline] = bit(leaf1.ecx, 24);
    s_has[Xsave] = bit(leaf1.ecx, 26);
    s_has[Avx] = bit(leaf1.ecx, 28);
    s_has[F16c] = bit(leaf1.ecx, 29);
    s_has[Rdrand] = bit(leaf1.ecx, 30);
    s_has[Hypervisor] = bit(leaf1.ecx, 31);
    s_has[Pcid] = bit(leaf1.ecx, 17);
    if (max_leaf >= 7) {
        auto leaf7 = cpu::cpuid(7, 0);
        s_has[Avx2] = bit(leaf7.ebx, 5);
        s_has[Smep] = bit(leaf7.ebx, 7);
        s_has[Avx512F] = bit(leaf7.ebx, 16);
        s_has[Rdseed] = bit(leaf7.ebx, 18);
        s_has[Smap] = bit(leaf7.ebx, 20);
        s_has[Avx512Bw] = bit(leaf7.ebx, 30);
        s_has[Avx512Vl] = bit(leaf7.ebx, 31);
        s_has[Avx512Vnni] = bit(leaf7.ecx, 11);
        auto leaf7_1 = cpu::cpuid(7, 1);
        s_has[AvxVnni] = bit(leaf7_1.eax, 4);
        s_has[Avx512Bf16] = bit(leaf7_1.eax, 5);
    }
    if (max_leaf >= 0xd)
        s_has[Xsaveopt] = bit(cpu::cpuid(0xd, 1).eax, 0);
    uint32_t max_extended = cpu::cpuid(0x80000000).eax;
    if (max_extended >= 0x80000001) {
        auto e1 = cpu::cpuid(0x80000001);
        s_has[Nx] = bit(e1.edx, 20);
        s_has[Pages1G] = bit(e1.edx, 26);
    }
    if (max_extended >= 0x80000007)
        s_has[InvariantTsc] = bit(cpu::cpuid(0x80000007).edx, 8);
    if (max_extended >= 0x80000004) {
        for (uint32_t i = 0; i < 3; ++i) {
            auto r = cpu::cpuid(0x80000002 + i);
            uint32_t words[4] = { r.eax, r.ebx, r.ecx, r.edx };
            __builtin_memcpy(s_brand + i * 16, words, 16);
        }
        s_brand[48] = 0;
    }
}

bool has(Feature feature) { return feature < Count && s_has[feature]; }
const char* name(Feature feature) { return feature < Count ? s_names[feature] : "?"; }

const char* brand_string()
{
    const char* b = s_brand;
    while (*b == ' ')
        ++b;
    return *b ? b : "unknown x86_64";
}

} // namespace aisos::cpu_features
