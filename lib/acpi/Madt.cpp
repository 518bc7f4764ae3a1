// MADT (signature "APIC"), ACPI 6.5 section 5.2.12.
#include "lib/acpi/Acpi.h"
#include "lib/acpi/TableBytes.h"

namespace aisos::acpi {

namespace {

enum EntryType : uint8_t {
    LocalApic = 0,
    IoApicEntry = 1,
    SourceOverride = 2,
    NmiSourceEntry = 3,
    LocalApicNmiEntry = 4,
    LocalApicAddressOverride = 5,
    LocalX2Apic = 9,
    LocalX2ApicNmi = 10,
};

// MPS INTI flags: polarity in bits 0-1, trigger mode in bits 2-3.
Polarity polarity_of(uint16_t flags) { return static_cast<Polarity>(flags & 3); }
Trigger trigger_of(uint16_t flags) { return static_cast<Trigger>((flags >> 2) & 3); }

constexpr uint32_t processor_enabled = 1;
constexpr uint32_t processor_online_capable = 2;

} // namespace

ErrorOr<void> parse_madt(std::span<const uint8_t> table, Madt& out)
{
    TRY(validate_table(table, "APIC"));
    out = {};
    uint32_t length = read32(table.data() + 4);
    if (length < table_header_size + 8)
        return Error::corrupt("MADT is too short");
    const uint8_t* p = table.data();
    out.local_apic_address = read32(p + 36);
    out.pcat_compatible = read32(p + 40) & 1;

    auto add_processor = [&](Processor processor) {
        if (out.processor_count == max_processors) {
            ++out.entries_dropped;
            return;
        }
        out.processors[out.processor_count++] = processor;
    };

    size_t offset = table_header_size + 8;
    while (offset < length) {
        if (length - offset < 2)
            return Error::corrupt("MADT entry header runs past the table");
        uint8_t type = p[offset];
        uint8_t entry_length = p[offset + 1];
        if (entry_length < 2 || entry_length > length - offset)
            return Error::corrupt("MADT entry length is impossible");
        const uint8_t* e = p + offset;
        auto need = [&](uint8_t minimum) { return entry_length >= minimum; };
        switch (type) {
        case LocalApic:
            if (!need(8))
                return Error::corrupt("MADT local APIC entry is too short");
            {
                uint32_t flags = read32(e + 4);
                add_processor({ read8(e + 3), read8(e + 2), (flags & processor_enabled) != 0, (flags & processor_online_capable) != 0, false });
            }
            break;
        case LocalX2Apic:
            if (!need(16))
                return Error::corrupt("MADT local x2APIC entry is too short");
            {
                uint32_t flags = read32(e + 8);
                add_processor({ read32(e + 4), read32(e + 12), (flags & processor_enabled) != 0, (flags & processor_online_capable) != 0, true });
            }
            break;
        case IoApicEntry:
            if (!need(12))
                return Error::corrupt("MADT I/O APIC entry is too short");
            if (out.io_apic_count == max_io_apics)
                ++out.entries_dropped;
            else
                out.io_apics[out.io_apic_count++] = { read8(e + 2), read32(e + 4), read32(e + 8) };
            break;
        case SourceOverride:
            if (!need(10))
                return Error::corrupt("MADT interrupt source override is too short");
            if (out.override_count == max_overrides) {
                ++out.entries_dropped;
            } else {
                uint16_t flags = read16(e + 8);
                out.overrides[out.override_count++] = { read8(e + 2), read8(e + 3), read32(e + 4), polarity_of(flags), trigger_of(flags) };
            }
            break;
        case NmiSourceEntry:
            if (!need(8))
                return Error::corrupt("MADT NMI source entry is too short");
            if (out.nmi_source_count == max_nmi_sources) {
                ++out.entries_dropped;
            } else {
                uint16_t flags = read16(e + 2);
                out.nmi_sources[out.nmi_source_count++] = { read32(e + 4), polarity_of(flags), trigger_of(flags) };
            }
            break;
        case LocalApicNmiEntry:
            if (!need(6))
                return Error::corrupt("MADT local APIC NMI entry is too short");
            if (out.local_nmi_count == max_local_nmis) {
                ++out.entries_dropped;
            } else {
                uint8_t uid = read8(e + 2);
                uint16_t flags = read16(e + 3);
                out.local_nmis[out.local_nmi_count++] = { uid == 0xff ? LocalApicNmi::all_processors : uid, read8(e + 5), polarity_of(flags), trigger_of(flags) };
            }
            break;
        case LocalX2ApicNmi:
            if (!need(12))
                return Error::corrupt("MADT local x2APIC NMI entry is too short");
            if (out.local_nmi_count == max_local_nmis) {
                ++out.entries_dropped;
            } else {
                uint16_t flags = read16(e + 2);
                out.local_nmis[out.local_nmi_count++] = { read32(e + 4), read8(e + 8), polarity_of(flags), trigger_of(flags) };
            }
            break;
        case LocalApicAddressOverride:
            if (!need(12))
                return Error::corrupt("MADT local APIC address override is too short");
            if (uint64_t address = read64(e + 4))
                out.local_apic_address = address; // a zero override (seen in templates) means none
            break;
        default:
            // Other types (SAPIC, GIC, wakeup mailbox, ...) do not concern x86 interrupt routing.
            break;
        }
        offset += entry_length;
    }
    out.present = true;
    return {};
}

} // namespace aisos::acpi
