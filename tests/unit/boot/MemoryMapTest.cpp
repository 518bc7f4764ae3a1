#include "boot/MemoryMap.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

using namespace aisos;
using namespace aisos::boot;

namespace {

// OVMF reports 48-byte descriptors; the parser must use the stride it is
// given, not sizeof(MemoryDescriptor).
constexpr uint64_t stride = 48;

struct Entry {
    efi::MemoryType type;
    uint64_t start;
    uint64_t pages;
};

std::vector<uint8_t> make_map(const std::vector<Entry>& entries)
{
    std::vector<uint8_t> map(entries.size() * stride, 0xa5); // junk in the padding
    for (size_t i = 0; i < entries.size(); ++i) {
        efi::MemoryDescriptor descriptor {};
        descriptor.type = static_cast<uint32_t>(entries[i].type);
        descriptor.physical_start = entries[i].start;
        descriptor.number_of_pages = entries[i].pages;
        std::memcpy(map.data() + i * stride, &descriptor, sizeof(descriptor));
    }
    return map;
}

struct Converted {
    Result<void> result;
    std::vector<MemoryRegion> regions;
};

Converted convert(const std::vector<Entry>& entries, uint32_t capacity = 64)
{
    auto map = make_map(entries);
    std::vector<MemoryRegion> regions(capacity);
    uint32_t count = 12345;
    auto result = convert_memory_map(map.data(), map.size(), stride, regions.data(), capacity, &count);
    regions.resize(result.is_error() ? 0 : count);
    return { result, regions };
}

} // namespace

TEST(MemoryMap, KindsFollowWhatTheKernelMayDoAfterExitBootServices)
{
    EXPECT_EQ(memory_kind_for(efi::MemoryType::Conventional), MemoryKind::Usable);
    EXPECT_EQ(memory_kind_for(efi::MemoryType::BootServicesCode), MemoryKind::Usable);
    EXPECT_EQ(memory_kind_for(efi::MemoryType::BootServicesData), MemoryKind::Usable);
    EXPECT_EQ(memory_kind_for(efi::MemoryType::LoaderCode), MemoryKind::Usable);
    EXPECT_EQ(memory_kind_for(efi::MemoryType::LoaderData), MemoryKind::LoaderData);
    EXPECT_EQ(memory_kind_for(efi::MemoryType::RuntimeServicesCode), MemoryKind::RuntimeServices);
    EXPECT_EQ(memory_kind_for(efi::MemoryType::RuntimeServicesData), MemoryKind::RuntimeServices);
    EXPECT_EQ(memory_kind_for(efi::MemoryType::AcpiReclaim), MemoryKind::AcpiReclaimable);
    EXPECT_EQ(memory_kind_for(efi::MemoryType::AcpiNvs), MemoryKind::AcpiNvs);
    EXPECT_EQ(memory_kind_for(efi::MemoryType::Unusable), MemoryKind::Bad);
    EXPECT_EQ(memory_kind_for(efi::MemoryType::MemoryMappedIo), MemoryKind::Reserved);
    EXPECT_EQ(memory_kind_for(efi::MemoryType::Reserved), MemoryKind::Reserved);
    EXPECT_EQ(memory_kind_for(efi::MemoryType::Persistent), MemoryKind::Persistent);
    EXPECT_EQ(memory_kind_for(efi::MemoryType::Unaccepted), MemoryKind::Reserved);
    EXPECT_EQ(memory_kind_for(static_cast<efi::MemoryType>(0x70000000)), MemoryKind::Reserved); // OEM range
}

TEST(MemoryMap, SortsAndMergesAdjacentRegionsOfTheSameKind)
{
    auto converted = convert({
        { efi::MemoryType::BootServicesData, 0x200000, 16 },
        { efi::MemoryType::Conventional, 0x0, 160 },
        { efi::MemoryType::Conventional, 0x100000, 256 }, // adjacent to the boot-services block: merges
        { efi::MemoryType::LoaderData, 0x210000, 4 },
        { efi::MemoryType::AcpiReclaim, 0x300000, 1 },
    });
    ASSERT_FALSE(converted.result.is_error()) << converted.result.error().reason();
    ASSERT_EQ(converted.regions.size(), 4u);
    EXPECT_EQ(converted.regions[0].base, 0u);
    EXPECT_EQ(converted.regions[0].pages, 160u);
    EXPECT_EQ(converted.regions[1].base, 0x100000u);
    EXPECT_EQ(converted.regions[1].pages, 256u + 16u);
    EXPECT_EQ(converted.regions[1].kind, MemoryKind::Usable);
    EXPECT_EQ(converted.regions[2].base, 0x210000u);
    EXPECT_EQ(converted.regions[2].kind, MemoryKind::LoaderData);
    EXPECT_EQ(converted.regions[3].kind, MemoryKind::AcpiReclaimable);
}

