#pragma once

// A PCI function's address: segment (ECAM group), bus, device, function.

#include <stddef.h>
#include <stdint.h>

namespace aisos::pci {

struct PciAddress {
    uint16_t segment { 0 };
    uint8_t bus { 0 };
    uint8_t device { 0 };   // 0..31
    uint8_t function { 0 }; // 0..7

    constexpr bool operator==(PciAddress const&) const = default;

    // "bb:dd.f", or "ssss:bb:dd.f" outside segment 0 (lspci style, lower
    // case hex). Writes at most `size` bytes including the NUL; returns the
    // length written without it.
    size_t format(char* buffer, size_t size) const;
};

// Longest output of PciAddress::format plus its NUL.
inline constexpr size_t pci_address_text_size = 13;

} // namespace aisos::pci
