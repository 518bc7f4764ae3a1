#include "boot/KernelElf.h"
#include "lib/boot/BootInfo.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace aisos;
using namespace aisos::boot;

namespace {

constexpr uint64_t base = kernel_virtual_base;

struct SegmentSpec {
    uint32_t type = 1; // PT_LOAD
    uint32_t flags = segment_readable;
    uint64_t virtual_address = base;
    uint64_t file_size = 0;
    uint64_t memory_size = 0;
    uint8_t fill = 0;
    uint64_t alignment = 4096;
};

template<typename T>
void put(std::vector<uint8_t>& out, size_t offset, T value)
{
    if (out.size() < offset + sizeof(T))
        out.resize(offset + sizeof(T));
    std::memcpy(out.data() + offset, &value, sizeof(T));
}

// A minimal ELF64 x86_64 ET_EXEC: header, program headers, then each
// segment's bytes (filled with `fill`) at a page-aligned file offset.
std::vector<uint8_t> make_elf(const std::vector<SegmentSpec>& segments, uint64_t entry)
{
    std::vector<uint8_t> out(64, 0);
    const uint8_t ident[] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
    std::memcpy(out.data(), ident, sizeof(ident));
    put<uint16_t>(out, 16, 2);    // ET_EXEC
    put<uint16_t>(out, 18, 62);   // EM_X86_64
    put<uint32_t>(out, 20, 1);    // EV_CURRENT
    put<uint64_t>(out, 24, entry);
    put<uint64_t>(out, 32, 64);   // phoff
    put<uint16_t>(out, 52, 64);   // ehsize
    put<uint16_t>(out, 54, 56);   // phentsize
    put<uint16_t>(out, 56, static_cast<uint16_t>(segments.size()));
    uint64_t data_offset = 4096;
    for (size_t i = 0; i < segments.size(); ++i) {
        const SegmentSpec& segment = segments[i];
        size_t header = 64 + i * 56;
        put<uint32_t>(out, header + 0, segment.type);
        put<uint32_t>(out, header + 4, segment.flags);
        put<uint64_t>(out, header + 8, data_offset);
        put<uint64_t>(out, header + 16, segment.virtual_address);
        put<uint64_t>(out, header + 24, segment.virtual_address);
        put<uint64_t>(out, header + 32, segment.file_size);
        put<uint64_t>(out, header + 40, segment.memory_size);
        put<uint64_t>(out, header + 48, segment.alignment);
        out.resize(data_offset + segment.file_size, 0);
        std::memset(out.data() + data_offset, segment.fill, segment.file_size);
        data_offset = (data_offset + segment.file_size + 4095) & ~4095ull;
    }
    return out;
}

// The usual shape: text (R+X), rodata (R), data+bss (R+W).
std::vector<uint8_t> typical_kernel()
{
    return make_elf({
                        { .flags = segment_readable | segment_executable, .virtual_address = base, .file_size = 5000, .memory_size = 5000, .fill = 0xc3 },
                        { .flags = segment_readable, .virtual_address = base + 0x2000, .file_size = 100, .memory_size = 100, .fill = 0x11 },
                        { .flags = segment_readable | segment_writable, .virtual_address = base + 0x3000, .file_size = 16, .memory_size = 0x3000, .fill = 0x22 },
                    },
        base + 0x10);
}

std::string parse_error(const std::vector<uint8_t>& elf)
{
    auto result = parse_kernel_elf(elf.data(), elf.size());
    if (!result.is_error())
        return "(no error)";
    return result.error().reason();
}

uint64_t& program_header_field(std::vector<uint8_t>& elf, size_t index, size_t field_offset)
{
    return *reinterpret_cast<uint64_t*>(elf.data() + 64 + index * 56 + field_offset);
}

} // namespace

TEST(KernelElf, ParsesTypicalKernel)
{
    auto elf = typical_kernel();
    auto result = parse_kernel_elf(elf.data(), elf.size());
    ASSERT_FALSE(result.is_error()) << result.error().reason();
    const KernelImage& image = result.value();
    EXPECT_EQ(image.entry, base + 0x10);
    EXPECT_EQ(image.segment_count, 3u);
    EXPECT_EQ(image.span_start, base);
    EXPECT_EQ(image.span_size, 0x6000u);
    EXPECT_EQ(image.segments[2].memory_size, 0x3000u);
}

TEST(KernelElf, CopiesSegmentsAndZeroFillsTheRest)
{
    auto elf = typical_kernel();
    KernelImage image = parse_kernel_elf(elf.data(), elf.size()).release_value();
    std::vector<uint8_t> span(image.span_size, 0xee);
    copy_kernel_segments(image, elf.data(), span.data());
    EXPECT_EQ(span[0], 0xc3);
    EXPECT_EQ(span[4999], 0xc3);
    EXPECT_EQ(span[5000], 0);      // gap after text
    EXPECT_EQ(span[0x1fff], 0);
    EXPECT_EQ(span[0x2000], 0x11);
    EXPECT_EQ(span[0x2063], 0x11);
    EXPECT_EQ(span[0x2064], 0);
    EXPECT_EQ(span[0x3000 + 15], 0x22);
    EXPECT_EQ(span[0x3000 + 16], 0);  // .bss
    EXPECT_EQ(span[0x5fff], 0);
}

