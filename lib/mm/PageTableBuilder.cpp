#include "lib/mm/PageTableBuilder.h"

namespace aisos::mm {

using namespace paging;

namespace {

uint64_t leaf_bits(PageFlags flags, int level)
{
    uint64_t bits = present;
    if (has_flag(flags, PageFlags::Writable))
        bits |= writable;
    if (!has_flag(flags, PageFlags::Executable))
        bits |= no_execute;
    if (has_flag(flags, PageFlags::User))
        bits |= user;
    if (has_flag(flags, PageFlags::CacheDisable))
        bits |= cache_disable;
    if (has_flag(flags, PageFlags::WriteThrough))
        bits |= write_through;
    if (has_flag(flags, PageFlags::Global))
        bits |= global;
    if (level > 1)
        bits |= huge;
    return bits;
}

PageFlags flags_of(uint64_t entry)
{
    PageFlags flags = PageFlags::None;
    if (entry & writable)
        flags = flags | PageFlags::Writable;
    if (!(entry & no_execute))
        flags = flags | PageFlags::Executable;
    if (entry & user)
        flags = flags | PageFlags::User;
    if (entry & cache_disable)
        flags = flags | PageFlags::CacheDisable;
    if (entry & write_through)
        flags = flags | PageFlags::WriteThrough;
    if (entry & global)
        flags = flags | PageFlags::Global;
    return flags;
}

bool is_leaf(uint64_t entry, int level) { return level == 1 || (level <= 3 && (entry & huge)); }

// Physical base of a leaf at `level`.
uint64_t leaf_address(uint64_t entry, int level)
{
    uint64_t mask = address_mask;
    if (level == 2)
        mask &= ~(size_2m - 1);
    else if (level == 3)
        mask &= ~(size_1g - 1);
    return entry & mask;
}

} // namespace

ErrorOr<PageTableBuilder> PageTableBuilder::create(PageTableMemory& memory)
{
    uint64_t root = TRY(memory.allocate_table());
    if (root & ~address_mask)
        return Error::invalid("page table memory returned an unaligned table");
    return PageTableBuilder(memory, root);
}

ErrorOr<void> PageTableBuilder::validate_range(uint64_t virt, uint64_t size) const
{
    if (size == 0)
        return Error::invalid("empty virtual range");
    if ((virt | size) & (size_4k - 1))
        return Error::invalid("virtual range is not 4 KiB aligned");
    if (virt > ~0ull - (size - 1))
        return Error { ErrorCode::Overflow, "virtual range wraps around" };
    uint64_t last = virt + size - 1;
    if (!is_canonical(virt) || !is_canonical(last) || (virt >> 63) != (last >> 63))
        return Error::invalid("virtual range is not canonical");
    return {};
}

PageTableBuilder::Lookup PageTableBuilder::find(uint64_t virt) const
{
    uint64_t* table = m_memory->table_at(m_root);
    for (int level = 4;; --level) {
        uint64_t* entry = &table[index_at(virt, level)];
        if (!(*entry & present) || is_leaf(*entry, level))
            return { entry, level };
        table = m_memory->table_at(*entry & address_mask);
    }
}

std::optional<Translation> PageTableBuilder::translate(uint64_t virt) const
{
    if (!is_canonical(virt))
        return std::nullopt;
    auto lookup = find(virt);
    uint64_t entry = *lookup.entry;
    if (!(entry & present))
        return std::nullopt;
    uint64_t span = entry_span(lookup.level);
    return Translation { leaf_address(entry, lookup.level) + (virt & (span - 1)), flags_of(entry), span };
}

bool PageTableBuilder::is_any_mapped(uint64_t virt, uint64_t size) const
{
    if (validate_range(virt, size).is_error())
        return false;
    uint64_t cursor = virt;
    uint64_t end_inclusive = virt + size - 1;
    while (true) {
        auto lookup = find(cursor);
        if (*lookup.entry & present)
            return true;
        uint64_t span = entry_span(lookup.level);
        uint64_t next = (cursor & ~(span - 1)) + span;
        if (next == 0 || next - 1 >= end_inclusive)
            return false;
        cursor = next;
    }
}

ErrorOr<void> PageTableBuilder::split(uint64_t* entry, int level)
{
    uint64_t table_physical = TRY(m_memory->allocate_table());
    uint64_t* table = m_memory->table_at(table_physical);
    uint64_t base = leaf_address(*entry, level);
    uint64_t attributes = *entry & ~address_mask & ~huge;
    bool pat = *entry & pat_large;
    int child_level = level - 1;
    uint64_t child_span = entry_span(child_level);
    uint64_t child_bits = attributes;
    if (child_level == 1) {
        if (pat)
            child_bits |= pat_4k;
    } else {
        child_bits |= huge | (pat ? pat_large : 0);
    }
    for (size_t i = 0; i < 512; ++i)
        table[i] = (base + i * child_span) | child_bits;
    *entry = table_physical | present | writable | (*entry & user);
    return {};
}

// `level` is the level of the entries inside the table being freed.
void PageTableBuilder::free_subtree(uint64_t table_physical, int level)
{
    if (level > 1) {
        uint64_t* table = m_memory->table_at(table_physical);
        for (size_t i = 0; i < 512; ++i) {
            if ((table[i] & present) && !is_leaf(table[i], level))
                free_subtree(table[i] & address_mask, level - 1);
        }
    }
    m_memory->free_table(table_physical);
}

ErrorOr<uint64_t*> PageTableBuilder::walk_create(uint64_t virt, int target_level, bool for_user)
{
    uint64_t* table = m_memory->table_at(m_root);
    for (int level = 4; level > target_level; --level) {
        uint64_t* entry = &table[index_at(virt, level)];
        if (!(*entry & present)) {
            uint64_t table_physical = TRY(m_memory->allocate_table());
            if (table_physical & ~address_mask)
                return Error::invalid("page table memory returned an unaligned table");
            *entry = table_physical | present | writable;
        } else if (is_leaf(*entry, level)) {
            TRY(split(entry, level));
        }
        if (for_user)
            *entry |= user;
        table = m_memory->table_at(*entry & address_mask);
    }
    return &table[index_at(virt, target_level)];
}

ErrorOr<void> PageTableBuilder::map_pages(uint64_t virt, uint64_t phys, uint64_t size, PageFlags flags, MapOptions options, uint64_t& mapped)
{
    bool for_user = has_flag(flags, PageFlags::User);
    while (mapped < size) {
        uint64_t v = virt + mapped;
        uint64_t p = phys + mapped;
        uint64_t remaining = size - mapped;
        int level = 1;
        if (options.large_pages == LargePages::Allowed) {
            for (int candidate = 3; candidate >= 2; --candidate) {
                uint64_t span = entry_span(candidate);
                if (((v | p) & (span - 1)) == 0 && remaining >= span) {
                    level = candidate;
                    break;
                }
            }
        }
        uint64_t* entry = TRY(walk_create(v, level, for_user));
        if ((*entry & present) && !is_leaf(*entry, level))
            free_subtree(*entry & address_mask, level - 1);
        *entry = p | leaf_bits(flags, level);
        mapped += entry_span(level);
    }
    return {};
}

ErrorOr<void> PageTableBuilder::map(uint64_t virt, uint64_t phys, uint64_t size, PageFlags flags, MapOptions options)
{
    TRY(validate_range(virt, size));
    if (phys & (size_4k - 1))
        return Error::invalid("physical address is not 4 KiB aligned");
    if (phys >= max_physical_address || size > max_physical_address - phys)
        return Error { ErrorCode::OutOfRange, "physical range beyond 52 address bits" };
    if (options.existing == ExistingMappings::Refuse && is_any_mapped(virt, size))
        return Error { ErrorCode::Exists, "virtual range already mapped" };

    uint64_t mapped = 0;
    auto result = map_pages(virt, phys, size, flags, options, mapped);
    if (result.is_error() && options.existing == ExistingMappings::Refuse && mapped > 0) {
        // Undo what was mapped: those pages were all free before, and were
        // mapped whole, so unmapping them needs no split (no allocation).
        (void)unmap(virt, mapped);
    }
    return result;
}

ErrorOr<void> PageTableBuilder::unmap(uint64_t virt, uint64_t size)
{
    TRY(validate_range(virt, size));
    uint64_t cursor = virt;
    uint64_t end_inclusive = virt + size - 1;
    while (true) {
        auto lookup = find(cursor);
        uint64_t span = entry_span(lookup.level);
        uint64_t entry_start = cursor & ~(span - 1);
        if (*lookup.entry & present) {
            // A leaf. Clear it when the range covers all of it, otherwise
            // split it and look again one level down.
            if (entry_start == cursor && end_inclusive - cursor >= span - 1) {
                *lookup.entry = 0;
            } else {
                TRY(split(lookup.entry, lookup.level));
                continue;
            }
        }
        uint64_t next = entry_start + span;
        if (next == 0 || next - 1 >= end_inclusive)
            return {};
        cursor = next;
    }
}

void PageTableBuilder::walk_mappings(uint64_t virt, uint64_t size, void (*visit)(void*, Mapping const&), void* context) const
{
    if (validate_range(virt, size).is_error())
        return;
    uint64_t cursor = virt;
    uint64_t end_inclusive = virt + size - 1;
    while (true) {
        auto lookup = find(cursor);
        uint64_t span = entry_span(lookup.level);
        uint64_t entry_start = cursor & ~(span - 1);
        uint64_t entry = *lookup.entry;
        if (entry & present)
            visit(context, Mapping { entry_start, leaf_address(entry, lookup.level), span, flags_of(entry) });
        uint64_t next = entry_start + span;
        if (next == 0 || next - 1 >= end_inclusive)
            return;
        cursor = next;
    }
}

// Frees empty tables below the table at `level` (covering virtual addresses
// from table_base) whose entries overlap [first, last]; returns how many.
size_t PageTableBuilder::release_empty(uint64_t table_physical, int level, uint64_t table_base, uint64_t first, uint64_t last)
{
    uint64_t* table = m_memory->table_at(table_physical);
    uint64_t span = entry_span(level);
    size_t freed = 0;
    for (size_t i = 0; i < 512; ++i) {
        uint64_t entry_first = table_base + i * span;
        uint64_t entry_last = entry_first + (span - 1);
        if (entry_last < first || entry_first > last)
            continue;
        uint64_t entry = table[i];
        if (!(entry & present) || is_leaf(entry, level))
            continue;
        uint64_t child = entry & address_mask;
        freed += release_empty(child, level - 1, entry_first, first, last);
        uint64_t* child_table = m_memory->table_at(child);
        bool empty = true;
        for (size_t k = 0; k < 512 && empty; ++k)
            empty = child_table[k] == 0;
        if (empty) {
            table[i] = 0;
            m_memory->free_table(child);
            ++freed;
        }
    }
    return freed;
}

size_t PageTableBuilder::release_empty_tables(uint64_t virt, uint64_t size)
{
    if (validate_range(virt, size).is_error())
        return 0;
    // Work in sign-extended addresses: the PML4's upper half starts at
    // 0xffff800000000000, entry 256.
    uint64_t last = virt + size - 1;
    size_t freed = 0;
    uint64_t* root = m_memory->table_at(m_root);
    for (size_t i = 0; i < 512; ++i) {
        uint64_t entry_first = i < 256 ? i << 39 : 0xffff000000000000ull | (uint64_t(i) << 39);
        uint64_t entry_last = entry_first + (entry_span(4) - 1);
        if (entry_last < virt || entry_first > last)
            continue;
        uint64_t entry = root[i];
        if (!(entry & present))
            continue;
        uint64_t child = entry & address_mask;
        freed += release_empty(child, 3, entry_first, virt, last);
        uint64_t* child_table = m_memory->table_at(child);
        bool empty = true;
        for (size_t k = 0; k < 512 && empty; ++k)
            empty = child_table[k] == 0;
        if (empty) {
            root[i] = 0;
            m_memory->free_table(child);
            ++freed;
        }
    }
    return freed;
}

} // namespace aisos::mm
