#pragma once

// Builds and edits x86_64 4-level page tables (PML4 -> PDPT -> PD -> PT).
//
// The tables live in memory reached through PageTableMemory, so the same
// code edits the kernel's live tables (through the direct map) and tables in
// host test buffers. The builder never touches CR3 or the TLB: after
// changing a live mapping the caller flushes (invlpg or a CR3 reload, plus a
// shootdown on other CPUs).
//
// Intermediate entries are always present+writable (+user when any user
// mapping sits below) and never NX, so the leaf alone decides permissions.

#include "lib/base/ErrorOr.h"

#include <stddef.h>
#include <stdint.h>

#include <optional>

namespace aisos::mm {

enum class PageFlags : uint32_t {
    None = 0,
    Writable = 1u << 0,
    Executable = 1u << 1, // absent: the mapping is no-execute (NX)
    User = 1u << 2,
    CacheDisable = 1u << 3,
    WriteThrough = 1u << 4,
    Global = 1u << 5,
};

constexpr PageFlags operator|(PageFlags a, PageFlags b) { return static_cast<PageFlags>(static_cast<uint32_t>(a) | static_cast<uint32_t>(b)); }
constexpr PageFlags operator&(PageFlags a, PageFlags b) { return static_cast<PageFlags>(static_cast<uint32_t>(a) & static_cast<uint32_t>(b)); }
constexpr bool has_flag(PageFlags flags, PageFlags flag) { return (static_cast<uint32_t>(flags) & static_cast<uint32_t>(flag)) != 0; }

enum class LargePages {
    Allowed,   // use 2 MiB and 1 GiB pages where virtual and physical alignment allow
    Forbidden, // 4 KiB pages only
};

enum class ExistingMappings {
    Refuse,  // any present mapping in the range is an error; nothing changes
    Replace, // overwrite (a large page partly covered is split first)
};

struct MapOptions {
    LargePages large_pages { LargePages::Allowed };
    ExistingMappings existing { ExistingMappings::Refuse };
};

struct Mapping {
    uint64_t virtual_address;  // start of the page (4 KiB, 2 MiB or 1 GiB aligned)
    uint64_t physical_address;
    uint64_t page_size;
    PageFlags flags;
};

struct Translation {
    uint64_t physical;  // the byte the virtual address maps to
    PageFlags flags;
    uint64_t page_size; // 4 KiB, 2 MiB or 1 GiB
};

// Where page tables live. allocate_table() returns the physical address of a
// zeroed, 4 KiB-aligned 4 KiB table; table_at() gives a pointer to it.
class PageTableMemory {
public:
    virtual ErrorOr<uint64_t> allocate_table() = 0;
    virtual uint64_t* table_at(uint64_t physical) = 0;
    // Called for tables that a Replace mapping made unreachable.
    virtual void free_table(uint64_t physical) { (void)physical; }

protected:
    ~PageTableMemory() = default;
};

namespace paging {
inline constexpr uint64_t present = 1ull << 0;
inline constexpr uint64_t writable = 1ull << 1;
inline constexpr uint64_t user = 1ull << 2;
inline constexpr uint64_t write_through = 1ull << 3;
inline constexpr uint64_t cache_disable = 1ull << 4;
inline constexpr uint64_t accessed = 1ull << 5;
inline constexpr uint64_t dirty = 1ull << 6;
inline constexpr uint64_t huge = 1ull << 7;      // PS in a PDPT/PD entry
inline constexpr uint64_t pat_4k = 1ull << 7;    // PAT in a PT entry
inline constexpr uint64_t global = 1ull << 8;
inline constexpr uint64_t pat_large = 1ull << 12; // PAT in a 2 MiB/1 GiB entry
inline constexpr uint64_t no_execute = 1ull << 63;
inline constexpr uint64_t address_mask = 0x000ffffffffff000ull; // bits 12..51
inline constexpr uint64_t max_physical_address = 1ull << 52;
inline constexpr uint64_t size_4k = 1ull << 12;
inline constexpr uint64_t size_2m = 1ull << 21;
inline constexpr uint64_t size_1g = 1ull << 30;

constexpr bool is_canonical(uint64_t virt)
{
    uint64_t top = virt >> 47;
    return top == 0 || top == 0x1ffff;
}
} // namespace paging

class PageTableBuilder {
public:
    // Allocates a fresh, empty top-level table.
    static ErrorOr<PageTableBuilder> create(PageTableMemory&);

    // Edits existing tables rooted at root_physical (e.g. the current CR3).
    PageTableBuilder(PageTableMemory& memory, uint64_t root_physical)
        : m_memory(&memory)
        , m_root(root_physical)
    {
    }

    uint64_t root_physical() const { return m_root; }

    // Maps [virt, virt + size) to [phys, phys + size). All three must be
    // 4 KiB aligned; the range must be canonical and not wrap. On failure
    // with ExistingMappings::Refuse nothing stays mapped.
    ErrorOr<void> map(uint64_t virt, uint64_t phys, uint64_t size, PageFlags, MapOptions = {});

    // Removes every mapping in [virt, virt + size), splitting large pages
    // that straddle the ends. Holes in the range are fine. Page tables that
    // become empty are kept (they are reused by later mappings).
    ErrorOr<void> unmap(uint64_t virt, uint64_t size);

    std::optional<Translation> translate(uint64_t virt) const;

    // True when any page of [virt, virt + size) is mapped.
    bool is_any_mapped(uint64_t virt, uint64_t size) const;

    // Calls visit(Mapping const&) for every leaf overlapping [virt, virt +
    // size), in address order (e.g. to free a process's frames).
    template<typename Visit>
    void for_each_mapping(uint64_t virt, uint64_t size, Visit visit) const
    {
        walk_mappings(virt, size, [](void* context, Mapping const& mapping) { (*static_cast<Visit*>(context))(mapping); }, &visit);
    }

    // Frees the page tables reachable from [virt, virt + size) that map
    // nothing any more (never the root) and clears their parent entries.
    // Separate from unmap() on purpose: a CPU may still cache those tables,
    // so call this only after the TLB shootdown for the unmapped range.
    // Returns the number of tables freed.
    size_t release_empty_tables(uint64_t virt, uint64_t size);

private:
    struct Lookup {
        uint64_t* entry; // absent or a leaf
        int level;       // 4 = PML4 ... 1 = PT
    };

    static constexpr uint64_t entry_span(int level) { return 1ull << (12 + 9 * (level - 1)); }
    static constexpr size_t index_at(uint64_t virt, int level) { return (virt >> (12 + 9 * (level - 1))) & 511; }

    ErrorOr<void> validate_range(uint64_t virt, uint64_t size) const;
    // Descends until an entry that is absent or a leaf.
    Lookup find(uint64_t virt) const;
    // The entry for virt at target_level, creating tables and splitting
    // large pages on the way.
    ErrorOr<uint64_t*> walk_create(uint64_t virt, int target_level, bool user);
    ErrorOr<void> split(uint64_t* entry, int level);
    void free_subtree(uint64_t table_physical, int level);
    ErrorOr<void> map_pages(uint64_t virt, uint64_t phys, uint64_t size, PageFlags, MapOptions, uint64_t& mapped);

    void walk_mappings(uint64_t virt, uint64_t size, void (*visit)(void*, Mapping const&), void* context) const;
    size_t release_empty(uint64_t table_physical, int level, uint64_t table_base, uint64_t first, uint64_t last);

    PageTableMemory* m_memory;
    uint64_t m_root;
};

} // namespace aisos::mm
