#include "lib/mm/PageTableBuilder.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <memory>
#include <random>
#include <vector>

using namespace aisos;
using namespace aisos::mm;

namespace {

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;
constexpr uint64_t GiB = 1024 * MiB;

// Page tables in host memory with made-up physical addresses.
class FakeTableMemory final : public PageTableMemory {
public:
    explicit FakeTableMemory(size_t limit = 100000)
        : m_limit(limit)
    {
    }

    ErrorOr<uint64_t> allocate_table() override
    {
        if (m_tables.size() >= m_limit)
            return Error::no_memory();
        uint64_t physical = m_next;
        m_next += 4096;
        m_tables[physical] = std::make_unique<std::array<uint64_t, 512>>();
        m_tables[physical]->fill(0);
        ++allocated;
        return physical;
    }
    uint64_t* table_at(uint64_t physical) override
    {
        auto it = m_tables.find(physical);
        EXPECT_NE(it, m_tables.end()) << "walk reached a table that does not exist: " << std::hex << physical;
        return it->second->data();
    }
    void free_table(uint64_t physical) override
    {
        ASSERT_EQ(m_tables.erase(physical), 1u);
        ++freed;
    }
    size_t live() const { return m_tables.size(); }
    void set_limit(size_t limit) { m_limit = limit; }

    size_t allocated { 0 };
    size_t freed { 0 };

private:
    size_t m_limit;
    uint64_t m_next { 0x1000000 };
    std::map<uint64_t, std::unique_ptr<std::array<uint64_t, 512>>> m_tables;
};

uint64_t raw_entry(FakeTableMemory& memory, uint64_t root, uint64_t virt, int target_level)
{
    uint64_t table = root;
    for (int level = 4;; --level) {
        uint64_t entry = memory.table_at(table)[(virt >> (12 + 9 * (level - 1))) & 511];
        if (level == target_level)
            return entry;
        table = entry & paging::address_mask;
    }
}

constexpr auto RW = PageFlags::Writable;

} // namespace

TEST(PageTableBuilder, MapsAndTranslatesA4KiBPage)
{
    FakeTableMemory memory;
    auto builder = MUST(PageTableBuilder::create(memory));
    ASSERT_FALSE(builder.map(0x400000 + 0x3000, 0x1234000, 4096, RW).is_error());
    auto t = builder.translate(0x403abc);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->physical, 0x1234abcu);
    EXPECT_EQ(t->page_size, 4096u);
    EXPECT_EQ(t->flags, RW);
    EXPECT_FALSE(builder.translate(0x404000).has_value());
    EXPECT_FALSE(builder.translate(0x402fff).has_value());
    EXPECT_EQ(memory.allocated, 4u);
    uint64_t pte = raw_entry(memory, builder.root_physical(), 0x403000, 1);
    EXPECT_EQ(pte, 0x1234000 | paging::present | paging::writable | paging::no_execute);
    uint64_t pde = raw_entry(memory, builder.root_physical(), 0x403000, 2);
    EXPECT_EQ(pde & (paging::present | paging::writable | paging::no_execute | paging::user), paging::present | paging::writable);
}

TEST(PageTableBuilder, EncodesEveryFlag)
{
    FakeTableMemory memory;
    auto builder = MUST(PageTableBuilder::create(memory));
    auto all = PageFlags::Writable | PageFlags::Executable | PageFlags::User | PageFlags::CacheDisable | PageFlags::WriteThrough | PageFlags::Global;
    MUST(builder.map(0x1000, 0x5000, 4096, all));
    MUST(builder.map(0x2000, 0x6000, 4096, PageFlags::None));
    EXPECT_EQ(builder.translate(0x1000)->flags, all);
    EXPECT_EQ(builder.translate(0x2000)->flags, PageFlags::None);
    uint64_t pte = raw_entry(memory, builder.root_physical(), 0x1000, 1);
    EXPECT_EQ(pte, 0x5000 | paging::present | paging::writable | paging::user | paging::cache_disable | paging::write_through | paging::global);
    EXPECT_EQ(raw_entry(memory, builder.root_physical(), 0x2000, 1), 0x6000 | paging::present | paging::no_execute);
    // A user page makes the path user-accessible.
    EXPECT_TRUE(raw_entry(memory, builder.root_physical(), 0x1000, 4) & paging::user);
    EXPECT_TRUE(raw_entry(memory, builder.root_physical(), 0x1000, 2) & paging::user);
}

