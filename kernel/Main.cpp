// kernel_main: the boot sequence, top to bottom. Each step depends only on
// the ones above it.

#include "kernel/Version.h"
#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/console/FramebufferConsole.h"
#include "kernel/console/Log.h"
#include "kernel/console/Serial.h"
#include "kernel/cpu/Acpi.h"
#include "kernel/cpu/Apic.h"
#include "kernel/cpu/CpuFeatures.h"
#include "kernel/cpu/Fpu.h"
#include "kernel/cpu/IoApic.h"
#include "kernel/cpu/Smp.h"
#include "kernel/cpu/Time.h"
#include "kernel/BootConfig.h"
#include "kernel/DebugFault.h"
#include "kernel/lib/Panic.h"
#include "kernel/lib/Symbols.h"
#include "kernel/mm/Heap.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/mm/VirtualMemory.h"
#include "kernel/pci/Pci.h"
#include "kernel/cpu/Random.h"
#include "kernel/cpu/WorkerPool.h"
#include "kernel/pkg/Preinstall.h"
#include "kernel/proc/Scheduler.h"
#include "kernel/proc/UserMemory.h"
#include "kernel/syscall/Syscall.h"
#include "kernel/drivers/nvme/Nvme.h"
#include "kernel/fs/Storage.h"
#include "kernel/cpu/Rtc.h"
#include "kernel/net/NetworkCore.h"
#include "lib/boot/BootInfo.h"

