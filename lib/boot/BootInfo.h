#pragma once

// The hand-over from the UEFI loader (boot/) to the kernel. Versioned: the
// kernel refuses a BootInfo whose magic or version it does not know, so an
// old loader and a new kernel never misread each other.
//
// Plain C layout and no standard library: the loader is built for the
// x86_64-windows (PE32+) target, where libstdc++ headers do not work.

#include <stddef.h>
#include <stdint.h>

namespace aisos {

inline constexpr uint64_t boot_info_magic = 0x4f4f42534f534961ull; // "aISOSBOO"
inline constexpr uint32_t boot_info_version = 1;

enum class MemoryKind : uint32_t {
    Usable = 1,            // free RAM (EFI conventional, boot services code/data after exit)
    Reserved = 2,          // firmware reserved, MMIO, unusable
    AcpiReclaimable = 3,   // ACPI tables; usable after the kernel has parsed them
    AcpiNvs = 4,
    LoaderData = 5,        // kernel image, BootInfo, files handed over: keep
    Bad = 6,
    RuntimeServices = 7,   // EFI runtime code/data: keep
    Persistent = 8,
};

struct MemoryRegion {
    uint64_t base;  // physical address, 4 KiB aligned
    uint64_t pages; // 4 KiB pages
    MemoryKind kind;
    uint32_t reserved;
};

enum class PixelFormat : uint32_t {
    None = 0,
    Rgbx8 = 1, // byte order R, G, B, reserved
    Bgrx8 = 2, // byte order B, G, R, reserved
};

struct Framebuffer {
    uint64_t base; // physical address, 0 when there is no framebuffer
    uint64_t size;
    uint32_t width;
    uint32_t height;
    uint32_t pixels_per_scanline;
    PixelFormat format;
};

// A file the loader read from its volume, kept in LoaderData memory.
struct LoadedFile {
    uint64_t base; // physical address, 0 when absent
    uint64_t size;
};

inline constexpr size_t boot_info_max_regions = 512;

struct BootInfo {
    uint64_t magic;
    uint32_t version;
    uint32_t size; // sizeof(BootInfo) as the loader knew it

    uint64_t acpi_rsdp; // physical address of the RSDP, 0 when not found
    Framebuffer framebuffer;

    LoadedFile kernel_file; // the whole kernel.elf, for symbols in backtraces
    LoadedFile config_file; // aisos.cfg (absent: size 0)
    LoadedFile initrd;      // optional

    uint64_t kernel_physical_base; // where the kernel's first PT_LOAD segment lives
    uint64_t kernel_physical_size; // bytes from kernel_physical_base covered by the image

    uint32_t region_count;
    uint32_t reserved;
    MemoryRegion regions[boot_info_max_regions];
};

} // namespace aisos

// The entry contract (what boot/ guarantees when it jumps to the kernel):
// - long mode, interrupts disabled, EFER.NXE set, CR0.WP set;
// - CR3 points at loader-built page tables that map:
//     * all physical memory the UEFI map mentions, and at least 0..4 GiB,
//       twice: identity, and at direct_map_base + physical (2 MiB pages,
//       writable, cached except nothing: the kernel remaps MMIO itself);
//     * every PT_LOAD segment of kernel.elf at its virtual address
//       (higher half, kernel_virtual_base and up) onto freshly allocated
//       physical pages, zero-filled beyond the file size;
// - RDI holds the BootInfo's direct-map virtual address, RSP a 64 KiB
//   loader-allocated stack (LoaderData, 16-byte aligned minus 8, as after a
//   call), RBP zero so that backtraces stop;
// - every address inside BootInfo is physical.
namespace aisos {
inline constexpr uint64_t direct_map_base = 0xffff800000000000ull;
inline constexpr uint64_t kernel_virtual_base = 0xffffffff80000000ull;
}