TEST(PageTableBuilder, ChoosesTheLargestPagesAlignmentAllows)
{
    FakeTableMemory memory;
    auto builder = MUST(PageTableBuilder::create(memory));
    uint64_t virt = 0xffff800000000000ull + 1 * GiB;
    MUST(builder.map(virt, 2 * GiB, 1 * GiB + 2 * MiB + 4 * KiB, RW));
    EXPECT_EQ(builder.translate(virt)->page_size, 1 * GiB);
    EXPECT_EQ(builder.translate(virt + GiB - 1)->physical, 3 * GiB - 1);
    EXPECT_EQ(builder.translate(virt + GiB)->page_size, 2 * MiB);
    EXPECT_EQ(builder.translate(virt + GiB + 2 * MiB)->page_size, 4 * KiB);
    EXPECT_EQ(builder.translate(virt + GiB + 2 * MiB)->physical, 3 * GiB + 2 * MiB);
    EXPECT_FALSE(builder.translate(virt + GiB + 2 * MiB + 4 * KiB).has_value());
    EXPECT_EQ(memory.allocated, 4u); // PML4, PDPT, PD, PT
    EXPECT_TRUE(raw_entry(memory, builder.root_physical(), virt, 3) & paging::huge);
}

TEST(PageTableBuilder, LargePagesNeedBothAddressesAligned)
{
    FakeTableMemory memory;
    auto builder = MUST(PageTableBuilder::create(memory));
    MUST(builder.map(4 * MiB, 6 * MiB + 4 * KiB, 4 * MiB, RW));
    EXPECT_EQ(builder.translate(4 * MiB)->page_size, 4 * KiB);
    EXPECT_EQ(builder.translate(8 * MiB - 1)->physical, 10 * MiB + 4 * KiB - 1);
    FakeTableMemory memory2;
    auto forbidden = MUST(PageTableBuilder::create(memory2));
    MUST(forbidden.map(1 * GiB, 1 * GiB, 1 * GiB, RW, { LargePages::Forbidden }));
    EXPECT_EQ(forbidden.translate(1 * GiB + 123 * MiB)->page_size, 4 * KiB);
    EXPECT_EQ(memory2.allocated, 1u + 1u + 1u + 512u);
}

