#include "kernel/cpu/Random.h"

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/cpu/CpuFeatures.h"

namespace aisos::random {

namespace {

bool rdseed(uint64_t& value)
{
    for (int attempt = 0; attempt < 100; ++attempt) {
        unsigned char ok;
        asm volatile("rdseed %0; setc %1" : "=r"(value), "=qm"(ok));
        if (ok)
            return true;
        cpu::pause();
    }
    return false;
}

bool rdrand(uint64_t& value)
{
    for (int attempt = 0; attempt < 10; ++attempt) {
        unsigned char ok;
        asm volatile("rdrand %0; setc %1" : "=r"(value), "=qm"(ok));
        if (ok)
            return true;
    }
    return false;
}

// Mixes the low bits of many TSC reads (their jitter) through splitmix64.
uint64_t tsc_jitter()
{
    uint64_t state = cpu::rdtsc();
    for (int i = 0; i < 64; ++i) {
        state += 0x9e3779b97f4a7c15ull + (cpu::rdtsc() & 0xff);
        uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        state = z ^ (z >> 31);
    }
    return state;
}

} // namespace

Source source()
{
    if (cpu_features::has(cpu_features::Rdseed))
        return Source::Rdseed;
    if (cpu_features::has(cpu_features::Rdrand))
        return Source::Rdrand;
    return Source::TscJitter;
}

const char* source_name()
{
    switch (source()) {
    case Source::Rdseed: return "rdseed";
    case Source::Rdrand: return "rdrand";
    case Source::TscJitter: return "tsc-jitter (weak)";
    }
    return "?";
}

uint64_t hardware_u64()
{
    uint64_t value = 0;
    if (cpu_features::has(cpu_features::Rdseed) && rdseed(value))
        return value;
    if (cpu_features::has(cpu_features::Rdrand) && rdrand(value))
        return value;
    return tsc_jitter();
}

} // namespace aisos::random
