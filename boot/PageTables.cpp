#include "boot/PageTables.h"

namespace aisos::boot {

namespace {

constexpr uint64_t table_flags = pte_present | pte_writable;

constexpr uint64_t pml4_index(uint64_t virtual_address) { return (virtual_address >> 39) & 511; }
constexpr uint64_t pdpt_index(uint64_t virtual_address) { return (virtual_address >> 30) & 511; }
constexpr uint64_t pd_index(uint64_t virtual_address) { return (virtual_address >> 21) & 511; }
constexpr uint64_t pt_index(uint64_t virtual_address) { return (virtual_address >> 12) & 511; }

// x86_64 4-level paging: bits 63..48 must copy bit 47.
constexpr bool is_canonical(uint64_t virtual_address)
{
    uint64_t top = virtual_address >> 47;
    return top == 0 || top == 0x1ffff;
}

} // namespace

Result<PageTableBuilder> PageTableBuilder::create(PageSource source)
{
    if (source.allocate == nullptr || source.access == nullptr)
        return Error::invalid("page source is incomplete");
    uint64_t root = TRY(source.allocate(source.context));
    if ((root & (4096 - 1)) != 0)
        return Error::invalid("page source returned an unaligned page");
    return PageTableBuilder(source, root);
}

Result<uint64_t*> PageTableBuilder::next_table(uint64_t* table, uint64_t index)
{
    uint64_t entry = table[index];
    if (entry & pte_present) {
        if (entry & pte_large)
            return Error { ErrorCode::Exists, "address is mapped by a large page already" };
        return m_source.access(m_source.context, entry & pte_address_mask);
    }
    uint64_t page = TRY(m_source.allocate(m_source.context));
    if ((page & (4096 - 1)) != 0 || (page & ~pte_address_mask) != 0)
        return Error::invalid("page source returned an unusable page address");
    ++m_table_pages;
    table[index] = page | table_flags;
    return m_source.access(m_source.context, page);
}

Result<void> PageTableBuilder::map_physical_range_large(uint64_t virtual_base, uint64_t size, Executable executable)
{
    if ((virtual_base % large_page_size) != 0 || (size % large_page_size) != 0)
        return Error::invalid("large mapping is not 2 MiB aligned");
    uint64_t virtual_last;
    if (size == 0 || __builtin_add_overflow(virtual_base, size - 1, &virtual_last))
        return Error::invalid("large mapping is empty or wraps around");
    if (!is_canonical(virtual_base) || !is_canonical(virtual_last) || ((virtual_base ^ virtual_last) >> 47) != 0)
        return Error::invalid("large mapping is not in one canonical half");
    if (size - 1 > pte_address_mask)
        return Error::invalid("large mapping exceeds the physical address width");

    uint64_t leaf_flags = pte_present | pte_writable | pte_large | (executable == Executable::No ? pte_no_execute : 0);
    uint64_t* root = m_source.access(m_source.context, m_root);
    for (uint64_t offset = 0; offset < size; offset += large_page_size) {
        uint64_t virtual_address = virtual_base + offset;
        uint64_t* pdpt = TRY(next_table(root, pml4_index(virtual_address)));
        uint64_t* pd = TRY(next_table(pdpt, pdpt_index(virtual_address)));
        uint64_t& entry = pd[pd_index(virtual_address)];
        if (entry & pte_present)
            return Error { ErrorCode::Exists, "2 MiB page is mapped already" };
        entry = offset | leaf_flags;
    }
    return {};
}

Result<void> PageTableBuilder::map_page(uint64_t virtual_address, uint64_t physical_address, Writable writable, Executable executable)
{
    if ((virtual_address & 4095) != 0 || (physical_address & 4095) != 0)
        return Error::invalid("page mapping is not 4 KiB aligned");
    if (!is_canonical(virtual_address))
        return Error::invalid("virtual address is not canonical");
    if ((physical_address & ~pte_address_mask) != 0)
        return Error::invalid("physical address exceeds the physical address width");

    uint64_t* root = m_source.access(m_source.context, m_root);
    uint64_t* pdpt = TRY(next_table(root, pml4_index(virtual_address)));
    uint64_t* pd = TRY(next_table(pdpt, pdpt_index(virtual_address)));
    uint64_t* pt = TRY(next_table(pd, pd_index(virtual_address)));
    uint64_t& entry = pt[pt_index(virtual_address)];
    if (entry & pte_present)
        return Error { ErrorCode::Exists, "page is mapped already" };
    entry = physical_address | pte_present | (writable == Writable::Yes ? pte_writable : 0) | (executable == Executable::No ? pte_no_execute : 0);
    return {};
}

Translation translate(const PageSource& source, uint64_t root, uint64_t virtual_address)
{
    Translation result {};
    if (!is_canonical(virtual_address))
        return result;
    bool writable = true;
    bool executable = true;
    const uint64_t* table = source.access(source.context, root);
    const uint64_t indices[4] = { pml4_index(virtual_address), pdpt_index(virtual_address), pd_index(virtual_address), pt_index(virtual_address) };
    for (int level = 0; level < 4; ++level) {
        uint64_t entry = table[indices[level]];
        if (!(entry & pte_present))
            return result;
        writable = writable && (entry & pte_writable);
        executable = executable && !(entry & pte_no_execute);
        // PS in a PDPT entry is a 1 GiB page, in a PD entry a 2 MiB page.
        bool leaf = level == 3 || ((level == 1 || level == 2) && (entry & pte_large));
        if (leaf) {
            uint64_t page_mask = level == 3 ? 4095 : level == 2 ? large_page_size - 1 : (1ull << 30) - 1;
            result.present = true;
            result.large = level != 3;
            result.physical_address = (entry & pte_address_mask & ~page_mask) | (virtual_address & page_mask);
            result.writable = writable;
            result.executable = executable;
            return result;
        }
        table = source.access(source.context, entry & pte_address_mask);
    }
    return result;
}

} // namespace aisos::boot
