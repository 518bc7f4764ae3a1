#pragma once

// Comparison and wiping whose timing does not depend on secret contents.

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::crypto {

// True when a and b hold the same bytes. The time depends only on the
// lengths (which are not secret: a MAC or hash has a fixed size), never on
// where the first difference is.
bool constant_time_equal(std::span<const uint8_t> a, std::span<const uint8_t> b);

// Overwrites memory with zeros in a way the compiler may not remove
// (for keys, passwords and KDF memory that is about to be freed).
void secure_zero(void* data, size_t length);

} // namespace aisos::crypto
