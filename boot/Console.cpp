#include "boot/Console.h"

namespace aisos::boot {

namespace {

efi::SimpleTextOutputProtocol* s_con_out = nullptr;

constexpr uint16_t com1 = 0x3f8;
constexpr uint16_t line_status_register = 5;
constexpr uint8_t transmit_holding_empty = 0x20;

void out8(uint16_t port, uint8_t value) { asm volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
uint8_t in8(uint16_t port)
{
    uint8_t value;
    asm volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

void serial_put(char c)
{
    // Bounded wait: a machine without a UART must not hang us here.
    for (int spin = 0; spin < 100000; ++spin) {
        if (in8(com1 + line_status_register) & transmit_holding_empty)
            break;
    }
    out8(com1, static_cast<uint8_t>(c));
}

} // namespace

Line::Line()
{
    m_buffer[0] = 0;
}

void Line::put(char16_t c)
{
    // Keep room for "\r\n" and the terminator; a long line is cut, not overrun.
    if (m_length + 3 >= capacity)
        return;
    m_buffer[m_length++] = c;
    m_buffer[m_length] = 0;
}

void Line::append(const char* text)
{
    for (; text && *text; ++text)
        put(static_cast<char16_t>(static_cast<unsigned char>(*text)));
}

void Line::append(const char16_t* text)
{
    for (; text && *text; ++text)
        put(*text);
}

void Line::append(Hex hex)
{
    put('0');
    put('x');
    bool started = false;
    for (int shift = 60; shift >= 0; shift -= 4) {
        unsigned digit = (hex.value >> shift) & 0xf;
        if (digit == 0 && !started && shift != 0)
            continue;
        started = true;
        put(static_cast<char16_t>(digit < 10 ? '0' + digit : 'a' + digit - 10));
    }
}

void Line::append(Decimal decimal)
{
    char digits[20];
    int count = 0;
    uint64_t value = decimal.value;
    do {
        digits[count++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (count > 0)
        put(static_cast<char16_t>(digits[--count]));
}

void Line::append(Size size)
{
    if (size.bytes >= (16ull << 20)) {
        append(Decimal { size.bytes >> 20 });
        append(" MiB");
    } else if (size.bytes >= (16ull << 10)) {
        append(Decimal { size.bytes >> 10 });
        append(" KiB");
    } else {
        append(Decimal { size.bytes });
        append(" bytes");
    }
}

void Line::copy_ascii(char* out, uint32_t out_capacity) const
{
    uint32_t i = 0;
    for (; i + 1 < out_capacity && i < m_length; ++i)
        out[i] = m_buffer[i] < 0x80 ? static_cast<char>(m_buffer[i]) : '?';
    if (out_capacity > 0)
        out[i] = 0;
}

namespace console {

void initialize(efi::SystemTable* system_table)
{
    s_con_out = system_table ? system_table->con_out : nullptr;
}

void write_line(const Line& line)
{
    if (s_con_out == nullptr)
        return;
    s_con_out->output_string(s_con_out, line.text());
    s_con_out->output_string(s_con_out, u"\r\n");
}

void serial_line(const Line& line)
{
    char text[256];
    line.copy_ascii(text, sizeof(text));
    for (const char* c = text; *c; ++c)
        serial_put(*c);
    serial_put('\r');
    serial_put('\n');
}

} // namespace console

} // namespace aisos::boot
