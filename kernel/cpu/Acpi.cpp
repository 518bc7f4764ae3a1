#include "kernel/cpu/Acpi.h"

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/console/Log.h"
#include "kernel/mm/Mmio.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/mm/VirtualMemory.h"
#include "lib/acpi/Acpi.h"

namespace aisos::acpi {

namespace {

AcpiInfo s_info;
IoApicInfo s_io_apics[max_io_apics];
size_t s_io_apic_count = 0;

// ACPI tables normally sit in RAM (ACPI reclaim/NVS), reached through the
// direct map; anything else is mapped read-only in the MMIO window.
class KernelAcpiMemory final : public AcpiMemory {
public:
    const uint8_t* map(uint64_t physical, size_t length) override
    {
        if (length == 0 || physical + length < physical)
            return nullptr;
        if (virtual_memory::is_direct_mapped(physical, length))
            return static_cast<const uint8_t*>(physical_memory::to_virtual(physical));
        auto virt = virtual_memory::map_in_mmio_window(physical, length, mm::PageFlags::None);
        return virt.is_error() ? nullptr : reinterpret_cast<const uint8_t*>(virt.value());
    }
};

// Writes value through a Generic Address Structure (I/O port or memory).
void write_register(const GenericAddress& address, uint32_t value)
{
    if (!address.is_present())
        return;
    uint8_t width = address.bit_width ? address.bit_width : 16;
    if (address.address_space == static_cast<uint8_t>(AddressSpace::SystemIo)) {
        auto port = static_cast<uint16_t>(address.address);
        if (width <= 8)
            cpu::outb(port, static_cast<uint8_t>(value));
        else if (width <= 16)
            cpu::outw(port, static_cast<uint16_t>(value));
        else
            cpu::outl(port, value);
        return;
    }
    if (address.address_space == static_cast<uint8_t>(AddressSpace::SystemMemory)) {
        auto mapped = mmio::map(address.address, 4);
        if (mapped.is_error())
            return;
        if (width <= 8)
            *static_cast<volatile uint8_t*>(mapped.value()) = static_cast<uint8_t>(value);
        else if (width <= 16)
            *static_cast<volatile uint16_t*>(mapped.value()) = static_cast<uint16_t>(value);
        else
            *static_cast<volatile uint32_t*>(mapped.value()) = value;
    }
}

} // namespace

ErrorOr<void> initialize(uint64_t rsdp_physical)
{
    if (rsdp_physical == 0)
        return Error::not_found("the firmware reported no ACPI RSDP");
    KernelAcpiMemory memory;
    TRY(parse_acpi(rsdp_physical, memory, s_info));
    for (size_t i = 0; i < s_info.problem_count; ++i)
        log::warn("acpi: table {} ignored: {}", s_info.problems[i].signature, s_info.problems[i].reason);
    if (!s_info.madt.present)
        return Error::not_found("no MADT: cannot find CPUs and interrupt controllers");
    for (size_t i = 0; i < s_info.madt.io_apic_count; ++i) {
        auto& io = s_info.madt.io_apics[i];
        s_io_apics[s_io_apic_count++] = { io.id, io.address, io.gsi_base };
    }
    log::info("acpi: revision {} oem '{}', {} tables, {} CPUs, {} I/O APICs, {} ECAM segments, hpet {}, s5 {}",
        s_info.rsdp_revision, s_info.oem_id, s_info.table_count, s_info.madt.processor_count,
        s_info.madt.io_apic_count, s_info.mcfg.segment_count, s_info.hpet.present ? "yes" : "no",
        s_info.s5.present ? "yes" : "no");
    return {};
}

uint64_t local_apic_address() { return s_info.madt.local_apic_address; }

uint64_t hpet_address()
{
    if (!s_info.hpet.present || s_info.hpet.address_space != static_cast<uint8_t>(AddressSpace::SystemMemory))
        return 0;
    return s_info.hpet.base_address;
}

uint8_t century_register() { return s_info.fadt.century_register; }

std::span<const IoApicInfo> io_apics() { return { s_io_apics, s_io_apic_count }; }

std::span<const acpi::EcamSegment> ecam_segments() { return { s_info.mcfg.segments, s_info.mcfg.segment_count }; }

uint32_t enabled_cpu_apic_ids(uint32_t* apic_ids, uint32_t capacity)
{
    uint32_t count = 0;
    for (size_t i = 0; i < s_info.madt.processor_count && count < capacity; ++i) {
        if (s_info.madt.processors[i].enabled)
            apic_ids[count++] = s_info.madt.processors[i].apic_id;
    }
    return count;
}

[[noreturn]] void power_off()
{
    cpu::disable_interrupts();
    const Fadt& fadt = s_info.fadt;
    if (s_info.s5.present && fadt.pm1a_control.is_present()) {
        // PM1 control: SLP_TYP in bits 10-12, SLP_EN is bit 13.
        write_register(fadt.pm1a_control, (static_cast<uint32_t>(s_info.s5.slp_typ_a) << 10) | (1u << 13));
        if (fadt.pm1b_control.is_present())
            write_register(fadt.pm1b_control, (static_cast<uint32_t>(s_info.s5.slp_typ_b) << 10) | (1u << 13));
    } else if (fadt.hardware_reduced() && fadt.sleep_control.is_present() && s_info.s5.present) {
        write_register(fadt.sleep_control, ((s_info.s5.slp_typ_a & 7u) << 2) | (1u << 5));
    }
    log::error("acpi: power off did not take effect; halting");
    cpu::halt_forever();
}

[[noreturn]] void reset()
{
    cpu::disable_interrupts();
    if (s_info.fadt.reset_supported)
        write_register(s_info.fadt.reset_register, s_info.fadt.reset_value);
    // Fallbacks: the PCI reset control register, then the keyboard controller.
    cpu::outb(0xcf9, 0x02);
    cpu::outb(0xcf9, 0x06);
    cpu::outb(0x64, 0xfe);
    // Last resort: a triple fault (load an empty IDT and trap).
    struct [[gnu::packed]] {
        uint16_t limit;
        uint64_t base;
    } empty_idt { 0, 0 };
    asm volatile("lidt %0; int3" ::"m"(empty_idt));
    cpu::halt_forever();
}

} // namespace aisos::acpi
