#include "kernel/lib/Panic.h"

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/arch/x86_64/InterruptFrame.h"
#include "kernel/console/Log.h"
#include "kernel/cpu/Smp.h"
#include "kernel/lib/Format.h"
#include "kernel/lib/Symbols.h"

#include <atomic>

namespace aisos {

namespace {

std::atomic<bool> s_panicking { false };

void print(std::string_view text) { log::write_raw(text); }

template<typename... Args>
void printf_line(std::string_view format_string, const Args&... args)
{
    char line[256];
    BufferSink sink(line, sizeof(line) - 1);
    format(sink, format_string, args...);
    size_t n = sink.length();
    line[n++] = '\n';
    print({ line, n });
}

// "name+0xoff", or "??" when the address is not inside a known function.
std::string_view describe(uint64_t address, char* buffer, size_t capacity)
{
    auto symbol = symbols::lookup(address);
    if (!symbol.has_value())
        return kformat(buffer, capacity, "??");
    return kformat(buffer, capacity, "{}+{:#x}", symbol->name, symbol->offset);
}

void print_backtrace(uint64_t rbp)
{
    print("backtrace:\n");
    // Frame pointers are kept everywhere in the kernel (-fno-omit-frame-pointer);
    // only follow frames that look like kernel stack addresses.
    for (int depth = 0; depth < 32 && rbp != 0; ++depth) {
        if (rbp < 0xffff800000000000ull || (rbp & 7) != 0)
            break;
        auto* frame = reinterpret_cast<const uint64_t*>(rbp);
        uint64_t return_address = frame[1];
        if (return_address == 0)
            break;
        char name[160];
        printf_line("  #{} {:#018x} {}", depth, return_address, describe(return_address - 1, name, sizeof(name)));
        if (frame[0] <= rbp)
            break; // stacks grow down: a caller's frame is always higher
        rbp = frame[0];
    }
}

// Only the first CPU to panic reports; the others stop.
void enter_panic()
{
    cpu::disable_interrupts();
    if (s_panicking.exchange(true))
        cpu::halt_forever();
    smp::stop_other_cpus();
}

} // namespace

bool panic_in_progress() { return s_panicking.load(); }

[[noreturn]] void panic(const char* reason)
{
    enter_panic();
    uint64_t caller = reinterpret_cast<uint64_t>(__builtin_return_address(0));
    char name[160];
    printf_line("aisos: panic {} at {:#018x} in {}", reason, caller, describe(caller - 1, name, sizeof(name)));
    print_backtrace(reinterpret_cast<uint64_t>(__builtin_frame_address(0)));
    cpu::halt_forever();
}

[[noreturn]] void panic_with_location(const char* expression, const char* reason, const char* file, int line)
{
    enter_panic();
    uint64_t caller = reinterpret_cast<uint64_t>(__builtin_return_address(0));
    char name[160];
    printf_line("aisos: panic MUST({}) failed: {} ({}:{}) at {:#018x} in {}", expression, reason, file, line, caller,
        describe(caller - 1, name, sizeof(name)));
    print_backtrace(reinterpret_cast<uint64_t>(__builtin_frame_address(0)));
    cpu::halt_forever();
}

[[noreturn]] void panic_from_exception(const char* reason, const InterruptFrame& f, uint64_t fault_address, bool has_fault_address)
{
    enter_panic();
    char name[160];
    printf_line("aisos: panic {} at {:#018x} in {}", reason, f.rip, describe(f.rip, name, sizeof(name)));
    printf_line("cpu {} vector {} error {:#x}{}", smp::current_cpu_index(), f.vector, f.error_code,
        has_fault_address ? " (fault address in CR2)" : "");
    if (has_fault_address)
        printf_line("fault address: {:#018x}", fault_address);
    printf_line("rip {:#018x} cs {:#06x} rflags {:#010x}", f.rip, f.cs, f.rflags);
    printf_line("rsp {:#018x} ss {:#06x} rbp {:#018x}", f.rsp, f.ss, f.rbp);
    printf_line("rax {:#018x} rbx {:#018x} rcx {:#018x}", f.rax, f.rbx, f.rcx);
    printf_line("rdx {:#018x} rsi {:#018x} rdi {:#018x}", f.rdx, f.rsi, f.rdi);
    printf_line("r8  {:#018x} r9  {:#018x} r10 {:#018x}", f.r8, f.r9, f.r10);
    printf_line("r11 {:#018x} r12 {:#018x} r13 {:#018x}", f.r11, f.r12, f.r13);
    printf_line("r14 {:#018x} r15 {:#018x}", f.r14, f.r15);
    printf_line("cr0 {:#018x} cr3 {:#018x} cr4 {:#018x}", cpu::read_cr0(), cpu::read_cr3(), cpu::read_cr4());
    printf_line("  #0 {:#018x} {}", f.rip, describe(f.rip, name, sizeof(name)));
    print_backtrace(f.rbp);
    cpu::halt_forever();
}

} // namespace aisos