TEST(KernelElf, PagePermissionsFollowSegments)
{
    auto elf = typical_kernel();
    KernelImage image = parse_kernel_elf(elf.data(), elf.size()).release_value();
    PageAccess text = kernel_page_access(image, base + 0x1000); // second page of text
    EXPECT_TRUE(text.mapped);
    EXPECT_TRUE(text.executable);
    EXPECT_FALSE(text.writable);
    PageAccess rodata = kernel_page_access(image, base + 0x2000);
    EXPECT_TRUE(rodata.mapped);
    EXPECT_FALSE(rodata.executable);
    EXPECT_FALSE(rodata.writable);
    PageAccess bss = kernel_page_access(image, base + 0x5000);
    EXPECT_TRUE(bss.mapped);
    EXPECT_TRUE(bss.writable);
    EXPECT_FALSE(bss.executable);
}

TEST(KernelElf, PageSharedBySegmentsGetsBothPermissions)
{
    auto elf = make_elf({
                            { .flags = segment_readable | segment_executable, .virtual_address = base, .file_size = 0x100, .memory_size = 0x100 },
                            { .flags = segment_readable | segment_writable, .virtual_address = base + 0x100, .file_size = 0x10, .memory_size = 0x10, .alignment = 1 },
                        },
        base);
    KernelImage image = parse_kernel_elf(elf.data(), elf.size()).release_value();
    EXPECT_EQ(image.span_size, 4096u);
    PageAccess shared = kernel_page_access(image, base);
    EXPECT_TRUE(shared.writable);
    EXPECT_TRUE(shared.executable);
}

TEST(KernelElf, GapPagesStayUnmapped)
{
    auto elf = make_elf({
                            { .flags = segment_readable | segment_executable, .virtual_address = base, .file_size = 16, .memory_size = 16 },
                            { .flags = segment_readable, .virtual_address = base + 0x10000, .file_size = 16, .memory_size = 16 },
                        },
        base);
    KernelImage image = parse_kernel_elf(elf.data(), elf.size()).release_value();
    EXPECT_FALSE(kernel_page_access(image, base + 0x5000).mapped);
    EXPECT_TRUE(kernel_page_access(image, base + 0x10000).mapped);
}

TEST(KernelElf, RejectsBadHeaders)
{
    auto good = typical_kernel();
    EXPECT_EQ(parse_error({}), "ELF file is shorter than its header");
    EXPECT_EQ(parse_error(std::vector<uint8_t>(good.begin(), good.begin() + 63)), "ELF file is shorter than its header");

    auto elf = good;
    elf[1] = 'X';
    EXPECT_EQ(parse_error(elf), "not an ELF file (bad magic)");
    elf = good;
    elf[4] = 1;
    EXPECT_EQ(parse_error(elf), "ELF file is not 64-bit");
    elf = good;
    elf[5] = 2;
    EXPECT_EQ(parse_error(elf), "ELF file is not little-endian");
    elf = good;
    elf[6] = 2;
    EXPECT_EQ(parse_error(elf), "unknown ELF version");
    elf = good;
    put<uint16_t>(elf, 18, 183); // EM_AARCH64
    EXPECT_EQ(parse_error(elf), "ELF file is not for x86_64");
    elf = good;
    put<uint16_t>(elf, 16, 3); // ET_DYN
    EXPECT_EQ(parse_error(elf), "ELF file has the wrong type (executable vs position-independent)");
    elf = good;
    put<uint16_t>(elf, 54, 32);
    EXPECT_EQ(parse_error(elf), "ELF program header entry size is wrong");
    elf = good;
    put<uint16_t>(elf, 56, 0);
    EXPECT_EQ(parse_error(elf), "ELF file has no program headers");
    elf = good;
    put<uint16_t>(elf, 56, 0xffff);
    EXPECT_EQ(parse_error(elf), "ELF file has too many program headers");
}

TEST(KernelElf, RejectsProgramHeadersOutsideTheFile)
{
    auto elf = typical_kernel();
    put<uint64_t>(elf, 32, elf.size() - 100);
    EXPECT_EQ(parse_error(elf), "ELF program header table lies outside the file");
    put<uint64_t>(elf, 32, ~0ull - 8); // offset + size overflows
    EXPECT_EQ(parse_error(elf), "ELF program header table lies outside the file");
    auto truncated = typical_kernel();
    truncated.resize(64 + 56);
    EXPECT_EQ(parse_error(truncated), "ELF program header table lies outside the file");
}

