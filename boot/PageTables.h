#pragma once

// Builds x86_64 4-level page tables (PML4 -> PDPT -> PD -> PT) for the
// hand-over to the kernel. Portable: it never touches CR3 or physical memory
// directly; pages come from a PageSource, which in the loader is UEFI
// AllocatePages with identity access, and in host tests an arena.

#include "boot/Result.h"

#include <stdint.h>

namespace aisos::boot {

// Where page-table pages come from. `allocate` returns the physical address
// of a 4 KiB page that is already zero; `access` turns a physical address
// returned by `allocate` into a pointer the builder can write through.
struct PageSource {
    void* context;
    Result<uint64_t> (*allocate)(void* context);
    uint64_t* (*access)(void* context, uint64_t physical);
};

enum class Writable : uint8_t {
    No,
    Yes,
};

enum class Executable : uint8_t {
    No,
    Yes,
};

// Bits of a page-table entry (Intel SDM vol. 3, 4.5).
inline constexpr uint64_t pte_present = 1ull << 0;
inline constexpr uint64_t pte_writable = 1ull << 1;
inline constexpr uint64_t pte_large = 1ull << 7; // PS: 2 MiB page in a PD entry
inline constexpr uint64_t pte_no_execute = 1ull << 63;
inline constexpr uint64_t pte_address_mask = 0x000ffffffffff000ull;

inline constexpr uint64_t large_page_size = 2ull << 20;

class PageTableBuilder {
public:
    static Result<PageTableBuilder> create(PageSource source);
    PageTableBuilder() = default;

    // Maps [virtual_base, virtual_base + size) onto [0, size) with 2 MiB
    // pages. virtual_base and size must be 2 MiB aligned.
    Result<void> map_physical_range_large(uint64_t virtual_base, uint64_t size, Executable executable);

    // Maps one 4 KiB page. Fails when the page (or a 2 MiB page covering it)
    // is mapped already.
    Result<void> map_page(uint64_t virtual_address, uint64_t physical_address, Writable writable, Executable executable);

    // Physical address of the PML4, the value for CR3.
    uint64_t root() const { return m_root; }
    // How many table pages were allocated, including the PML4.
    uint64_t table_pages() const { return m_table_pages; }

private:
    explicit PageTableBuilder(PageSource source, uint64_t root)
        : m_source(source)
        , m_root(root)
        , m_table_pages(1)
    {
    }

    // The next-level table behind entry `index` of `table`, created if absent.
    Result<uint64_t*> next_table(uint64_t* table, uint64_t index);

    PageSource m_source {};
    uint64_t m_root { 0 };
    uint64_t m_table_pages { 0 };
};

// Walks tables built by PageTableBuilder: the physical address `virtual_address`
// translates to and the effective permissions, or not-present. Used by tests
// and by the loader to check its own work before handing it over.
struct Translation {
    bool present;
    uint64_t physical_address;
    bool writable;
    bool executable;
    bool large;
};
Translation translate(const PageSource& source, uint64_t root, uint64_t virtual_address);

} // namespace aisos::boot
