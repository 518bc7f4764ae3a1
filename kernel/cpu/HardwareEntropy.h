#pragma once

// RDSEED/RDRAND (kernel/cpu/Random.h) as the entropy source of a CSPRNG.

#include "kernel/cpu/Random.h"
#include "lib/crypto/Csprng.h"

namespace aisos::random {

class HardwareEntropy final : public crypto::EntropySource {
public:
    ErrorOr<void> read(std::span<uint8_t> out) override
    {
        size_t i = 0;
        while (i < out.size()) {
            uint64_t value = hardware_u64();
            for (int b = 0; b < 8 && i < out.size(); ++b, ++i)
                out[i] = static_cast<uint8_t>(value >> (8 * b));
        }
        return {};
    }
};

} // namespace aisos::random
