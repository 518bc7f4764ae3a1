#pragma once

// A process's address space: its own top-level page table whose kernel
// half (entries 256-511) is the kernel's, and a sorted list of regions in
// the user half. Every user page belongs to exactly one region; there is no
// demand paging (memory is allocated, zeroed and mapped when a region is
// made, so a module's memory limit is enforced at the call that exceeds it).
//
// User half layout:
//   0x0000000000400000  the module image (static-PIE loaded here)
//   0x0000100000000000  regions the kernel places: stacks, memory_map, file maps
//                       (one unmapped guard page after each region)

#include "kernel/lib/Spinlock.h"
#include "lib/base/ErrorOr.h"
#include "lib/mm/PageTableBuilder.h"

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::proc {

inline constexpr uint64_t image_base = 0x400000;
inline constexpr uint64_t placement_base = 0x0000100000000000ull;
inline constexpr uint64_t placement_end = 0x00007ff000000000ull;

enum class RegionKind : uint8_t { Image, Stack, Anonymous, File };

struct Region {
    uint64_t start;
    uint64_t size;
    RegionKind kind;
    bool writable;
    bool executable;
    bool charged; // counts against the memory limit (everything but file maps)
    // File maps: the pages belong to the page cache; release() gives them back.
    void (*release)(void* owner);
    void* owner;
};

class AddressSpace {
public:
    static constexpr size_t max_regions = 2048;

    static ErrorOr<AddressSpace*> create(uint64_t memory_limit);
    // Frees every frame and table. No CPU may be using it (the scheduler
    // never leaves a process's CR3 loaded outside its threads).
    static void destroy(AddressSpace*);

    uint64_t root() const { return m_root; }
    uint64_t memory_used() const { return m_memory_used; }
    uint64_t memory_limit() const { return m_memory_limit; }

    // Zeroed memory at an address the kernel picks.
    ErrorOr<uint64_t> map_anonymous(uint64_t size, bool writable, RegionKind);
    // Zeroed memory at a fixed address (image segments).
    ErrorOr<void> map_anonymous_at(uint64_t address, uint64_t size, mm::PageFlags, RegionKind);
    // Existing frames, read-only (a file from the page cache); not charged.
    ErrorOr<uint64_t> map_frames_read_only(std::span<const uint64_t> frames, void (*release)(void*), void* owner);
    // Removes exactly one whole region that memory_map or file_map made.
    ErrorOr<void> unmap(uint64_t address, uint64_t size);

    // Writes into mapped memory through the direct map, ignoring page
    // permissions (the loader fills read-only segments this way).
    ErrorOr<void> write(uint64_t address, std::span<const uint8_t>);
    ErrorOr<void> write64(uint64_t address, uint64_t value);

    size_t region_count() const { return m_region_count; }

    // Whether [address, address + size) lies inside mapped regions with at
    // least the given rights (checked before handing an address to a new
    // thread, where a fault would otherwise only show up later).
    enum class Access : uint8_t { Read, Write, Execute };
    bool contains(uint64_t address, uint64_t size, Access);

    AddressSpace() = default; // for heap::create; use create()

private:
    ErrorOr<uint64_t> find_gap_locked(uint64_t size);
    ErrorOr<void> insert_region_locked(const Region&);
    ErrorOr<void> populate_locked(uint64_t address, uint64_t size, mm::PageFlags);
    void free_frames_locked(uint64_t address, uint64_t size);

    Spinlock m_lock;
    uint64_t m_root { 0 };
    uint64_t m_memory_used { 0 };
    uint64_t m_memory_limit { 0 };
    // Placement moves forward and wraps, so an address just unmapped is not
    // handed out again at once (a use after unmap faults instead of
    // silently hitting new memory).
    uint64_t m_next_placement { placement_base };
    Region* m_regions { nullptr };
    size_t m_region_count { 0 };
};

// Every CPU currently running a thread with this page-table root flushes
// its TLB before this returns (after a mapping was removed). Called with
// interrupts enabled and no spinlock held: a target CPU may be waiting for
// one with interrupts off.
void shoot_down_tlbs(uint64_t root);
// The scheduler tells which root each CPU has loaded for a thread (0: none).
void set_active_root(uint32_t cpu_index, uint64_t root);
void initialize_tlb_shootdown(); // once, before any process runs

} // namespace aisos::proc
