#include "kernel/console/Serial.h"

#include "kernel/arch/x86_64/Cpu.h"

namespace aisos::serial {

namespace {

constexpr uint16_t com1 = 0x3f8;
enum Register : uint16_t {
    Data = 0,
    InterruptEnable = 1,
    FifoControl = 2,
    LineControl = 3,
    ModemControl = 4,
    LineStatus = 5,
    Scratch = 7,
};
constexpr uint8_t line_status_transmit_empty = 0x20;

bool s_present = false;

void put(char c)
{
    // Bounded wait: a wedged or absent UART must not hang the kernel.
    for (int spins = 0; spins < 100000; ++spins) {
        if (cpu::inb(com1 + LineStatus) & line_status_transmit_empty)
            break;
        cpu::pause();
    }
    cpu::outb(com1 + Data, static_cast<uint8_t>(c));
}

} // namespace

void initialize()
{
    // A UART answers the scratch register; without one, writes are dropped.
    cpu::outb(com1 + Scratch, 0xa5);
    if (cpu::inb(com1 + Scratch) != 0xa5)
        return;
    cpu::outb(com1 + InterruptEnable, 0x00);
    cpu::outb(com1 + LineControl, 0x80); // divisor latch access
    cpu::outb(com1 + Data, 0x01);        // 115200 baud (divisor 1)
    cpu::outb(com1 + InterruptEnable, 0x00);
    cpu::outb(com1 + LineControl, 0x03); // 8 bits, no parity, one stop bit
    cpu::outb(com1 + FifoControl, 0xc7); // enable and clear FIFOs, 14-byte threshold
    cpu::outb(com1 + ModemControl, 0x03); // DTR + RTS
    s_present = true;
}

bool is_present() { return s_present; }

void write(const char* data, size_t length)
{
    if (!s_present)
        return;
    for (size_t i = 0; i < length; ++i) {
        if (data[i] == '\n')
            put('\r');
        put(data[i]);
    }
}

} // namespace aisos::serial
