#pragma once

// NVIDIA GPU identification from the PMC_BOOT_0 register (BAR0 + 0): bits
// 28:20 are the chipset id (e.g. 0x172 = GA102), bits 7:0 the revision; the
// architecture follows from chipset & 0x1f0 (as nouveau and envytools
// document it). Plus a small device-id -> product table for common
// datacenter and workstation cards.

#include "lib/base/ErrorOr.h"

#include <stdint.h>

namespace aisos::pci {

inline constexpr uint32_t nvidia_pmc_boot_0 = 0x000000;

enum class NvidiaArchitecture : uint8_t {
    Unknown,
    Tesla,
    Fermi,
    Kepler,
    Maxwell,
    Pascal,
    Volta,
    Turing,
    Ampere,
    Hopper,
    Ada,
    Blackwell,
};

struct NvidiaChip {
    uint32_t boot0;
    uint16_t chipset;      // bits 28:20
    uint8_t implementation; // chipset & 0xf: the chip within the family
    uint8_t revision;      // bits 7:0 (0xa1 = A1 stepping)
    NvidiaArchitecture architecture;
    const char* architecture_name; // "Ampere", ... "unknown"
    const char* chip_name;         // "GA102", or null when not in our table
};

// Corrupt for all-ones (BAR not decoding / device gone) and zero;
// Unsupported for chips older than the NV50 (Tesla) register layout.
ErrorOr<NvidiaChip> decode_pmc_boot0(uint32_t boot0);

const char* nvidia_architecture_name(NvidiaArchitecture);

// Product name for an NVIDIA PCI device id ("L40S"), or null.
const char* nvidia_product_name(uint16_t device_id);

} // namespace aisos::pci
