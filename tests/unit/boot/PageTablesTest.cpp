#include "boot/PageTables.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

using namespace aisos;
using namespace aisos::boot;

namespace {

// Page-table pages from a host arena standing for physical memory at
// arena_base; allocation fails after `limit` pages.
struct Arena {
    static constexpr uint64_t arena_base = 0x10000000;
    std::vector<std::vector<uint64_t>> pages;
    size_t limit = 1000;

    static Result<uint64_t> allocate(void* context)
    {
        auto* arena = static_cast<Arena*>(context);
        if (arena->pages.size() == arena->limit)
            return Error::no_memory();
        arena->pages.emplace_back(512, 0);
        return arena_base + (arena->pages.size() - 1) * 4096;
    }
    static uint64_t* access(void* context, uint64_t physical)
    {
        auto* arena = static_cast<Arena*>(context);
        return arena->pages.at((physical - arena_base) / 4096).data();
    }
    PageSource source() { return { this, allocate, access }; }
};

constexpr uint64_t direct = 0xffff800000000000ull;
constexpr uint64_t kernel = 0xffffffff80000000ull;

} // namespace

TEST(PageTables, IdentityAndDirectMapOfFourGiB)
{
    Arena arena;
    auto tables = PageTableBuilder::create(arena.source()).release_value();
    ASSERT_FALSE(tables.map_physical_range_large(0, 4ull << 30, Executable::Yes).is_error());
    ASSERT_FALSE(tables.map_physical_range_large(direct, 4ull << 30, Executable::No).is_error());
    // PML4 + (PDPT + 4 PDs) per map.
    EXPECT_EQ(tables.table_pages(), 11u);
    EXPECT_EQ(arena.pages.size(), 11u);

    for (uint64_t physical : { 0x0ull, 0x1234ull, 0x7fffffffull, 0xfee00000ull, (4ull << 30) - 1 }) {
        Translation identity = translate(arena.source(), tables.root(), physical);
        ASSERT_TRUE(identity.present) << std::hex << physical;
        EXPECT_EQ(identity.physical_address, physical);
        EXPECT_TRUE(identity.writable);
        EXPECT_TRUE(identity.executable);
        EXPECT_TRUE(identity.large);
        Translation mapped = translate(arena.source(), tables.root(), direct + physical);
        ASSERT_TRUE(mapped.present);
        EXPECT_EQ(mapped.physical_address, physical);
        EXPECT_TRUE(mapped.writable);
        EXPECT_FALSE(mapped.executable);
    }
    EXPECT_FALSE(translate(arena.source(), tables.root(), 4ull << 30).present);
    EXPECT_FALSE(translate(arena.source(), tables.root(), direct + (4ull << 30)).present);
    EXPECT_FALSE(translate(arena.source(), tables.root(), 0x0000800000000000ull).present); // non-canonical
}

TEST(PageTables, KernelPagesWithPermissions)
{
    Arena arena;
    auto tables = PageTableBuilder::create(arena.source()).release_value();
    ASSERT_FALSE(tables.map_page(kernel, 0x200000, Writable::No, Executable::Yes).is_error());
    ASSERT_FALSE(tables.map_page(kernel + 0x1000, 0x201000, Writable::No, Executable::No).is_error());
    ASSERT_FALSE(tables.map_page(kernel + 0x2000, 0x202000, Writable::Yes, Executable::No).is_error());

    Translation text = translate(arena.source(), tables.root(), kernel + 0x123);
    ASSERT_TRUE(text.present);
    EXPECT_EQ(text.physical_address, 0x200123u);
    EXPECT_TRUE(text.executable);
    EXPECT_FALSE(text.writable);
    EXPECT_FALSE(text.large);
    Translation rodata = translate(arena.source(), tables.root(), kernel + 0x1000);
    EXPECT_FALSE(rodata.executable);
    EXPECT_FALSE(rodata.writable);
    Translation data = translate(arena.source(), tables.root(), kernel + 0x2fff);
    EXPECT_EQ(data.physical_address, 0x202fffu);
    EXPECT_TRUE(data.writable);
    EXPECT_FALSE(data.executable);
    EXPECT_FALSE(translate(arena.source(), tables.root(), kernel + 0x3000).present);
}

TEST(PageTables, RefusesToMapTwice)
{
    Arena arena;
    auto tables = PageTableBuilder::create(arena.source()).release_value();
    ASSERT_FALSE(tables.map_page(kernel, 0x1000, Writable::Yes, Executable::No).is_error());
    EXPECT_EQ(tables.map_page(kernel, 0x2000, Writable::Yes, Executable::No).error().code(), ErrorCode::Exists);
    ASSERT_FALSE(tables.map_physical_range_large(0, 2ull << 20, Executable::Yes).is_error());
    EXPECT_EQ(tables.map_page(0x1000, 0x1000, Writable::Yes, Executable::No).error().code(), ErrorCode::Exists);
    EXPECT_EQ(tables.map_physical_range_large(0, 2ull << 20, Executable::Yes).error().code(), ErrorCode::Exists);
}

TEST(PageTables, RejectsBadArguments)
{
    Arena arena;
    auto tables = PageTableBuilder::create(arena.source()).release_value();
    EXPECT_TRUE(tables.map_page(kernel + 1, 0x1000, Writable::Yes, Executable::No).is_error());
    EXPECT_TRUE(tables.map_page(kernel, 0x1001, Writable::Yes, Executable::No).is_error());
    EXPECT_TRUE(tables.map_page(0x0000800000000000ull, 0x1000, Writable::Yes, Executable::No).is_error());
    EXPECT_TRUE(tables.map_page(kernel, 1ull << 52, Writable::Yes, Executable::No).is_error());
    EXPECT_TRUE(tables.map_physical_range_large(0x1000, 2ull << 20, Executable::No).is_error());
    EXPECT_TRUE(tables.map_physical_range_large(0, 0x1000, Executable::No).is_error());
    EXPECT_TRUE(tables.map_physical_range_large(0, 0, Executable::No).is_error());
    // Crossing from the lower canonical half into the hole.
    EXPECT_TRUE(tables.map_physical_range_large(0x00007fffffe00000ull, 4ull << 20, Executable::No).is_error());
    EXPECT_TRUE(PageTableBuilder::create({ nullptr, nullptr, nullptr }).is_error());
}

TEST(PageTables, AllocationFailureIsAnError)
{
    Arena arena;
    arena.limit = 3; // PML4, PDPT, one PD: 1 GiB fits, 2 GiB does not
    auto tables = PageTableBuilder::create(arena.source()).release_value();
    EXPECT_FALSE(tables.map_physical_range_large(0, 1ull << 30, Executable::No).is_error());
    auto result = tables.map_physical_range_large(1ull << 30, 1ull << 30, Executable::No);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), ErrorCode::OutOfMemory);
}
