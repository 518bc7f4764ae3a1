#pragma once

// Kernel stacks with an unmapped guard page below each, so an overflow is
// a page fault (reported on the double-fault stack), never silent damage.

#include "kernel/mm/VirtualMemory.h"

namespace aisos::kernel_stacks {

inline ErrorOr<uint64_t> allocate(size_t size) { return virtual_memory::allocate_stack(size); }

} // namespace aisos::kernel_stacks
