#include "kernel/mm/VirtualMemory.h"

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/console/Log.h"
#include "kernel/cpu/CpuFeatures.h"
#include "kernel/lib/Spinlock.h"
#include "kernel/mm/PhysicalMemory.h"

extern "C" char __kernel_start[], __kernel_end[];
extern "C" char __text_end[], __rodata_end[];

namespace aisos::virtual_memory {

namespace {

using mm::PageFlags;

// Page tables live in frames below 4 GiB: application processors load CR3
// from 32-bit code in the trampoline.
class KernelTableMemory final : public mm::PageTableMemory {
public:
    ErrorOr<uint64_t> allocate_table() override
    {
        uint64_t physical = TRY(physical_memory::allocate(1, 1, 1ull << 32));
        __builtin_memset(physical_memory::to_virtual(physical), 0, 4096);
        return physical;
    }
    uint64_t* table_at(uint64_t physical) override { return static_cast<uint64_t*>(physical_memory::to_virtual(physical)); }
    void free_table(uint64_t physical) override { physical_memory::free(physical, 1); }
};

KernelTableMemory s_table_memory;
mm::PageTableBuilder* s_tables = nullptr;
alignas(mm::PageTableBuilder) uint8_t s_tables_storage[sizeof(mm::PageTableBuilder)];
Spinlock s_lock;
uint64_t s_mmio_next = mmio_window_base;
uint64_t s_stack_next = stack_window_base;

bool is_ram(MemoryKind kind)
{
    return kind == MemoryKind::Usable || kind == MemoryKind::AcpiReclaimable || kind == MemoryKind::AcpiNvs
        || kind == MemoryKind::LoaderData || kind == MemoryKind::RuntimeServices || kind == MemoryKind::Persistent;
}

// Maps the kernel image page by page onto the physical pages the loader
// chose, with the permissions of each part.
ErrorOr<void> map_kernel_image(mm::PageTableBuilder& tables)
{
    mm::PageTableBuilder loader_tables(s_table_memory, cpu::read_cr3() & mm::paging::address_mask);
    auto start = reinterpret_cast<uint64_t>(__kernel_start);
    auto end = reinterpret_cast<uint64_t>(__kernel_end);
    auto text_end = reinterpret_cast<uint64_t>(__text_end);
    auto rodata_end = reinterpret_cast<uint64_t>(__rodata_end);
    for (uint64_t page = start; page < end; page += 4096) {
        auto translation = loader_tables.translate(page);
        if (!translation.has_value())
            return Error::not_found("kernel page not mapped by the loader");
        PageFlags flags = PageFlags::Global;
        if (page < text_end)
            flags = flags | PageFlags::Executable;
        else if (page >= rodata_end)
            flags = flags | PageFlags::Writable;
        TRY(tables.map(page, translation->physical & ~0xfffull, 4096, flags, { mm::LargePages::Forbidden }));
    }
    return {};
}

} // namespace

void configure_this_cpu()
{
    // Global pages survive CR3 reloads; SMEP stops the kernel from ever
    // executing user pages.
    uint64_t cr4 = cpu::read_cr4() | (1ull << 7);
    if (cpu_features::has(cpu_features::Smep))
        cr4 |= 1ull << 20;
    // SMAP: the kernel touches user memory only inside stac/clac
    // (kernel/proc/UserMemory.cpp); any other access to it faults.
    if (cpu_features::has(cpu_features::Smap))
        cr4 |= 1ull << 21;
    cpu::write_cr4(cr4);
    cpu::write_cr0(cpu::read_cr0() | (1ull << 16)); // WP: read-only means read-only in ring 0 too
}

ErrorOr<void> initialize(const BootInfo& boot_info)
{
    auto tables = TRY(mm::PageTableBuilder::create(s_table_memory));
    for (uint32_t i = 0; i < boot_info.region_count; ++i) {
        const MemoryRegion& region = boot_info.regions[i];
        if (!is_ram(region.kind) || region.pages == 0)
            continue;
        TRY(tables.map(direct_map_base + region.base, region.base, region.pages * 4096,
            PageFlags::Writable | PageFlags::Global, { mm::LargePages::Allowed, mm::ExistingMappings::Replace }));
    }
    TRY(map_kernel_image(tables));
    // Every top-level entry of the kernel half exists from now on, so a
    // process's page tables can share them by copying entries 256-511 once.
    uint64_t* root = s_table_memory.table_at(tables.root_physical());
    for (size_t i = 256; i < 512; ++i) {
        if (root[i] & mm::paging::present)
            continue;
        root[i] = TRY(s_table_memory.allocate_table()) | mm::paging::present | mm::paging::writable;
    }

    configure_this_cpu();
    cpu::wrmsr(cpu::msr::efer, cpu::rdmsr(cpu::msr::efer) | (1ull << 11)); // NXE
    cpu::write_cr3(tables.root_physical());

    s_tables = new (s_tables_storage) mm::PageTableBuilder(tables);
    return {};
}

ErrorOr<uint64_t> map_in_mmio_window(uint64_t physical, size_t size, PageFlags flags)
{
    uint64_t offset = physical & 0xfff;
    uint64_t base = physical - offset;
    uint64_t length = (offset + size + 0xfff) & ~0xfffull;
    SpinlockGuard guard(s_lock);
    if (s_mmio_next + length > mmio_window_base + mmio_window_size)
        return Error { ErrorCode::NoSpace, "MMIO window full" };
    uint64_t virt = s_mmio_next;
    TRY(s_tables->map(virt, base, length, flags | PageFlags::Global, { mm::LargePages::Forbidden }));
    s_mmio_next += length + 4096; // a hole between mappings catches overruns
    return virt + offset;
}

ErrorOr<uint64_t> allocate_stack(size_t size)
{
    size_t pages = (size + 4095) / 4096;
    uint64_t physical = TRY(physical_memory::allocate(pages));
    SpinlockGuard guard(s_lock);
    uint64_t guard_page = s_stack_next;
    uint64_t bottom = guard_page + 4096;
    if (bottom + pages * 4096 > stack_window_base + stack_window_size) {
        physical_memory::free(physical, pages);
        return Error { ErrorCode::NoSpace, "kernel stack window full" };
    }
    auto result = s_tables->map(bottom, physical, pages * 4096, PageFlags::Writable | PageFlags::Global,
        { mm::LargePages::Forbidden });
    if (result.is_error()) {
        physical_memory::free(physical, pages);
        return result.error();
    }
    s_stack_next = bottom + pages * 4096;
    return bottom + pages * 4096;
}

void map_identity_page(uint64_t physical)
{
    SpinlockGuard guard(s_lock);
    (void)s_tables->map(physical, physical, 4096, PageFlags::Writable | PageFlags::Executable,
        { mm::LargePages::Forbidden, mm::ExistingMappings::Replace });
}

void unmap_identity_page(uint64_t physical)
{
    SpinlockGuard guard(s_lock);
    (void)s_tables->unmap(physical, 4096);
    cpu::invlpg(physical);
}

bool is_direct_mapped(uint64_t physical, size_t size)
{
    if (!s_tables || size == 0)
        return false;
    SpinlockGuard guard(s_lock);
    for (uint64_t page = physical & ~0xfffull; page < physical + size; page += 4096) {
        if (!s_tables->translate(direct_map_base + page).has_value())
            return false;
    }
    return true;
}

mm::PageTableMemory& table_memory() { return s_table_memory; }

void copy_kernel_half(uint64_t* root)
{
    const uint64_t* kernel_root = s_table_memory.table_at(kernel_root_physical());
    for (size_t i = 256; i < 512; ++i)
        root[i] = kernel_root[i];
}

uint64_t kernel_root_physical() { return s_tables ? s_tables->root_physical() : cpu::read_cr3(); }

} // namespace aisos::virtual_memory
