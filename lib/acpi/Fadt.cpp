// FADT (signature "FACP"), ACPI 6.5 section 5.2.9. Older revisions are
// shorter: every field is read only when the table's length covers it.
#include "lib/acpi/Acpi.h"
#include "lib/acpi/TableBytes.h"

namespace aisos::acpi {

namespace {

GenericAddress read_gas(const uint8_t* p) { return { p[0], p[1], p[2], p[3], read64(p + 4) }; }

// A legacy 32-bit I/O port block as a GAS (length in bytes).
GenericAddress io_block(uint32_t port, uint8_t length)
{
    if (port == 0)
        return {};
    return { static_cast<uint8_t>(AddressSpace::SystemIo), static_cast<uint8_t>(length * 8), 0, 0, port };
}

} // namespace

ErrorOr<void> parse_fadt(std::span<const uint8_t> table, Fadt& out)
{
    TRY(validate_table(table, "FACP"));
    out = {};
    uint32_t length = read32(table.data() + 4);
    const uint8_t* p = table.data();
    // ACPI 1.0 FADT: 116 bytes, up to and including Flags.
    if (length < 116)
        return Error::corrupt("FADT is too short");
    auto has = [&](size_t offset, size_t size) { return offset + size <= length; };

    out.revision = p[8];
    uint32_t dsdt32 = read32(p + 40);
    out.sci_interrupt = read16(p + 46);
    out.smi_command_port = read32(p + 48);
    out.acpi_enable_value = p[52];
    out.acpi_disable_value = p[53];
    uint8_t pm1_event_length = p[88];
    uint8_t pm1_control_length = p[89];
    uint8_t pm_timer_length = p[91];
    out.pm1a_event = io_block(read32(p + 56), pm1_event_length);
    out.pm1b_event = io_block(read32(p + 60), pm1_event_length);
    out.pm1a_control = io_block(read32(p + 64), pm1_control_length);
    out.pm1b_control = io_block(read32(p + 68), pm1_control_length);
    out.pm_timer = io_block(read32(p + 76), pm_timer_length);
    out.century_register = p[108];
    out.boot_architecture = read16(p + 109);
    out.flags = read32(p + 112);

    if (has(116, 13)) {
        out.reset_register = read_gas(p + 116);
        out.reset_value = p[128];
    }
    out.reset_supported = (out.flags & fadt_flags::reset_register_supported) && out.reset_register.is_present();

    out.dsdt_address = dsdt32;
    if (has(140, 8) && read64(p + 140) != 0)
        out.dsdt_address = read64(p + 140);

    // The 64-bit (X_) blocks supersede the 32-bit ones when present.
    auto extended = [&](size_t offset, GenericAddress& field) {
        if (!has(offset, 12))
            return;
        GenericAddress gas = read_gas(p + offset);
        if (gas.is_present())
            field = gas;
    };
    extended(148, out.pm1a_event);
    extended(160, out.pm1b_event);
    extended(172, out.pm1a_control);
    extended(184, out.pm1b_control);
    extended(208, out.pm_timer);
    extended(244, out.sleep_control);
    extended(256, out.sleep_status);
    out.present = true;
    return {};
}

} // namespace aisos::acpi
