#pragma once

// The kernel's address space, built by the kernel itself (the loader's
// tables are only a bridge):
//   0xffff800000000000  direct map of all RAM (RW, NX, write-back)
//   0xffffc00000000000  MMIO window (uncached device registers)
//   0xffffe00000000000  kernel stacks, each with an unmapped guard page below
//   0xffffffff80000000  kernel image: text R-X, rodata R--, data RW- (NX)
// Nothing is mapped at low addresses, so a NULL dereference faults, except
// the AP trampoline page while application processors start.

#include "lib/base/ErrorOr.h"
#include "lib/boot/BootInfo.h"
#include "lib/mm/PageTableBuilder.h"

#include <stddef.h>
#include <stdint.h>

namespace aisos::virtual_memory {

inline constexpr uint64_t mmio_window_base = 0xffffc00000000000ull;
inline constexpr uint64_t mmio_window_size = 1ull << 40;
inline constexpr uint64_t stack_window_base = 0xffffe00000000000ull;
inline constexpr uint64_t stack_window_size = 1ull << 36;

// CR0/CR4 paging controls (WP, PGE, SMEP, SMAP), on every CPU.
void configure_this_cpu();
// Builds the kernel's page tables and switches to them.
ErrorOr<void> initialize(const BootInfo&);

// Maps [physical, physical + size) with flags at the next free address of a
// window; returns the virtual address of physical's first byte.
ErrorOr<uint64_t> map_in_mmio_window(uint64_t physical, size_t size, mm::PageFlags);
// Allocates and maps size bytes of stack below an unmapped guard page;
// returns the top (initial RSP).
ErrorOr<uint64_t> allocate_stack(size_t size);

void map_identity_page(uint64_t physical); // for the AP trampoline
void unmap_identity_page(uint64_t physical);

uint64_t kernel_root_physical();
// Page-table frames for process address spaces come from the same place.
mm::PageTableMemory& table_memory();
// Fills entries 256-511 of a new top-level table with the kernel's (which
// never change after initialize(): the kernel half is shared by every process).
void copy_kernel_half(uint64_t* root);
// True when every page of [physical, physical + size) is in the direct map.
bool is_direct_mapped(uint64_t physical, size_t size);

} // namespace aisos::virtual_memory
