#pragma once

#include <stdint.h>

namespace aisos {

// The stack layout built by InterruptStubs.S: general registers pushed by
// the common stub, then the vector and error code (0 when the CPU pushes
// none), then what the CPU pushed.
struct InterruptFrame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error_code;
    uint64_t rip, cs, rflags, rsp, ss;

    bool from_user() const { return (cs & 3) == 3; }
};

} // namespace aisos
