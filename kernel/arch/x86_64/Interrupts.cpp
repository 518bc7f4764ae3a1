#include "kernel/arch/x86_64/Interrupts.h"
#include "kernel/proc/Scheduler.h"

#include "kernel/arch/x86_64/Gdt.h"
#include "kernel/cpu/Apic.h"
#include "kernel/lib/Panic.h"
#include "kernel/lib/Spinlock.h"

extern "C" const uint64_t interrupt_stub_table[256];

namespace aisos {
void handle_exception(InterruptFrame&); // Exceptions.cpp
}

namespace aisos::interrupts {

namespace {

struct [[gnu::packed]] IdtEntry {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attributes;
    uint16_t offset_middle;
    uint32_t offset_high;
    uint32_t reserved;
};
static_assert(sizeof(IdtEntry) == 16);

struct [[gnu::packed]] IdtPointer {
    uint16_t limit;
    uint64_t base;
};

alignas(16) IdtEntry s_idt[256];
struct Slot {
    Handler handler;
    void* context;
};
Slot s_handlers[256];
Spinlock s_handlers_lock;

constexpr uint8_t interrupt_gate = 0x8e; // present, ring 0, 64-bit interrupt gate

void set_gate(uint8_t vector, InterruptStack stack)
{
    uint64_t address = interrupt_stub_table[vector];
    s_idt[vector] = IdtEntry {
        static_cast<uint16_t>(address),
        selector::kernel_code,
        static_cast<uint8_t>(stack),
        interrupt_gate,
        static_cast<uint16_t>(address >> 16),
        static_cast<uint32_t>(address >> 32),
        0,
    };
}

} // namespace

void initialize_idt()
{
    for (int v = 0; v < 256; ++v)
        set_gate(static_cast<uint8_t>(v), InterruptStack::None);
    // Faults that may happen on a broken stack run on their own stacks.
    set_gate(2, InterruptStack::Nmi);
    set_gate(8, InterruptStack::DoubleFault);
    set_gate(18, InterruptStack::MachineCheck);
}

void load_idt()
{
    IdtPointer pointer { sizeof(s_idt) - 1, reinterpret_cast<uint64_t>(s_idt) };
    asm volatile("lidt %0" ::"m"(pointer));
}

void set_handler(uint8_t vector, Handler handler, void* context)
{
    SpinlockGuard guard(s_handlers_lock);
    s_handlers[vector] = { handler, context };
}

int allocate_device_vector(Handler handler, void* context)
{
    SpinlockGuard guard(s_handlers_lock);
    for (int v = vector::first_device; v <= vector::last_device; ++v) {
        if (s_handlers[v].handler == nullptr) {
            s_handlers[v] = { handler, context };
            return v;
        }
    }
    return -1;
}

} // namespace aisos::interrupts

extern "C" void interrupt_dispatch(aisos::InterruptFrame* frame)
{
    using namespace aisos;
    if (frame->vector < 32) {
        handle_exception(*frame);
        return;
    }
    auto& slot = interrupts::s_handlers[frame->vector & 0xff];
    if (slot.handler)
        slot.handler(*frame, slot.context);
    // Spurious interrupts must not be acknowledged; everything else from the
    // local APIC must be.
    if (frame->vector != interrupts::vector::spurious)
        apic::end_of_interrupt();
    // Preemption and killed-process checks happen only on the way back to
    // user mode: kernel code is never preempted.
    if (frame->from_user())
        proc::scheduler::on_return_to_user(*frame);
}
