// aiSOS UEFI loader: loads \aisos\kernel.elf, \aisos\aisos.cfg and the
// optional \aisos\initrd from its own volume, builds the kernel's page
// tables, exits boot services and jumps to the kernel with a BootInfo (see
// lib/boot/BootInfo.h for the contract).
//
// Every failure before ExitBootServices prints a clear line through ConOut
// and parks the machine; nothing here may end in a triple fault.

#include "boot/Bytes.h"
#include "boot/Console.h"
#include "boot/Efi.h"
#include "boot/Files.h"
#include "boot/Handoff.h"
#include "boot/KernelElf.h"
#include "boot/MemoryMap.h"
#include "boot/PageTables.h"
#include "lib/boot/BootInfo.h"

using namespace aisos;
using namespace aisos::boot;

namespace {

constexpr const char16_t* kernel_path = u"\\aisos\\kernel.elf";
constexpr const char16_t* config_path = u"\\aisos\\aisos.cfg";
constexpr const char16_t* initrd_path = u"\\aisos\\initrd";

constexpr uint64_t max_kernel_file_size = 256ull << 20;
constexpr uint64_t max_config_size = 64ull << 10;
// The initrd may carry a model; the real limit is free memory.
constexpr uint64_t max_initrd_size = 64ull << 30;

constexpr uint64_t kernel_stack_size = 64ull << 10;
constexpr uint64_t boot_info_pages = (sizeof(BootInfo) + page_size - 1) / page_size;
// The hand-over block: BootInfo, one page for the GDT, then the stack.
constexpr uint64_t handoff_pages = boot_info_pages + 1 + kernel_stack_size / page_size;

constexpr uint64_t four_gib = 4ull << 30;
// Identity map and direct map each get half of the 48-bit address space.
constexpr uint64_t max_mapped_physical = 1ull << 46;

efi::SystemTable* s_system_table = nullptr;

// The hand-over sets EFER.NXE and uses the NX bit; on a CPU without it that
// would fault after ExitBootServices, so check while we can still say so.
bool cpu_has_no_execute()
{
    uint32_t eax = 0x80000000, ebx = 0, ecx = 0, edx = 0;
    asm volatile("cpuid" : "+a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx));
    if (eax < 0x80000001)
        return false;
    eax = 0x80000001;
    ecx = 0;
    asm volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
    return (edx & (1u << 20)) != 0;
}

[[noreturn]] void park()
{
    // The firmware's watchdog would reset the machine after 5 minutes and
    // wipe the message; the user needs it to stay.
    if (s_system_table)
        s_system_table->boot_services->set_watchdog_timer(0, 0, 0, nullptr);
    say("boot stopped; the machine waits here (fix the boot volume, then restart)");
    for (;;)
        asm volatile("hlt");
}

[[noreturn]] void fail(const char* what, Error error)
{
    say("error: ", what, ": ", error.reason());
    park();
}

template<typename T>
T must(Result<T> result, const char* what)
{
    if (result.is_error())
        fail(what, result.error());
    return result.release_value();
}

void must(Result<void> result, const char* what)
{
    if (result.is_error())
        fail(what, result.error());
}

// Page tables come from LoaderData chunks, so that the kernel finds them
// intact and they never show up as free memory while it still runs on them.
struct TablePool {
    uint64_t next;
    uint64_t end;
};

Result<uint64_t> allocate_table_page(void* context)
{
    auto* pool = static_cast<TablePool*>(context);
    if (pool->next == pool->end) {
        constexpr uint64_t chunk_pages = 64;
        pool->next = TRY(allocate_loader_pages(s_system_table, chunk_pages));
        pool->end = pool->next + chunk_pages * page_size;
    }
    uint64_t page = pool->next;
    pool->next += page_size;
    return page;
}

uint64_t* access_table_page(void*, uint64_t physical)
{
    // Boot services run identity mapped.
    return reinterpret_cast<uint64_t*>(physical);
}

uint64_t find_acpi_rsdp(efi::SystemTable* system_table)
{
    uint64_t acpi_10 = 0;
    for (uint64_t i = 0; i < system_table->number_of_table_entries; ++i) {
        const efi::ConfigurationTable& table = system_table->configuration_table[i];
        auto address = reinterpret_cast<uint64_t>(table.vendor_table);
        if (address == 0 || __builtin_memcmp(table.vendor_table, "RSD PTR ", 8) != 0)
            continue;
        if (table.vendor_guid == efi::acpi_20_table_guid)
            return address;
        if (table.vendor_guid == efi::acpi_10_table_guid)
            acpi_10 = address;
    }
    return acpi_10;
}

Framebuffer find_framebuffer(efi::SystemTable* system_table)
{
    Framebuffer framebuffer {};
    void* interface = nullptr;
    efi::Status status = system_table->boot_services->locate_protocol(&efi::graphics_output_protocol_guid, nullptr, &interface);
    if (efi::is_error(status) || interface == nullptr)
        return framebuffer;
    auto* gop = static_cast<efi::GraphicsOutputProtocol*>(interface);
    if (gop->mode == nullptr || gop->mode->info == nullptr)
        return framebuffer;
    const efi::GraphicsOutputModeInformation& info = *gop->mode->info;
    switch (info.pixel_format) {
    case efi::GraphicsPixelFormat::RedGreenBlueReserved8BitPerColor:
        framebuffer.format = PixelFormat::Rgbx8;
        break;
    case efi::GraphicsPixelFormat::BlueGreenRedReserved8BitPerColor:
        framebuffer.format = PixelFormat::Bgrx8;
        break;
    default:
        // Bit-mask layouts and Blt-only adapters: no linear framebuffer the
        // kernel can draw into.
        return framebuffer;
    }
    framebuffer.base = gop->mode->frame_buffer_base;
    framebuffer.size = gop->mode->frame_buffer_size;
    framebuffer.width = info.horizontal_resolution;
    framebuffer.height = info.vertical_resolution;
    framebuffer.pixels_per_scanline = info.pixels_per_scan_line;
    return framebuffer;
}

struct MemoryMapBuffer {
    uint8_t* data;
    uint64_t capacity;
    uint64_t size;
    uint64_t key;
    uint64_t descriptor_size;
};

efi::Status read_memory_map(efi::SystemTable* system_table, MemoryMapBuffer& map)
{
    map.size = map.capacity;
    uint32_t descriptor_version = 0;
    return system_table->boot_services->get_memory_map(&map.size, reinterpret_cast<efi::MemoryDescriptor*>(map.data), &map.key, &map.descriptor_size, &descriptor_version);
}

Result<MemoryMapBuffer> allocate_memory_map_buffer(efi::SystemTable* system_table)
{
    MemoryMapBuffer map {};
    efi::Status status = read_memory_map(system_table, map);
    if (status != efi::buffer_too_small || map.descriptor_size == 0)
        return Error { ErrorCode::IoError, "GetMemoryMap does not report its size" };
    // Room for the entries our own allocations (this buffer, page tables)
    // add before the final call.
    map.capacity = map.size + 128 * map.descriptor_size;
    uint64_t pages = (map.capacity + page_size - 1) / page_size;
    efi::PhysicalAddress address = 0;
    status = system_table->boot_services->allocate_pages(efi::AllocateType::AnyPages, efi::MemoryType::BootServicesData, pages, &address);
    if (efi::is_error(status))
        return Error::no_memory();
    map.data = reinterpret_cast<uint8_t*>(address);
    map.capacity = pages * page_size;
    if (efi::is_error(read_memory_map(system_table, map)))
        return Error { ErrorCode::IoError, "GetMemoryMap failed" };
    return map;
}

void print_loaded(const char* name, const LoadedFile& file)
{
    say("loaded ", name, " (", Size { file.size }, ") at ", Hex { file.base });
}

} // namespace

extern "C" efi::Status EFIAPI efi_main(efi::Handle image, efi::SystemTable* system_table)
{
    s_system_table = system_table;
    console::initialize(system_table);
    say("aiSOS loader; firmware: ", system_table->firmware_vendor ? system_table->firmware_vendor : u"unknown", " rev ", Hex { system_table->firmware_revision });

    if (!cpu_has_no_execute())
        fail("cannot start aiSOS", Error::unsupported("the CPU has no NX (execute-disable) bit"));

    efi::FileProtocol* root = must(open_boot_volume(system_table, image), "cannot open the boot volume");

    // Kernel: read, validate completely, then copy into its own pages.
    LoadedFile kernel_file = must(load_file(system_table, root, kernel_path, max_kernel_file_size), "cannot load \\aisos\\kernel.elf");
    if (kernel_file.size == 0)
        fail("cannot load \\aisos\\kernel.elf", Error::corrupt("file is empty"));
    print_loaded("\\aisos\\kernel.elf", kernel_file);
    KernelImage kernel = must(parse_kernel_elf(reinterpret_cast<const uint8_t*>(kernel_file.base), kernel_file.size), "\\aisos\\kernel.elf is not a valid kernel");
    uint64_t kernel_physical = must(allocate_loader_pages(system_table, kernel.span_size / page_size), "no memory for the kernel image");
    copy_kernel_segments(kernel, reinterpret_cast<const uint8_t*>(kernel_file.base), reinterpret_cast<uint8_t*>(kernel_physical));
    say("kernel: ", Decimal { kernel.segment_count }, " segments, ", Size { kernel.span_size }, " at ", Hex { kernel.span_start }, " (physical ", Hex { kernel_physical }, "), entry ", Hex { kernel.entry });

    LoadedFile config {};
    auto config_result = load_file(system_table, root, config_path, max_config_size);
    if (config_result.is_error()) {
        if (config_result.error().code() != ErrorCode::NotFound)
            fail("cannot load \\aisos\\aisos.cfg", config_result.error());
        say("no aisos.cfg, using defaults");
    } else {
        config = config_result.release_value();
        const auto* text = reinterpret_cast<const uint8_t*>(config.base);
        for (uint64_t i = 0; i < config.size; ++i) {
            if (text[i] == 0)
                fail("\\aisos\\aisos.cfg is not a text file", Error::corrupt("it contains a NUL byte"));
        }
        print_loaded("\\aisos\\aisos.cfg", config);
    }

    LoadedFile initrd {};
    auto initrd_result = load_file(system_table, root, initrd_path, max_initrd_size);
    if (initrd_result.is_error()) {
        if (initrd_result.error().code() != ErrorCode::NotFound)
            fail("cannot load \\aisos\\initrd", initrd_result.error());
        say("no initrd");
    } else {
        initrd = initrd_result.release_value();
        print_loaded("\\aisos\\initrd", initrd);
    }
    root->close(root);

    uint64_t rsdp = find_acpi_rsdp(system_table);
    if (rsdp)
        say("ACPI RSDP at ", Hex { rsdp });
    else
        say("no ACPI RSDP in the configuration table; the kernel will run without ACPI");

    Framebuffer framebuffer = find_framebuffer(system_table);
    if (framebuffer.base)
        say("framebuffer ", Decimal { framebuffer.width }, "x", Decimal { framebuffer.height }, " at ", Hex { framebuffer.base });
    else
        say("no linear framebuffer");

    uint64_t handoff = must(allocate_loader_pages(system_table, handoff_pages), "no memory for BootInfo and the kernel stack");
    auto* boot_info = reinterpret_cast<BootInfo*>(handoff);
    boot_info->magic = boot_info_magic;
    boot_info->version = boot_info_version;
    boot_info->size = sizeof(BootInfo);
    boot_info->acpi_rsdp = rsdp;
    boot_info->framebuffer = framebuffer;
    boot_info->kernel_file = kernel_file;
    boot_info->config_file = config;
    boot_info->initrd = initrd;
    boot_info->kernel_physical_base = kernel_physical;
    boot_info->kernel_physical_size = kernel.span_size;

    uint64_t gdt_physical = handoff + boot_info_pages * page_size;
    auto* gdt_pointer = reinterpret_cast<GdtPointer*>(gdt_physical + 64);
    write_handoff_gdt(reinterpret_cast<uint64_t*>(gdt_physical), gdt_pointer, direct_map_base + gdt_physical);
    uint64_t stack_top = gdt_physical + page_size + kernel_stack_size;
    // A zero return address, as if the kernel's entry had been called.
    *reinterpret_cast<uint64_t*>(stack_top - 8) = 0;

    MemoryMapBuffer map = must(allocate_memory_map_buffer(system_table), "cannot read the firmware memory map");
    uint64_t highest = highest_physical_address(map.data, map.size, map.descriptor_size);
    uint64_t mapped = highest > four_gib ? highest : four_gib;
    mapped = (mapped + large_page_size - 1) & ~(large_page_size - 1);
    if (mapped > max_mapped_physical)
        fail("cannot map physical memory", Error::unsupported("the memory map reaches beyond 64 TiB"));

    TablePool pool {};
    PageSource source { &pool, allocate_table_page, access_table_page };
    PageTableBuilder tables = must(PageTableBuilder::create(source), "cannot build page tables");
    must(tables.map_physical_range_large(0, mapped, Executable::Yes), "cannot build the identity map");
    must(tables.map_physical_range_large(direct_map_base, mapped, Executable::No), "cannot build the direct map");
    for (uint64_t offset = 0; offset < kernel.span_size; offset += page_size) {
        PageAccess access = kernel_page_access(kernel, kernel.span_start + offset);
        if (!access.mapped)
            continue;
        must(tables.map_page(kernel.span_start + offset, kernel_physical + offset,
                 access.writable ? Writable::Yes : Writable::No, access.executable ? Executable::Yes : Executable::No),
            "cannot map the kernel");
    }
    // Check the tables before betting the machine on them.
    Translation entry = translate(source, tables.root(), kernel.entry);
    Translation info_mapping = translate(source, tables.root(), direct_map_base + handoff);
    if (!entry.present || !entry.executable || entry.physical_address != kernel_physical + (kernel.entry - kernel.span_start)
        || !info_mapping.present || info_mapping.physical_address != handoff)
        fail("page tables failed their self-check", Error::corrupt("kernel entry or BootInfo is not mapped as intended"));
    say("page tables: ", Size { mapped }, " of physical memory mapped twice, ", Decimal { tables.table_pages() }, " table pages");
    say("starting the kernel");

    // From here on nothing may allocate or print: both change the memory map.
    efi::Status status = read_memory_map(system_table, map);
    if (efi::is_error(status))
        fail("cannot read the firmware memory map", Error { ErrorCode::IoError, "GetMemoryMap failed" });
    uint32_t region_count = 0;
    must(convert_memory_map(map.data, map.size, map.descriptor_size, boot_info->regions, boot_info_max_regions, &region_count), "cannot convert the memory map");
    status = system_table->boot_services->exit_boot_services(image, map.key);
    if (status == efi::invalid_parameter) {
        // The map changed under us (an event fired). UEFI 2.x 7.4: fetch the
        // map again and retry; only GetMemoryMap may be called in between.
        status = read_memory_map(system_table, map);
        if (!efi::is_error(status)) {
            auto converted = convert_memory_map(map.data, map.size, map.descriptor_size, boot_info->regions, boot_info_max_regions, &region_count);
            if (converted.is_error()) {
                say_after_exit("error: cannot convert the memory map: ", converted.error().reason());
                for (;;)
                    asm volatile("cli; hlt");
            }
            status = system_table->boot_services->exit_boot_services(image, map.key);
        }
    }
    if (efi::is_error(status)) {
        // Boot services may be half shut down: ConOut is not safe any more.
        say_after_exit("error: ExitBootServices failed twice; boot stopped");
        for (;;)
            asm volatile("cli; hlt");
    }
    boot_info->region_count = region_count;

    jump_to_kernel(tables.root(), direct_map_base + stack_top - 8, direct_map_base + handoff, kernel.entry, direct_map_base + reinterpret_cast<uint64_t>(gdt_pointer));
}
