#pragma once

// Where the CSPRNG's seed comes from. The kernel implements it with RDSEED
// (falling back to RDRAND); tests implement it with fixed or broken bytes.

#include "lib/base/ErrorOr.h"

#include <span>
#include <stdint.h>

namespace aisos::crypto {

class EntropySource {
public:
    // Fills `out` with raw samples. An error when the source cannot deliver
    // (e.g. RDSEED and RDRAND kept failing their retries).
    virtual ErrorOr<void> read(std::span<uint8_t> out) = 0;

protected:
    ~EntropySource() = default;
};

} // namespace aisos::crypto
