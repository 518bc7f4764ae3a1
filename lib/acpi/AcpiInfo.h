#pragma once

// What aiSOS learns from the ACPI tables, in fixed-capacity storage (the
// kernel parses ACPI before it has a heap). Entries beyond a capacity are
// counted in the matching *_dropped field rather than silently lost.

#include <stddef.h>
#include <stdint.h>

namespace aisos::acpi {

inline constexpr size_t max_processors = 256;
inline constexpr size_t max_io_apics = 16;
inline constexpr size_t max_overrides = 32;
inline constexpr size_t max_nmi_sources = 8;
inline constexpr size_t max_local_nmis = 32;
inline constexpr size_t max_ecam_segments = 8;
inline constexpr size_t max_tables = 64;
inline constexpr size_t max_problems = 8;

enum class AddressSpace : uint8_t {
    SystemMemory = 0,
    SystemIo = 1,
    PciConfig = 2,
    EmbeddedController = 3,
    SmBus = 4,
    FunctionalFixedHardware = 0x7f,
};

// Generic Address Structure (ACPI 6.5 section 5.2.3.2).
struct GenericAddress {
    uint8_t address_space { 0 }; // an AddressSpace value
    uint8_t bit_width { 0 };
    uint8_t bit_offset { 0 };
    uint8_t access_size { 0 }; // 0 undefined, 1 byte, 2 word, 3 dword, 4 qword
    uint64_t address { 0 };

    bool is_present() const { return address != 0; }
};

// MPS INTI flag encodings (2 bits each): 0 = as the bus defines, 2 reserved.
enum class Polarity : uint8_t { BusDefault = 0, ActiveHigh = 1, Reserved = 2, ActiveLow = 3 };
enum class Trigger : uint8_t { BusDefault = 0, Edge = 1, Reserved = 2, Level = 3 };

struct Processor {
    uint32_t apic_id;
    uint32_t acpi_uid;
    bool enabled;        // usable now
    bool online_capable; // disabled now, may be brought online (hot-add)
    bool x2apic;         // came from a Processor Local x2APIC entry
};

struct IoApic {
    uint8_t id;
    uint32_t address;
    uint32_t gsi_base;
};

// ISA IRQ `source` on `bus` (0 = ISA) is wired to global system interrupt `gsi`.
struct InterruptOverride {
    uint8_t bus;
    uint8_t source;
    uint32_t gsi;
    Polarity polarity;
    Trigger trigger;
};

struct NmiSource {
    uint32_t gsi;
    Polarity polarity;
    Trigger trigger;
};

struct LocalApicNmi {
    static constexpr uint32_t all_processors = 0xffffffffu;
    uint32_t acpi_uid; // all_processors for 0xff (LAPIC form) / 0xffffffff (x2APIC form)
    uint8_t lint;      // 0 or 1
    Polarity polarity;
    Trigger trigger;
};

struct Madt {
    bool present { false };
    uint64_t local_apic_address { 0 }; // after any 64-bit override
    bool pcat_compatible { false };    // dual 8259s present: mask them
    size_t processor_count { 0 };
    Processor processors[max_processors] {};
    size_t io_apic_count { 0 };
    IoApic io_apics[max_io_apics] {};
    size_t override_count { 0 };
    InterruptOverride overrides[max_overrides] {};
    size_t nmi_source_count { 0 };
    NmiSource nmi_sources[max_nmi_sources] {};
    size_t local_nmi_count { 0 };
    LocalApicNmi local_nmis[max_local_nmis] {};
    size_t entries_dropped { 0 }; // entries beyond a capacity above
};

struct EcamSegment {
    uint64_t base; // address of bus 0 of this segment (even when bus_start > 0)
    uint16_t segment;
    uint8_t bus_start;
    uint8_t bus_end;
};

struct Mcfg {
    bool present { false };
    size_t segment_count { 0 };
    EcamSegment segments[max_ecam_segments] {};
    size_t segments_dropped { 0 };
};

// FADT flags (ACPI 6.5 table 5.10) the kernel cares about.
namespace fadt_flags {
inline constexpr uint32_t timer_value_32bit = 1u << 8;
inline constexpr uint32_t reset_register_supported = 1u << 10;
inline constexpr uint32_t hardware_reduced = 1u << 20;
} // namespace fadt_flags

// IA-PC boot architecture flags.
namespace boot_arch {
inline constexpr uint16_t legacy_devices = 1u << 0;
inline constexpr uint16_t has_8042 = 1u << 1;
inline constexpr uint16_t vga_not_present = 1u << 2;
inline constexpr uint16_t msi_not_supported = 1u << 3;
inline constexpr uint16_t cmos_rtc_not_present = 1u << 5;
} // namespace boot_arch

struct Fadt {
    bool present { false };
    uint8_t revision { 0 };
    uint32_t flags { 0 };
    uint16_t sci_interrupt { 0 };
    uint32_t smi_command_port { 0 };
    uint8_t acpi_enable_value { 0 };
    uint8_t acpi_disable_value { 0 };
    GenericAddress pm1a_event {};
    GenericAddress pm1b_event {};
    GenericAddress pm1a_control {};
    GenericAddress pm1b_control {};
    GenericAddress pm_timer {};
    bool reset_supported { false }; // flag set and a reset register given
    GenericAddress reset_register {};
    uint8_t reset_value { 0 };
    uint8_t century_register { 0 }; // CMOS index, 0 when absent
    uint16_t boot_architecture { 0 };
    uint64_t dsdt_address { 0 }; // X_DSDT when present and non-zero, else DSDT
    GenericAddress sleep_control {}; // hardware-reduced platforms
    GenericAddress sleep_status {};

    bool hardware_reduced() const { return flags & fadt_flags::hardware_reduced; }
    bool pm_timer_is_32bit() const { return flags & fadt_flags::timer_value_32bit; }
};

// \_S5_ (soft off) sleep type values for PM1a/PM1b control SLP_TYP.
struct SleepType {
    bool present { false };
    uint8_t slp_typ_a { 0 };
    uint8_t slp_typ_b { 0 };
};

struct Hpet {
    bool present { false };
    uint64_t base_address { 0 };
    uint8_t address_space { 0 };
    uint32_t event_timer_block_id { 0 };
    uint16_t minimum_tick { 0 };
    uint8_t number { 0 };
};

struct TableProblem {
    char signature[5];
    const char* reason;
};

struct AcpiInfo {
    uint8_t rsdp_revision { 0 };
    char oem_id[7] {};
    bool used_xsdt { false };
    size_t table_count { 0 };
    char table_signatures[max_tables][5] {};
    size_t problem_count { 0 };
    TableProblem problems[max_problems] {};
    Madt madt {};
    Mcfg mcfg {};
    Fadt fadt {};
    SleepType s5 {};
    Hpet hpet {};
};

} // namespace aisos::acpi
