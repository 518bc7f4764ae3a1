#include "boot/KernelElf.h"

#include "boot/Bytes.h"
#include "lib/boot/BootInfo.h"
#include "lib/elf/Executable.h"

namespace aisos::boot {

namespace {

constexpr uint64_t round_down_to_page(uint64_t value) { return value & ~(page_size - 1); }

} // namespace

Result<KernelImage> parse_kernel_elf(const uint8_t* data, uint64_t size)
{
    // The generic checks (header, program headers and segments inside the
    // file, no wrap, no overlap, entry in executable code) are shared with
    // the kernel's module loader; what makes a file a kernel is checked here.
    elf::ExecutableLayout layout;
    elf::ElfCheck check = elf::parse_executable(data, size, elf::ImageType::Executable, layout);
    if (!check.ok())
        return Error { check.unsupported ? ErrorCode::Unsupported : ErrorCode::Corrupt, check.reason };

    if (layout.lowest_address < kernel_virtual_base)
        return Error::corrupt("PT_LOAD segment below the kernel virtual base (not a higher-half kernel)");
    // end_address 0 means the image runs to the very top of the address
    // space; the span is rounded up to a page, so keep one page of headroom.
    if (layout.end_address == 0 || layout.end_address > ~0ull - page_size + 1)
        return Error::corrupt("PT_LOAD segment reaches the end of the address space");
    static_assert(elf::max_load_segments <= max_kernel_segments);

    KernelImage image {};
    image.entry = layout.entry;
    image.span_start = round_down_to_page(layout.lowest_address);
    uint64_t span_end = round_down_to_page(layout.end_address + page_size - 1);
    if (span_end - image.span_start > max_kernel_span)
        return Error::unsupported("PT_LOAD segments span more than 1 GiB");
    image.span_size = span_end - image.span_start;
    image.segment_count = layout.segment_count;
    for (uint32_t i = 0; i < layout.segment_count; ++i) {
        const elf::LoadSegment& segment = layout.segments[i];
        image.segments[i] = {
            .virtual_address = segment.virtual_address,
            .file_offset = segment.file_offset,
            .file_size = segment.file_size,
            .memory_size = segment.memory_size,
            .flags = segment.flags,
        };
    }
    return image;
}

void copy_kernel_segments(const KernelImage& image, const uint8_t* file, uint8_t* span)
{
    fill_bytes(span, 0, image.span_size);
    for (uint32_t i = 0; i < image.segment_count; ++i) {
        const KernelSegment& segment = image.segments[i];
        copy_bytes(span + (segment.virtual_address - image.span_start), file + segment.file_offset, segment.file_size);
    }
}

PageAccess kernel_page_access(const KernelImage& image, uint64_t page_virtual)
{
    PageAccess access {};
    for (uint32_t i = 0; i < image.segment_count; ++i) {
        const KernelSegment& segment = image.segments[i];
        uint64_t first_page = round_down_to_page(segment.virtual_address);
        uint64_t last_page = round_down_to_page(segment.virtual_address + segment.memory_size - 1);
        if (page_virtual < first_page || page_virtual > last_page)
            continue;
        access.mapped = true;
        access.writable |= (segment.flags & segment_writable) != 0;
        access.executable |= (segment.flags & segment_executable) != 0;
    }
    return access;
}

} // namespace aisos::boot
