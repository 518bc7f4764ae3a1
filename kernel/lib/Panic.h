#pragma once

// Panic: print what happened (the "aisos: panic <reason> at <address> in
// <function>" contract line, registers when known, a symbolized backtrace),
// stop every other CPU, and halt. Never returns.

#include <stdint.h>

namespace aisos {

struct InterruptFrame;

[[noreturn]] void panic(const char* reason);
[[noreturn]] void panic_with_location(const char* expression, const char* reason, const char* file, int line);
// From an exception handler: reason names the exception, frame has registers.
[[noreturn]] void panic_from_exception(const char* reason, const InterruptFrame& frame, uint64_t fault_address, bool has_fault_address);

} // namespace aisos
