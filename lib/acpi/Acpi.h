#pragma once

// ACPI table discovery and parsing: RSDP -> XSDT (or RSDT) -> MADT, MCFG,
// FADT (-> DSDT and SSDTs for \_S5_), HPET.
//
// Physical memory is reached through AcpiMemory, so the kernel can hand out
// direct-map pointers and tests can hand out buffers. Every length and
// offset is checked against the table that contains it; a table with a bad
// checksum or impossible length is skipped and recorded in
// AcpiInfo::problems, never trusted.

#include "lib/acpi/AcpiInfo.h"
#include "lib/base/ErrorOr.h"

#include <span>

namespace aisos::acpi {

class AcpiMemory {
public:
    // Pointer to `length` readable bytes at physical address `physical`,
    // or null when that memory cannot be reached.
    virtual const uint8_t* map(uint64_t physical, size_t length) = 0;

protected:
    ~AcpiMemory() = default;
};

// Tables larger than this are refused (a DSDT is rarely above 1 MiB).
inline constexpr uint32_t max_table_length = 16 * 1024 * 1024;

// Walks everything from the RSDP. Fails only when the RSDP or both root
// tables are unusable; problems with individual tables are recorded.
ErrorOr<void> parse_acpi(uint64_t rsdp_physical, AcpiMemory&, AcpiInfo& out);

// Checks signature, length (against the buffer) and checksum of one table.
ErrorOr<void> validate_table(std::span<const uint8_t> table, const char signature[4]);

// Parsers for single tables; `table` is the whole table incl. its header.
ErrorOr<void> parse_madt(std::span<const uint8_t> table, Madt& out);
ErrorOr<void> parse_mcfg(std::span<const uint8_t> table, Mcfg& out);
ErrorOr<void> parse_fadt(std::span<const uint8_t> table, Fadt& out);
ErrorOr<void> parse_hpet(std::span<const uint8_t> table, Hpet& out);
// Bounded scan of a DSDT/SSDT's AML for Name(_S5_, Package(){a, b, ...}).
// NotFound when the table has no _S5_ object.
ErrorOr<SleepType> find_s5_sleep_type(std::span<const uint8_t> table);

} // namespace aisos::acpi