TEST(PageTableBuilder, RejectsBadRanges)
{
    FakeTableMemory memory;
    auto builder = MUST(PageTableBuilder::create(memory));
    EXPECT_EQ(builder.map(0x1000, 0x1000, 0, RW).error().code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(builder.map(0x1001, 0x1000, 4096, RW).error().code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(builder.map(0x1000, 0x1800, 4096, RW).error().code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(builder.map(0x1000, 0x1000, 100, RW).error().code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(builder.map(0x0000800000000000ull, 0x1000, 4096, RW).error().code(), ErrorCode::InvalidArgument);
    // Crosses from the lower canonical half into the hole.
    EXPECT_EQ(builder.map(0x00007ffffffff000ull, 0x1000, 0x2000, RW).error().code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(builder.map(0xfffffffffffff000ull, 0x1000, 0x2000, RW).error().code(), ErrorCode::Overflow);
    EXPECT_EQ(builder.map(0x1000, 1ull << 52, 4096, RW).error().code(), ErrorCode::OutOfRange);
    EXPECT_EQ(builder.map(0x1000, (1ull << 52) - 4096, 8192, RW).error().code(), ErrorCode::OutOfRange);
    EXPECT_TRUE(builder.unmap(0x0000900000000000ull, 4096).is_error());
    EXPECT_FALSE(builder.translate(0x0000800000000000ull).has_value());
    EXPECT_EQ(memory.allocated, 1u);
    // The very top page is fine.
    MUST(builder.map(0xfffffffffffff000ull, 0x7000, 4096, RW));
    EXPECT_EQ(builder.translate(0xffffffffffffffffull)->physical, 0x7fffu);
    MUST(builder.unmap(0xffffffffc0000000ull, 1 * GiB));
    EXPECT_FALSE(builder.translate(0xfffffffffffff000ull).has_value());
}

TEST(PageTableBuilder, RefusesOverlapWithoutChangingAnything)
{
    FakeTableMemory memory;
    auto builder = MUST(PageTableBuilder::create(memory));
    MUST(builder.map(0x200000, 0x200000, 2 * MiB, RW));
    auto overlap = builder.map(0x100000, 0x900000, 1 * MiB + 4096, RW);
    ASSERT_TRUE(overlap.is_error());
    EXPECT_EQ(overlap.error().code(), ErrorCode::Exists);
    EXPECT_FALSE(builder.translate(0x100000).has_value());
    EXPECT_EQ(builder.translate(0x200000)->physical, 0x200000u);
    EXPECT_TRUE(builder.is_any_mapped(0x1ff000, 0x2000));
    EXPECT_FALSE(builder.is_any_mapped(0x400000, 1 * GiB));
}

TEST(PageTableBuilder, ReplaceSplitsALargePageKeepingItsAttributes)
{
    FakeTableMemory memory;
    auto builder = MUST(PageTableBuilder::create(memory));
    auto flags = PageFlags::Writable | PageFlags::Global | PageFlags::CacheDisable;
    MUST(builder.map(1 * GiB, 4 * GiB, 1 * GiB, flags));
    EXPECT_EQ(builder.translate(1 * GiB)->page_size, 1 * GiB);
    MUST(builder.map(1 * GiB + 6 * MiB + 8 * KiB, 0x7000, 4 * KiB, PageFlags::None, { LargePages::Allowed, ExistingMappings::Replace }));
    auto changed = builder.translate(1 * GiB + 6 * MiB + 8 * KiB);
    EXPECT_EQ(changed->physical, 0x7000u);
    EXPECT_EQ(changed->flags, PageFlags::None);
    auto neighbour = builder.translate(1 * GiB + 6 * MiB + 12 * KiB);
    EXPECT_EQ(neighbour->physical, 4 * GiB + 6 * MiB + 12 * KiB);
    EXPECT_EQ(neighbour->flags, flags);
    EXPECT_EQ(neighbour->page_size, 4 * KiB);
    EXPECT_EQ(builder.translate(1 * GiB + 8 * MiB)->page_size, 2 * MiB);
    EXPECT_EQ(builder.translate(1 * GiB + 8 * MiB)->flags, flags);
    EXPECT_EQ(builder.translate(2 * GiB - 1)->physical, 5 * GiB - 1);
}

TEST(PageTableBuilder, ReplacingTablesWithALargePageFreesThem)
{
    FakeTableMemory memory;
    auto builder = MUST(PageTableBuilder::create(memory));
    MUST(builder.map(2 * MiB, 0x100000, 8 * KiB, RW));
    MUST(builder.map(4 * MiB, 0x300000, 4 * KiB, RW));
    EXPECT_EQ(memory.live(), 5u);
    MUST(builder.map(0, 0, 1 * GiB, RW, { LargePages::Allowed, ExistingMappings::Replace }));
    EXPECT_EQ(builder.translate(2 * MiB)->physical, 2 * MiB);
    EXPECT_EQ(builder.translate(2 * MiB)->page_size, 1 * GiB);
    EXPECT_EQ(memory.freed, 3u); // the PD and its two PTs
    EXPECT_EQ(memory.live(), 2u);
}

TEST(PageTableBuilder, UnmapSplitsAtBothEnds)
{
    FakeTableMemory memory;
    auto builder = MUST(PageTableBuilder::create(memory));
    MUST(builder.map(1 * GiB, 1 * GiB, 1 * GiB, RW));
    MUST(builder.unmap(1 * GiB + 2 * MiB - 8 * KiB, 4 * MiB + 16 * KiB));
    EXPECT_EQ(builder.translate(1 * GiB + 2 * MiB - 12 * KiB)->physical, 1 * GiB + 2 * MiB - 12 * KiB);
    EXPECT_FALSE(builder.translate(1 * GiB + 2 * MiB - 8 * KiB).has_value());
    EXPECT_FALSE(builder.translate(1 * GiB + 4 * MiB).has_value());
    EXPECT_FALSE(builder.translate(1 * GiB + 6 * MiB + 4 * KiB).has_value());
    EXPECT_EQ(builder.translate(1 * GiB + 6 * MiB + 8 * KiB)->page_size, 4 * KiB);
    EXPECT_EQ(builder.translate(1 * GiB + 8 * MiB)->page_size, 2 * MiB);
    EXPECT_EQ(builder.translate(1 * GiB)->page_size, 4 * KiB); // its 2 MiB page was split
    EXPECT_EQ(builder.translate(1 * GiB)->physical, 1 * GiB);
    // Holes are fine, and unmapping nothing changes nothing.
    MUST(builder.unmap(0xffff800000000000ull, 512 * GiB));
    MUST(builder.unmap(1 * GiB, 3 * GiB));
    EXPECT_FALSE(builder.is_any_mapped(0, 4 * GiB));
}

TEST(PageTableBuilder, OutOfTablesLeavesNothingMapped)
{
    FakeTableMemory memory(3);
    auto builder = MUST(PageTableBuilder::create(memory));
    // Needs PML4 + PDPT + PD + 2 PTs.
    auto result = builder.map(2 * MiB - 8 * KiB, 0x100000, 16 * KiB, RW, { LargePages::Forbidden });
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), ErrorCode::OutOfMemory);
    EXPECT_FALSE(builder.is_any_mapped(0, 1 * GiB));
    memory.set_limit(100);
    MUST(builder.map(2 * MiB - 8 * KiB, 0x100000, 16 * KiB, RW, { LargePages::Forbidden }));
    EXPECT_EQ(builder.translate(2 * MiB + 4 * KiB)->physical, 0x100000u + 12 * KiB);

    FakeTableMemory none(0);
    EXPECT_EQ(PageTableBuilder::create(none).error().code(), ErrorCode::OutOfMemory);
}

TEST(PageTableBuilder, RandomOperationsMatchAModel)
{
    // 64 MiB window with mixed page sizes, compared page by page to a model.
    FakeTableMemory memory;
    auto builder = MUST(PageTableBuilder::create(memory));
    constexpr uint64_t base = 0xffffffff80000000ull;
    constexpr size_t pages = 64 * MiB / 4096;
    std::vector<uint64_t> model(pages, 0); // physical + 1, 0 = unmapped
    std::mt19937_64 rng(99);
    for (int step = 0; step < 400; ++step) {
        bool big = rng() % 3 == 0;
        uint64_t align = big ? 512 : 1;
        uint64_t first = (rng() % pages) / align * align;
        uint64_t count = big ? 512 * (1 + rng() % 3) : 1 + rng() % 700;
        if (first + count > pages)
            count = pages - first;
        if (rng() % 4 == 0) {
            MUST(builder.unmap(base + first * 4096, count * 4096));
            for (uint64_t i = 0; i < count; ++i)
                model[first + i] = 0;
        } else {
            uint64_t phys = (rng() % 1024) * 2 * MiB + (big ? 0 : (rng() % 512) * 4096);
            MUST(builder.map(base + first * 4096, phys, count * 4096, RW, { LargePages::Allowed, ExistingMappings::Replace }));
            for (uint64_t i = 0; i < count; ++i)
                model[first + i] = phys + i * 4096 + 1;
        }
    }
    for (size_t i = 0; i < pages; ++i) {
        auto t = builder.translate(base + i * 4096 + 8);
        if (model[i] == 0) {
            ASSERT_FALSE(t.has_value()) << i;
        } else {
            ASSERT_TRUE(t.has_value()) << i;
            ASSERT_EQ(t->physical, model[i] - 1 + 8) << i;
        }
    }
}

TEST(PageTableBuilder, VisitsMappingsInOrder)
{
    FakeTableMemory memory;
    auto builder = MUST(PageTableBuilder::create(memory));
    MUST(builder.map(2 * MiB - 4 * KiB, 0x10000, 4 * KiB, RW));
    MUST(builder.map(2 * MiB, 8 * MiB, 2 * MiB, PageFlags::Executable));
    MUST(builder.map(0xffffffff80000000ull, 1 * GiB, 1 * GiB, RW | PageFlags::Global));
    std::vector<Mapping> seen;
    builder.for_each_mapping(0, 1ull << 47, [&](Mapping const& m) { seen.push_back(m); });
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].virtual_address, 2 * MiB - 4 * KiB);
    EXPECT_EQ(seen[0].physical_address, 0x10000u);
    EXPECT_EQ(seen[0].page_size, 4 * KiB);
    EXPECT_EQ(seen[1].virtual_address, 2 * MiB);
    EXPECT_EQ(seen[1].page_size, 2 * MiB);
    EXPECT_EQ(seen[1].flags, PageFlags::Executable);
    seen.clear();
    builder.for_each_mapping(0xffff800000000000ull, 1ull << 47, [&](Mapping const& m) { seen.push_back(m); });
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].virtual_address, 0xffffffff80000000ull);
    EXPECT_EQ(seen[0].page_size, 1 * GiB);
    // A range that starts inside a large page reports the whole page.
    seen.clear();
    builder.for_each_mapping(3 * MiB, 4 * KiB, [&](Mapping const& m) { seen.push_back(m); });
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].virtual_address, 2 * MiB);
}

