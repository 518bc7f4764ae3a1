#pragma once

// What this CPU can do, read once from CPUID on the BSP. Feature names are
// the ones /sys/info reports.

#include <stdint.h>

namespace aisos::cpu_features {

enum Feature : uint32_t {
    Sse2, Sse3, Ssse3, Sse41, Sse42, Avx, Avx2, Fma, F16c, Avx512F, Avx512Bw, Avx512Vl, Avx512Vnni, Avx512Bf16,
    AvxVnni, Xsave, Xsaveopt, X2apic, TscDeadline, InvariantTsc, Rdrand, Rdseed, Pages1G, Nx, Smep, Smap, Pcid,
    Hypervisor, Count
};

void detect();
bool has(Feature);
const char* name(Feature);
const char* brand_string(); // e.g. "AMD EPYC 7713 64-Core Processor"

} // namespace aisos::cpu_features
