#pragma once

// Maps device registers (uncached) into the kernel's MMIO window.

#include "lib/base/ErrorOr.h"

#include <stddef.h>
#include <stdint.h>

namespace aisos::mmio {

ErrorOr<void*> map(uint64_t physical, size_t size);

} // namespace aisos::mmio
