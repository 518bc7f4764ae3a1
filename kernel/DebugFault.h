#pragma once

// Deliberate faults for testing the panic path (aisos.cfg: debug_fault=...).

namespace aisos {

enum class DebugFault { None, PageFault };

void trigger_debug_fault(DebugFault);

} // namespace aisos
