#pragma once

// Messages from the loader: one line each, prefixed "aisos-boot: ", written
// through the firmware's ConOut (OVMF mirrors it to the serial console, real
// firmware usually to screen and serial). Only usable before
// ExitBootServices; after it, serial_line() writes straight to COM1.

#include "boot/Efi.h"

#include <stdint.h>

namespace aisos::boot {

struct Hex {
    uint64_t value;
};
struct Decimal {
    uint64_t value;
};
// A size printed in a unit a human reads at a glance (bytes, KiB or MiB).
struct Size {
    uint64_t bytes;
};

class Line {
public:
    Line();
    void append(const char* text);
    void append(const char16_t* text);
    void append(Hex);
    void append(Decimal);
    void append(Size);

    const char16_t* text() const { return m_buffer; }
    // The line as 8-bit characters (every character we produce is ASCII).
    void copy_ascii(char* out, uint32_t capacity) const;

private:
    void put(char16_t);

    static constexpr uint32_t capacity = 256;
    char16_t m_buffer[capacity];
    uint32_t m_length { 0 };
};

namespace console {

void initialize(efi::SystemTable*);
void write_line(const Line&);
// Polls COM1 directly: for the few words that must get out after
// ExitBootServices, when the firmware console is gone.
void serial_line(const Line&);

} // namespace console

template<typename... Parts>
void say(Parts... parts)
{
    Line line;
    line.append("aisos-boot: ");
    (line.append(parts), ...);
    console::write_line(line);
}

template<typename... Parts>
void say_after_exit(Parts... parts)
{
    Line line;
    line.append("aisos-boot: ");
    (line.append(parts), ...);
    console::serial_line(line);
}

} // namespace aisos::boot
