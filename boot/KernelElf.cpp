#include "boot/KernelElf.h"

#include "boot/Bytes.h"
#include "lib/boot/BootInfo.h"

namespace aisos::boot {

namespace {

// ELF64 structures and constants (System V gABI, x86-64 psABI).
struct Elf64Header {
    uint8_t ident[16];
    uint16_t type;
    uint16_t machine;
    uint32_t version;
    uint64_t entry;
    uint64_t program_header_offset;
    uint64_t section_header_offset;
    uint32_t flags;
    uint16_t header_size;
    uint16_t program_header_entry_size;
    uint16_t program_header_count;
    uint16_t section_header_entry_size;
    uint16_t section_header_count;
    uint16_t section_name_index;
};
static_assert(sizeof(Elf64Header) == 64);

struct Elf64ProgramHeader {
    uint32_t type;
    uint32_t flags;
    uint64_t offset;
    uint64_t virtual_address;
    uint64_t physical_address;
    uint64_t file_size;
    uint64_t memory_size;
    uint64_t alignment;
};
static_assert(sizeof(Elf64ProgramHeader) == 56);

constexpr uint8_t elf_class_64 = 2;
constexpr uint8_t elf_data_little_endian = 1;
constexpr uint8_t elf_version_current = 1;
constexpr uint16_t elf_type_executable = 2;
constexpr uint16_t elf_machine_x86_64 = 62;
constexpr uint32_t segment_type_load = 1;
constexpr uint32_t segment_type_interpreter = 3;
// PN_XNUM: the real count lives in section header 0; a kernel never needs it.
constexpr uint16_t program_header_count_extended = 0xffff;
constexpr uint16_t max_program_headers = 256;

constexpr uint64_t round_down_to_page(uint64_t value) { return value & ~(page_size - 1); }

bool add_overflows(uint64_t a, uint64_t b, uint64_t* sum) { return __builtin_add_overflow(a, b, sum); }

} // namespace

Result<KernelImage> parse_kernel_elf(const uint8_t* data, uint64_t size)
{
    if (data == nullptr || size < sizeof(Elf64Header))
        return Error::corrupt("file is too small to be an ELF file");

    Elf64Header header;
    copy_bytes(&header, data, sizeof(header));
    if (header.ident[0] != 0x7f || header.ident[1] != 'E' || header.ident[2] != 'L' || header.ident[3] != 'F')
        return Error::corrupt("not an ELF file (bad magic)");
    if (header.ident[4] != elf_class_64)
        return Error::unsupported("not a 64-bit ELF file");
    if (header.ident[5] != elf_data_little_endian)
        return Error::unsupported("not a little-endian ELF file");
    if (header.ident[6] != elf_version_current || header.version != elf_version_current)
        return Error::unsupported("unknown ELF version");
    if (header.machine != elf_machine_x86_64)
        return Error::unsupported("not an x86_64 ELF file");
    if (header.type != elf_type_executable)
        return Error::unsupported("not an executable ELF file (ET_EXEC expected)");
    if (header.program_header_entry_size != sizeof(Elf64ProgramHeader))
        return Error::corrupt("unexpected program header entry size");
    if (header.program_header_count == 0)
        return Error::corrupt("no program headers");
    if (header.program_header_count == program_header_count_extended || header.program_header_count > max_program_headers)
        return Error::unsupported("too many program headers");

    uint64_t table_size = uint64_t(header.program_header_count) * sizeof(Elf64ProgramHeader);
    uint64_t table_end;
    if (add_overflows(header.program_header_offset, table_size, &table_end) || table_end > size)
        return Error::corrupt("program headers extend beyond the end of the file");

    KernelImage image {};
    image.entry = header.entry;
    uint64_t lowest = ~0ull;
    uint64_t highest_end = 0;

    for (uint16_t i = 0; i < header.program_header_count; ++i) {
        Elf64ProgramHeader program_header;
        copy_bytes(&program_header, data + header.program_header_offset + uint64_t(i) * sizeof(Elf64ProgramHeader), sizeof(program_header));

        if (program_header.type == segment_type_interpreter)
            return Error::unsupported("kernel asks for an interpreter (PT_INTERP); it must be static");
        if (program_header.type != segment_type_load)
            continue;
        if (program_header.memory_size == 0)
            continue;

        if (program_header.file_size > program_header.memory_size)
            return Error::corrupt("PT_LOAD segment has a file size larger than its memory size");
        uint64_t file_end;
        if (add_overflows(program_header.offset, program_header.file_size, &file_end) || file_end > size)
            return Error::corrupt("PT_LOAD segment extends beyond the end of the file");
        if (program_header.virtual_address < kernel_virtual_base)
            return Error::corrupt("PT_LOAD segment below the kernel virtual base (not a higher-half kernel)");
        uint64_t virtual_end;
        // The end is rounded up to a page later, so keep one page of headroom.
        if (add_overflows(program_header.virtual_address, program_header.memory_size, &virtual_end) || virtual_end > ~0ull - page_size + 1)
            return Error::corrupt("PT_LOAD segment wraps around the end of the address space");

        for (uint32_t j = 0; j < image.segment_count; ++j) {
            const KernelSegment& other = image.segments[j];
            if (program_header.virtual_address < other.virtual_address + other.memory_size && other.virtual_address < virtual_end)
                return Error::corrupt("PT_LOAD segments overlap");
        }
        if (image.segment_count == max_kernel_segments)
            return Error::unsupported("too many PT_LOAD segments");

        image.segments[image.segment_count++] = {
            .virtual_address = program_header.virtual_address,
            .file_offset = program_header.offset,
            .file_size = program_header.file_size,
            .memory_size = program_header.memory_size,
            .flags = program_header.flags,
        };
        if (program_header.virtual_address < lowest)
            lowest = program_header.virtual_address;
        if (virtual_end > highest_end)
            highest_end = virtual_end;
    }

    if (image.segment_count == 0)
        return Error::corrupt("no loadable (PT_LOAD) segments");

    image.span_start = round_down_to_page(lowest);
    uint64_t span_end = round_down_to_page(highest_end + page_size - 1);
    if (span_end - image.span_start > max_kernel_span)
        return Error::unsupported("PT_LOAD segments span more than 1 GiB");
    image.span_size = span_end - image.span_start;

    bool entry_found = false;
    for (uint32_t i = 0; i < image.segment_count; ++i) {
        const KernelSegment& segment = image.segments[i];
        if ((segment.flags & segment_executable) && image.entry >= segment.virtual_address && image.entry - segment.virtual_address < segment.file_size)
            entry_found = true;
    }
    if (!entry_found)
        return Error::corrupt("entry point is not inside an executable PT_LOAD segment");

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