TEST(PageTableBuilder, ReleasesEmptyTablesOnlyWhenAsked)
{
    FakeTableMemory memory;
    auto builder = MUST(PageTableBuilder::create(memory));
    MUST(builder.map(0x400000, 0x1000000, 16 * KiB, RW | PageFlags::User));
    MUST(builder.map(0x7fff0000000ull, 0x2000000, 4 * KiB, RW | PageFlags::User));
    MUST(builder.map(0xffffffff80000000ull, 0, 2 * MiB, RW));
    size_t before = memory.live();
    EXPECT_EQ(before, 1u + 3u + 3u + 2u); // root; PDPT, PD, PT twice; kernel PDPT, PD
    MUST(builder.unmap(0x400000, 16 * KiB));
    EXPECT_EQ(memory.live(), before); // unmap alone keeps the tables
    // Only the now-empty PT/PD/PDPT of the first mapping go; the second user
    // mapping and the kernel half keep theirs.
    EXPECT_EQ(builder.release_empty_tables(0, 1ull << 47), 3u);
    EXPECT_EQ(memory.live(), before - 3);
    EXPECT_EQ(builder.translate(0x7fff0000000ull)->physical, 0x2000000u);
    MUST(builder.unmap(0, 1ull << 47));
    EXPECT_EQ(builder.release_empty_tables(0, 1ull << 47), 3u);
    EXPECT_EQ(memory.live(), 1u + 2u);
    EXPECT_EQ(builder.translate(0xffffffff80001000ull)->physical, 0x1000u);
    // The tables come back when needed.
    MUST(builder.map(0x400000, 0x1000000, 4 * KiB, RW));
    EXPECT_EQ(builder.translate(0x400000)->physical, 0x1000000u);
    EXPECT_EQ(builder.release_empty_tables(0x0000900000000000ull, 4096), 0u); // non-canonical: nothing
}
