#pragma once

// Hardware randomness for seeding: RDSEED, then RDRAND, each retried as
// Intel recommends; without either, a TSC-jitter fallback that is logged as
// weak. (The users issue builds its CSPRNG on top of this.)

#include <stdint.h>

namespace aisos::random {

enum class Source { Rdseed, Rdrand, TscJitter };

uint64_t hardware_u64();
Source source();
const char* source_name();

} // namespace aisos::random