namespace aisos {

namespace {

template<typename T>
T must_succeed(ErrorOr<T>&& result, const char* what)
{
    if (result.is_error()) {
        char message[160];
        format_to(message, sizeof(message), "{}: {}", what, result.error().reason());
        panic(message);
    }
    return result.release_value();
}

void must_succeed(ErrorOr<void>&& result, const char* what)
{
    if (result.is_error()) {
        char message[160];
        format_to(message, sizeof(message), "{}: {}", what, result.error().reason());
        panic(message);
    }
}

std::span<const uint8_t> loaded_file(const LoadedFile& file)
{
    if (file.base == 0 || file.size == 0)
        return {};
    return { static_cast<const uint8_t*>(physical_memory::to_virtual(file.base)), file.size };
}

void map_framebuffer(const Framebuffer& framebuffer)
{
    if (framebuffer.base == 0 || framebuffer.size == 0)
        return;
    auto virt = virtual_memory::map_in_mmio_window(framebuffer.base, framebuffer.size,
        mm::PageFlags::Writable | mm::PageFlags::WriteThrough);
    if (virt.is_error()) {
        log::warn("framebuffer: cannot map: {}", virt.error().reason());
        return;
    }
    framebuffer_console::initialize(framebuffer, reinterpret_cast<void*>(virt.value()));
    log::enable_framebuffer(true);
}

// Pinned work on every application processor: proves each CPU takes work
// through the IPI path and runs it where it was asked to.
std::atomic<uint32_t> s_pinned_runs { 0 };
void pinned_probe(void* expected_index)
{
    if (smp::current_cpu_index() == static_cast<uint32_t>(reinterpret_cast<uintptr_t>(expected_index)))
        s_pinned_runs.fetch_add(1);
}

void check_pinned_work()
{
    uint32_t count = smp::online_count();
    for (uint32_t i = 1; i < count; ++i)
        (void)smp::run_on(i, pinned_probe, reinterpret_cast<void*>(static_cast<uintptr_t>(i)));
    for (uint32_t i = 1; i < count; ++i)
        smp::wait_idle(i);
    log::info("smp: pinned work ran on {} of {} application processors", s_pinned_runs.load(), count - 1);
}

// Every CPU's timer must be interrupting it: wait (bounded) for a tick on each.
void check_timers()
{
    uint32_t count = smp::online_count();
    uint32_t ticking = 0;
    for (int attempt = 0; attempt < 200 && ticking < count; ++attempt) {
        ticking = 0;
        for (uint32_t i = 0; i < count; ++i)
            ticking += smp::cpu(i)->timer_ticks.load() > 0 ? 1 : 0;
        if (ticking < count)
            time::busy_wait_us(10000);
    }
    if (ticking == count)
        log::info("timer: all {} CPUs receive timer interrupts", count);
    else
        log::error("timer: only {} of {} CPUs receive timer interrupts", ticking, count);
}

// Reads the first block of every NVMe namespace: proves the I/O path end to
// end without touching anything a file system may own.
void check_storage()
{
    for (const nvme::NamespaceInfo& ns : nvme::namespaces()) {
        auto buffer = heap::allocate(ns.device->block_size());
        if (buffer.is_error())
            return;
        auto result = ns.device->read(0, { static_cast<uint8_t*>(buffer.value()), ns.device->block_size() });
        if (result.is_error())
            log::error("nvme: namespace {}: reading block 0 failed: {}", ns.nsid, result.error().reason());
        else
            log::info("nvme: namespace {}: {} blocks of {} bytes, block 0 read", ns.nsid, ns.device->block_count(), ns.device->block_size());
        heap::free(buffer.value());
    }
}

} // namespace

extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();

extern "C" [[noreturn]] void kernel_main(const BootInfo* boot_info)
{
    // Global constructors (the kernel avoids them, but must not skip any).
    for (auto* constructor = __init_array_start; constructor != __init_array_end; ++constructor)
        (*constructor)();
    serial::initialize();
    smp::early_initialize_bsp();
    log::info("aiSOS {} starting", version);

    if (boot_info == nullptr || boot_info->magic != boot_info_magic)
        panic("boot information missing or corrupt (wrong loader?)");
    if (boot_info->version != boot_info_version)
        panic("boot information version mismatch between loader and kernel");
    if (boot_info->region_count > boot_info_max_regions)
        panic("boot information has too many memory regions");

    cpu_features::detect();
    must_succeed(physical_memory::initialize(*boot_info), "physical memory");
    must_succeed(virtual_memory::initialize(*boot_info), "kernel page tables");
    must_succeed(heap::initialize(), "kernel heap");
    symbols::initialize(loaded_file(boot_info->kernel_file));
    map_framebuffer(boot_info->framebuffer);

    BootConfig config = load_boot_config(loaded_file(boot_info->config_file));
    log::set_level(config.log_level);

    must_succeed(acpi::initialize(boot_info->acpi_rsdp), "ACPI");
    time::calibrate(acpi::hpet_address());
    log::info("tsc: {} MHz (calibrated with {})", time::tsc_frequency_hz() / 1000000, time::calibration_source());

    fpu::enable_on_this_cpu();
    fpu::initialize_state_template();
    must_succeed(fpu::self_test(), "vector state self-test");
    log::info("fpu: xsave mask {:#x}, state {} bytes", fpu::enabled_mask(), fpu::state_size());
    syscall::enable_on_this_cpu();
    proc::enable_smap_handling(cpu_features::has(cpu_features::Smap));

    must_succeed(apic::initialize(acpi::local_apic_address()), "local APIC");
    ioapic::disable_legacy_pic();
    for (auto& io : acpi::io_apics()) {
        if (auto result = ioapic::add(io.id, io.address, io.gsi_base); result.is_error())
            log::warn("ioapic {}: {}", io.id, result.error().reason());
    }
    smp::initialize_bsp(apic::id());
    cpu::enable_interrupts();

    uint32_t apic_ids[smp::max_cpus];
    uint32_t cpu_count = acpi::enabled_cpu_apic_ids(apic_ids, smp::max_cpus);
    uint32_t online = smp::start_application_processors(apic_ids, cpu_count);
    log::contract("cpus online {}", online);
    check_pinned_work();
    check_timers();

    log::contract("memory total {} MiB", physical_memory::total_bytes() / (1024 * 1024));
    log::info("memory: {} MiB free after boot", physical_memory::free_bytes() / (1024 * 1024));

    pci::initialize();
    rtc::initialize(acpi::century_register());
    check_storage();
    if (auto mounted = storage::initialize(); mounted.is_error())
        log::warn("fs: /fs unavailable: {}", mounted.error().reason());
    pkg::preinstall(loaded_file(boot_info->initrd));
    log::info("random: seeded from {}", random::source_name());

    trigger_debug_fault(config.debug_fault);

    log::info("boot took {} ms since TSC calibration", time::uptime_ns() / 1000000);
    // The network core prints "ready" once it serves; without a network
    // there is nothing to wait for.
    auto started = network_core::start(config.settings);
    if (started.is_error()) {
        log::warn("net: not started: {}", started.error().reason());
        log::contract("ready");
    }
    // Every other CPU (the BSP included) runs kernel jobs and module threads.
    proc::scheduler::start(started.is_error() ? smp::max_cpus : network_core::cpu_index());
}

} // namespace aisos