TEST(KernelElf, RejectsBadSegments)
{
    const auto good = typical_kernel();
    auto elf = good;
    program_header_field(elf, 0, 32) = 6000; // filesz > memsz
    EXPECT_EQ(parse_error(elf), "ELF segment file size exceeds its memory size");

    elf = good;
    program_header_field(elf, 1, 8) = elf.size() - 10; // offset near end
    EXPECT_EQ(parse_error(elf), "ELF segment data lies outside the file");

    elf = good;
    program_header_field(elf, 1, 8) = ~0ull - 50; // offset + filesz overflows
    EXPECT_EQ(parse_error(elf), "ELF segment data lies outside the file");

    elf = good;
    program_header_field(elf, 1, 16) = 0x400000; // low half
    EXPECT_EQ(parse_error(elf), "PT_LOAD segment below the kernel virtual base (not a higher-half kernel)");

    elf = good;
    program_header_field(elf, 2, 16) = 0xffffffffffffe000ull; // vaddr + memsz wraps
    EXPECT_EQ(parse_error(elf), "ELF segment address range wraps around");

    elf = good;
    program_header_field(elf, 2, 16) = 0xfffffffffffff000ull; // ends exactly at 2^64
    program_header_field(elf, 2, 40) = 0x1000;
    EXPECT_EQ(parse_error(elf), "PT_LOAD segment reaches the end of the address space");

    elf = good;
    program_header_field(elf, 1, 16) = base + 0x1000; // rodata inside text
    EXPECT_EQ(parse_error(elf), "ELF segments overlap");

    elf = good;
    program_header_field(elf, 2, 40) = 3ull << 29; // 1.5 GiB of .bss
    EXPECT_EQ(parse_error(elf), "PT_LOAD segments span more than 1 GiB");
}

TEST(KernelElf, RejectsEntryOutsideExecutableCode)
{
    auto elf = typical_kernel();
    put<uint64_t>(elf, 24, base + 0x2000); // in rodata
    EXPECT_EQ(parse_error(elf), "ELF entry point is not inside an executable segment");
    put<uint64_t>(elf, 24, 0);
    EXPECT_EQ(parse_error(elf), "ELF entry point is not inside an executable segment");
    put<uint64_t>(elf, 24, base + 5000); // one past the end of text
    EXPECT_EQ(parse_error(elf), "ELF entry point is not inside an executable segment");
}

TEST(KernelElf, RejectsInterpreterAndMissingLoads)
{
    auto elf = make_elf({ { .type = 3, .file_size = 10, .memory_size = 10 } }, base);
    EXPECT_EQ(parse_error(elf), "ELF file needs a dynamic linker (PT_INTERP)");
    elf = make_elf({ { .type = 4, .file_size = 10, .memory_size = 10 } }, base); // PT_NOTE only
    EXPECT_EQ(parse_error(elf), "ELF file has no loadable segments");
    // An empty PT_LOAD is legal and ignored.
    elf = make_elf({ { .flags = segment_executable, .file_size = 16, .memory_size = 16 }, { .virtual_address = base + 0x8000 } }, base);
    auto result = parse_kernel_elf(elf.data(), elf.size());
    ASSERT_FALSE(result.is_error()) << result.error().reason();
    EXPECT_EQ(result.value().segment_count, 1u);
}

TEST(KernelElf, RejectsTooManySegments)
{
    std::vector<SegmentSpec> segments;
    for (size_t i = 0; i <= max_kernel_segments; ++i)
        segments.push_back({ .flags = segment_readable | segment_executable, .virtual_address = base + i * 0x1000, .file_size = 8, .memory_size = 8 });
    auto elf = make_elf(segments, base);
    EXPECT_EQ(parse_error(elf), "ELF file has too many loadable segments");
    segments.pop_back();
    elf = make_elf(segments, base);
    EXPECT_EQ(parse_error(elf), "(no error)");
}

// Random damage to a valid file must give an error or a self-consistent
// image, never an out-of-bounds read (ASan watches).
TEST(KernelElf, SurvivesRandomCorruption)
{
    const auto good = typical_kernel();
    std::mt19937_64 random(12345);
    size_t accepted = 0;
    for (int round = 0; round < 20000; ++round) {
        auto elf = good;
        int flips = 1 + static_cast<int>(random() % 8);
        for (int i = 0; i < flips; ++i) {
            // Most damage lands in the headers, where the parser looks.
            size_t offset = random() % 4 ? random() % (64 + 3 * 56) : random() % elf.size();
            elf[offset] = static_cast<uint8_t>(random());
        }
        if (random() % 4 == 0)
            elf.resize(random() % elf.size());
        auto result = parse_kernel_elf(elf.data(), elf.size());
        if (result.is_error())
            continue;
        ++accepted;
        const KernelImage& image = result.value();
        ASSERT_LE(image.span_size, max_kernel_span);
        ASSERT_GE(image.span_start, base);
        for (uint32_t i = 0; i < image.segment_count; ++i) {
            const KernelSegment& segment = image.segments[i];
            ASSERT_LE(segment.file_offset + segment.file_size, elf.size());
            ASSERT_LE(segment.file_size, segment.memory_size);
            ASSERT_GE(segment.virtual_address, image.span_start);
            ASSERT_LE(segment.virtual_address + segment.memory_size, image.span_start + image.span_size);
        }
        if (image.span_size <= (64u << 20)) {
            std::vector<uint8_t> span(image.span_size);
            copy_kernel_segments(image, elf.data(), span.data());
        }
    }
    EXPECT_GT(accepted, 0u); // the corruption is not so heavy that nothing ever parses
}
