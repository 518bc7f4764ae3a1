// Table-level checks and the small fixed-layout tables (MCFG, HPET).
#include "lib/acpi/Acpi.h"
#include "lib/acpi/TableBytes.h"

namespace aisos::acpi {

ErrorOr<void> validate_table(std::span<const uint8_t> table, const char signature[4])
{
    if (table.size() < table_header_size)
        return Error::corrupt("ACPI table is shorter than its header");
    if (__builtin_memcmp(table.data(), signature, 4) != 0)
        return Error::corrupt("ACPI table has the wrong signature");
    uint32_t length = read32(table.data() + 4);
    if (length < table_header_size || length > table.size())
        return Error::corrupt("ACPI table length is impossible");
    if (checksum(table.data(), length) != 0)
        return Error::corrupt("ACPI table checksum mismatch");
    return {};
}

ErrorOr<void> parse_mcfg(std::span<const uint8_t> table, Mcfg& out)
{
    TRY(validate_table(table, "MCFG"));
    out = {};
    uint32_t length = read32(table.data() + 4);
    // Header, 8 reserved bytes, then 16-byte allocation entries.
    constexpr size_t first_entry = table_header_size + 8;
    if (length < first_entry || (length - first_entry) % 16 != 0)
        return Error::corrupt("MCFG length is not a whole number of entries");
    for (size_t offset = first_entry; offset + 16 <= length; offset += 16) {
        const uint8_t* entry = table.data() + offset;
        EcamSegment segment { read64(entry), read16(entry + 8), read8(entry + 10), read8(entry + 11) };
        if (segment.bus_end < segment.bus_start)
            return Error::corrupt("MCFG entry ends before it starts");
        if (segment.base == 0 || (segment.base & 0xfffff) != 0)
            return Error::corrupt("MCFG base address is not 1 MiB aligned");
        if (out.segment_count == max_ecam_segments) {
            ++out.segments_dropped;
            continue;
        }
        out.segments[out.segment_count++] = segment;
    }
    out.present = true;
    return {};
}

ErrorOr<void> parse_hpet(std::span<const uint8_t> table, Hpet& out)
{
    TRY(validate_table(table, "HPET"));
    out = {};
    uint32_t length = read32(table.data() + 4);
    if (length < 56)
        return Error::corrupt("HPET table is too short");
    const uint8_t* p = table.data();
    out.event_timer_block_id = read32(p + 36);
    out.address_space = read8(p + 40);
    out.base_address = read64(p + 44);
    out.number = read8(p + 52);
    out.minimum_tick = read16(p + 53);
    if (out.address_space != static_cast<uint8_t>(AddressSpace::SystemMemory) || out.base_address == 0)
        return Error::unsupported("HPET is not memory-mapped");
    out.present = true;
    return {};
}

} // namespace aisos::acpi
