#pragma once

// Base address registers: decoding and sizing (PCI Local Bus 3.0 6.2.5.1).
// Sizing writes all ones and reads back which address bits stick, with I/O
// and memory decode switched off in the command register meanwhile (so the
// device never decodes the transient all-ones address) and everything
// restored afterwards.

#include "lib/pci/ConfigAccess.h"

namespace aisos::pci {

enum class BarKind : uint8_t {
    None,     // not implemented (reads back zero), or the upper half of a 64-bit BAR
    Io,
    Memory32,
    Memory64,
    Invalid,  // a 64-bit BAR in the last slot, or a reserved type
};

struct Bar {
    BarKind kind { BarKind::None };
    bool prefetchable { false };
    uint64_t address { 0 }; // as programmed by firmware
    uint64_t size { 0 };

    bool is_memory() const { return kind == BarKind::Memory32 || kind == BarKind::Memory64; }
};

inline constexpr size_t max_bars = 6;

struct BarSet {
    size_t count { 0 }; // 6 for general devices, 2 for bridges
    Bar bars[max_bars] {};
};

// Decodes and sizes every BAR of a type 0 or type 1 function.
BarSet read_bars(PciConfigAccess&, PciAddress);

// Decodes one BAR (index 0..5) without sizing it.
Bar decode_bar(PciConfigAccess&, PciAddress, size_t index);

} // namespace aisos::pci
