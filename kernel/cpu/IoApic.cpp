#include "kernel/cpu/IoApic.h"

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/lib/Spinlock.h"
#include "kernel/mm/Mmio.h"

namespace aisos::ioapic {

namespace {

constexpr uint32_t max_ioapics = 16;
constexpr uint32_t register_version = 0x01;
constexpr uint32_t register_redirection_base = 0x10;
constexpr uint64_t redirection_masked = 1ull << 16;

struct IoApic {
    volatile uint32_t* mmio;
    uint32_t id;
    uint32_t gsi_base;
    uint32_t lines;
};

IoApic s_ioapics[max_ioapics];
uint32_t s_count = 0;
Spinlock s_lock;

// Indirect access: select a register through IOREGSEL (offset 0), then
// read/write it through IOWIN (offset 0x10).
uint32_t read(const IoApic& io, uint32_t reg)
{
    io.mmio[0] = reg;
    return io.mmio[4];
}
void write(const IoApic& io, uint32_t reg, uint32_t value)
{
    io.mmio[0] = reg;
    io.mmio[4] = value;
}
void write_redirection(const IoApic& io, uint32_t line, uint64_t entry)
{
    write(io, register_redirection_base + line * 2 + 1, static_cast<uint32_t>(entry >> 32));
    write(io, register_redirection_base + line * 2, static_cast<uint32_t>(entry));
}

IoApic* find(uint32_t gsi)
{
    for (uint32_t i = 0; i < s_count; ++i) {
        if (gsi >= s_ioapics[i].gsi_base && gsi < s_ioapics[i].gsi_base + s_ioapics[i].lines)
            return &s_ioapics[i];
    }
    return nullptr;
}

} // namespace

void disable_legacy_pic()
{
    // Remap the 8259s away from the exception vectors first (a spurious
    // PIC interrupt must never look like a CPU exception), then mask them.
    cpu::outb(0x20, 0x11);
    cpu::outb(0xa0, 0x11);
    cpu::outb(0x21, 0x20);
    cpu::outb(0xa1, 0x28);
    cpu::outb(0x21, 0x04);
    cpu::outb(0xa1, 0x02);
    cpu::outb(0x21, 0x01);
    cpu::outb(0xa1, 0x01);
    cpu::outb(0x21, 0xff);
    cpu::outb(0xa1, 0xff);
}

ErrorOr<void> add(uint32_t id, uint64_t physical, uint32_t gsi_base)
{
    SpinlockGuard guard(s_lock);
    if (s_count == max_ioapics)
        return Error { ErrorCode::OutOfRange, "too many I/O APICs" };
    auto* mmio = static_cast<volatile uint32_t*>(TRY(mmio::map(physical, 0x20)));
    IoApic io { mmio, id, gsi_base, 0 };
    io.lines = ((read(io, register_version) >> 16) & 0xff) + 1;
    for (uint32_t line = 0; line < io.lines; ++line)
        write_redirection(io, line, redirection_masked);
    s_ioapics[s_count++] = io;
    return {};
}

ErrorOr<void> route(uint32_t gsi, uint8_t vector, uint32_t destination_apic_id, Polarity polarity, Trigger trigger)
{
    SpinlockGuard guard(s_lock);
    IoApic* io = find(gsi);
    if (!io)
        return Error::not_found("no I/O APIC serves this GSI");
    if (destination_apic_id > 0xff)
        return Error::unsupported("I/O APIC destination above 255 needs interrupt remapping");
    uint64_t entry = vector;
    if (polarity == Polarity::ActiveLow)
        entry |= 1ull << 13;
    if (trigger == Trigger::Level)
        entry |= 1ull << 15;
    entry |= static_cast<uint64_t>(destination_apic_id) << 56;
    write_redirection(*io, gsi - io->gsi_base, entry);
    return {};
}

ErrorOr<void> mask(uint32_t gsi)
{
    SpinlockGuard guard(s_lock);
    IoApic* io = find(gsi);
    if (!io)
        return Error::not_found("no I/O APIC serves this GSI");
    write_redirection(*io, gsi - io->gsi_base, redirection_masked);
    return {};
}

uint32_t count() { return s_count; }

} // namespace aisos::ioapic
