#include "kernel/DebugFault.h"

#include "kernel/console/Log.h"

#include <stdint.h>

namespace aisos {

// An address in the never-mapped low half: the write must page-fault, and the
// panic report must name this address and this function.
static constexpr uintptr_t debug_fault_address = 0xdead0000;

[[gnu::noinline]] void debug_fault_write_unmapped_page()
{
    log::info("debug_fault: writing to unmapped address {:#x} on purpose", debug_fault_address);
    *reinterpret_cast<volatile uint64_t*>(debug_fault_address) = 0x5a5a5a5a;
}

void trigger_debug_fault(DebugFault fault)
{
    switch (fault) {
    case DebugFault::None:
        return;
    case DebugFault::PageFault:
        debug_fault_write_unmapped_page();
        return;
    }
}

} // namespace aisos