TEST(MemoryMap, MergesAnEntryThatBridgesTwoRegions)
{
    auto converted = convert({
        { efi::MemoryType::Conventional, 0x0, 1 },
        { efi::MemoryType::Conventional, 0x2000, 1 },
        { efi::MemoryType::BootServicesCode, 0x1000, 1 },
    });
    ASSERT_FALSE(converted.result.is_error());
    ASSERT_EQ(converted.regions.size(), 1u);
    EXPECT_EQ(converted.regions[0].pages, 3u);
}

TEST(MemoryMap, KeepsGapsAndKindBoundaries)
{
    auto converted = convert({
        { efi::MemoryType::Conventional, 0x0, 1 },
        { efi::MemoryType::Conventional, 0x3000, 1 }, // gap before
        { efi::MemoryType::RuntimeServicesData, 0x4000, 1 },
    });
    ASSERT_FALSE(converted.result.is_error());
    EXPECT_EQ(converted.regions.size(), 3u);
}

TEST(MemoryMap, SkipsEmptyEntries)
{
    auto converted = convert({ { efi::MemoryType::Conventional, 0x5000, 0 }, { efi::MemoryType::Conventional, 0x0, 2 } });
    ASSERT_FALSE(converted.result.is_error());
    ASSERT_EQ(converted.regions.size(), 1u);
}

TEST(MemoryMap, RejectsBrokenMaps)
{
    EXPECT_EQ(convert({ { efi::MemoryType::Conventional, 0x0, 4 }, { efi::MemoryType::LoaderData, 0x2000, 4 } }).result.error().code(), ErrorCode::Corrupt);
    EXPECT_EQ(convert({ { efi::MemoryType::LoaderData, 0x2000, 4 }, { efi::MemoryType::Conventional, 0x0, 4 } }).result.error().code(), ErrorCode::Corrupt);
    EXPECT_EQ(convert({ { efi::MemoryType::Conventional, 0x1000, 1 }, { efi::MemoryType::Conventional, 0x1000, 1 } }).result.error().code(), ErrorCode::Corrupt);
    EXPECT_EQ(convert({ { efi::MemoryType::Conventional, 0x1001, 1 } }).result.error().code(), ErrorCode::Corrupt);
    EXPECT_EQ(convert({ { efi::MemoryType::Conventional, 0xfffffffffffff000ull, 16 } }).result.error().code(), ErrorCode::Corrupt);

    auto map = make_map({ { efi::MemoryType::Conventional, 0x0, 1 } });
    MemoryRegion regions[4];
    uint32_t count = 0;
    EXPECT_TRUE(convert_memory_map(map.data(), map.size(), 24, regions, 4, &count).is_error()); // stride too small
    EXPECT_TRUE(convert_memory_map(map.data(), map.size() - 1, stride, regions, 4, &count).is_error());
}

TEST(MemoryMap, ReportsTooManyRegions)
{
    std::vector<Entry> entries;
    for (uint64_t i = 0; i < 10; ++i)
        entries.push_back({ i % 2 ? efi::MemoryType::Conventional : efi::MemoryType::LoaderData, i * 0x1000, 1 });
    EXPECT_EQ(convert(entries, 9).result.error().code(), ErrorCode::NoSpace);
    EXPECT_FALSE(convert(entries, 10).result.is_error());
}

TEST(MemoryMap, HighestAddressCoversEveryEntry)
{
    auto map = make_map({
        { efi::MemoryType::Conventional, 0x0, 160 },
        { efi::MemoryType::MemoryMappedIo, 0xffc00000, 1024 },
        { efi::MemoryType::Conventional, 0x100000000ull, 0x80000 },
    });
    EXPECT_EQ(highest_physical_address(map.data(), map.size(), stride), 0x180000000ull);
    EXPECT_EQ(highest_physical_address(nullptr, 0, stride), 0u);
}
