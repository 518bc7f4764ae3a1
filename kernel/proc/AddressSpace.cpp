#include "kernel/proc/AddressSpace.h"

#include "kernel/arch/x86_64/Cpu.h"
#include "kernel/arch/x86_64/Interrupts.h"
#include "kernel/cpu/Apic.h"
#include "kernel/cpu/Smp.h"
#include "kernel/mm/Heap.h"
#include "kernel/mm/PhysicalMemory.h"
#include "kernel/mm/VirtualMemory.h"
#include "kernel/proc/Process.h"
#include "kernel/proc/UserMemory.h"

namespace aisos::proc {

namespace {

using mm::PageFlags;
constexpr uint64_t page_size = 4096;

constexpr uint64_t round_up(uint64_t value) { return (value + page_size - 1) & ~(page_size - 1); }

mm::PageTableBuilder tables_of(uint64_t root) { return mm::PageTableBuilder(virtual_memory::table_memory(), root); }

Error limit_reached() { return Error { ErrorCode::OutOfMemory, "module memory limit reached" }; }

std::atomic<uint64_t> s_active_root[smp::max_cpus];
std::atomic<bool> s_flush_pending[smp::max_cpus];
Spinlock s_shootdown_lock;

void flush_tlb_interrupt(InterruptFrame&, void*)
{
    cpu::write_cr3(cpu::read_cr3());
    s_flush_pending[smp::current_cpu_index()].store(false, std::memory_order_release);
}

} // namespace

void initialize_tlb_shootdown() { interrupts::set_handler(interrupts::vector::ipi_tlb_flush, flush_tlb_interrupt, nullptr); }

void set_active_root(uint32_t cpu_index, uint64_t root) { s_active_root[cpu_index].store(root, std::memory_order_release); }

void shoot_down_tlbs(uint64_t root)
{
    uint32_t self = smp::current_cpu_index();
    if (s_active_root[self].load(std::memory_order_acquire) == root)
        cpu::write_cr3(cpu::read_cr3());
    // One shootdown at a time keeps the pending flags simple; they are rare
    // (memory_unmap, file unmap) and short.
    s_shootdown_lock.lock();
    uint32_t count = smp::online_count();
    for (uint32_t i = 0; i < count; ++i) {
        if (i == self || s_active_root[i].load(std::memory_order_acquire) != root)
            continue;
        s_flush_pending[i].store(true, std::memory_order_release);
        if (smp::PerCpu* target = smp::cpu(i))
            apic::send_ipi(target->apic_id, interrupts::vector::ipi_tlb_flush);
    }
    for (uint32_t i = 0; i < count; ++i) {
        while (s_flush_pending[i].load(std::memory_order_acquire))
            cpu::pause();
    }
    s_shootdown_lock.unlock();
}

ErrorOr<AddressSpace*> AddressSpace::create(uint64_t memory_limit)
{
    auto* space = TRY(heap::create<AddressSpace>());
    auto regions = heap::allocate(sizeof(Region) * max_regions);
    if (regions.is_error()) {
        heap::destroy(space);
        return regions.error();
    }
    space->m_regions = static_cast<Region*>(regions.value());
    auto root = virtual_memory::table_memory().allocate_table();
    if (root.is_error()) {
        heap::free(space->m_regions);
        heap::destroy(space);
        return root.error();
    }
    space->m_root = root.value();
    space->m_memory_limit = memory_limit;
    virtual_memory::copy_kernel_half(virtual_memory::table_memory().table_at(space->m_root));
    return space;
}

void AddressSpace::destroy(AddressSpace* space)
{
    if (!space)
        return;
    for (size_t i = 0; i < space->m_region_count; ++i) {
        Region& region = space->m_regions[i];
        if (region.kind == RegionKind::File) {
            (void)tables_of(space->m_root).unmap(region.start, region.size);
            if (region.release)
                region.release(region.owner);
        } else {
            space->free_frames_locked(region.start, region.size);
        }
    }
    auto tables = tables_of(space->m_root);
    tables.release_empty_tables(0, user_space_end);
    // The kernel half's tables are shared: only the root is ours.
    virtual_memory::table_memory().free_table(space->m_root);
    heap::free(space->m_regions);
    heap::destroy(space);
}

ErrorOr<uint64_t> AddressSpace::find_gap_locked(uint64_t size)
{
    auto first_fit_from = [&](uint64_t candidate) -> uint64_t {
        for (size_t i = 0; i < m_region_count; ++i) {
            const Region& region = m_regions[i];
            if (region.start + region.size + page_size <= candidate)
                continue;
            if (region.start >= candidate && region.start - candidate >= size + page_size)
                break;
            uint64_t after = region.start + region.size + page_size;
            if (after > candidate)
                candidate = after;
        }
        return candidate;
    };
    auto fits = [&](uint64_t candidate) { return candidate <= placement_end && placement_end - candidate >= size; };
    uint64_t candidate = first_fit_from(m_next_placement);
    if (!fits(candidate))
        candidate = first_fit_from(placement_base);
    if (!fits(candidate))
        return Error { ErrorCode::OutOfMemory, "no room in the address space" };
    m_next_placement = candidate + size + page_size;
    return candidate;
}

bool AddressSpace::contains(uint64_t address, uint64_t size, Access access)
{
    if (size == 0 || !is_user_range(address, size))
        return false;
    SpinlockGuard guard(m_lock);
    uint64_t at = address, end = address + size;
    for (size_t i = 0; i < m_region_count && at < end; ++i) {
        const Region& region = m_regions[i];
        if (region.start + region.size <= at)
            continue;
        if (region.start > at)
            return false;
        if ((access == Access::Write && !region.writable) || (access == Access::Execute && !region.executable))
            return false;
        at = region.start + region.size;
    }
    return at >= end;
}

ErrorOr<void> AddressSpace::insert_region_locked(const Region& region)
{
    if (m_region_count == max_regions)
        return Error { ErrorCode::OutOfMemory, "too many memory regions" };
    size_t at = 0;
    while (at < m_region_count && m_regions[at].start < region.start)
        ++at;
    for (size_t i = m_region_count; i > at; --i)
        m_regions[i] = m_regions[i - 1];
    m_regions[at] = region;
    ++m_region_count;
    return {};
}

// Allocates frames in runs as long as the frame allocator gives them (fewer
// calls for big regions), zeroes them and maps them 4 KiB at a time.
ErrorOr<void> AddressSpace::populate_locked(uint64_t address, uint64_t size, PageFlags flags)
{
    auto tables = tables_of(m_root);
    uint64_t done = 0;
    size_t run = 256;
    while (done < size) {
        size_t pages = (size - done) / page_size;
        if (pages > run)
            pages = run;
        auto physical = physical_memory::allocate(pages);
        if (physical.is_error()) {
            if (pages > 1) {
                run = pages / 2;
                continue;
            }
            free_frames_locked(address, done);
            return Error { ErrorCode::OutOfMemory, "out of physical memory" };
        }
        __builtin_memset(physical_memory::to_virtual(physical.value()), 0, pages * page_size);
        auto mapped = tables.map(address + done, physical.value(), pages * page_size, flags | PageFlags::User,
            { mm::LargePages::Forbidden, mm::ExistingMappings::Refuse });
        if (mapped.is_error()) {
            physical_memory::free(physical.value(), pages);
            free_frames_locked(address, done);
            return mapped.error();
        }
        done += pages * page_size;
    }
    return {};
}

void AddressSpace::free_frames_locked(uint64_t address, uint64_t size)
{
    if (size == 0)
        return;
    auto tables = tables_of(m_root);
    tables.for_each_mapping(address, size, [](const mm::Mapping& mapping) {
        physical_memory::free(mapping.physical_address, mapping.page_size / page_size);
    });
    (void)tables.unmap(address, size);
}

ErrorOr<uint64_t> AddressSpace::map_anonymous(uint64_t size, bool writable, RegionKind kind)
{
    if (size == 0 || size > placement_end - placement_base)
        return Error::invalid("bad length");
    size = round_up(size);
    SpinlockGuard guard(m_lock);
    if (size > m_memory_limit - m_memory_used)
        return limit_reached();
    uint64_t address = TRY(find_gap_locked(size));
    PageFlags flags = writable ? PageFlags::Writable : PageFlags::None;
    TRY(populate_locked(address, size, flags));
    if (auto inserted = insert_region_locked({ address, size, kind, writable, false, true, nullptr, nullptr }); inserted.is_error()) {
        free_frames_locked(address, size);
        return inserted.error();
    }
    m_memory_used += size;
    return address;
}

ErrorOr<void> AddressSpace::map_anonymous_at(uint64_t address, uint64_t size, PageFlags flags, RegionKind kind)
{
    if (address % page_size != 0 || size == 0 || !is_user_range(address, size))
        return Error::invalid("segment outside the user address space");
    size = round_up(size);
    SpinlockGuard guard(m_lock);
    if (size > m_memory_limit - m_memory_used)
        return limit_reached();
    for (size_t i = 0; i < m_region_count; ++i) {
        const Region& region = m_regions[i];
        if (address < region.start + region.size && region.start < address + size)
            return Error::invalid("segments overlap");
    }
    TRY(populate_locked(address, size, flags));
    bool writable = mm::has_flag(flags, PageFlags::Writable);
    bool executable = mm::has_flag(flags, PageFlags::Executable);
    if (auto inserted = insert_region_locked({ address, size, kind, writable, executable, true, nullptr, nullptr }); inserted.is_error()) {
        free_frames_locked(address, size);
        return inserted.error();
    }
    m_memory_used += size;
    return {};
}

ErrorOr<uint64_t> AddressSpace::map_frames_read_only(std::span<const uint64_t> frames, void (*release)(void*), void* owner)
{
    if (frames.empty())
        return Error::invalid("empty mapping");
    uint64_t size = frames.size() * page_size;
    SpinlockGuard guard(m_lock);
    uint64_t address = TRY(find_gap_locked(size));
    auto tables = tables_of(m_root);
    for (size_t i = 0; i < frames.size(); ++i) {
        auto mapped = tables.map(address + i * page_size, frames[i], page_size, PageFlags::User,
            { mm::LargePages::Forbidden, mm::ExistingMappings::Refuse });
        if (mapped.is_error()) {
            (void)tables.unmap(address, i * page_size);
            return mapped.error();
        }
    }
    if (auto inserted = insert_region_locked({ address, size, RegionKind::File, false, false, false, release, owner }); inserted.is_error()) {
        (void)tables.unmap(address, size);
        return inserted.error();
    }
    return address;
}

ErrorOr<void> AddressSpace::unmap(uint64_t address, uint64_t size)
{
    Region region;
    uint64_t* frames = nullptr;
    size_t frame_count = 0;
    {
        SpinlockGuard guard(m_lock);
        size_t index = 0;
        while (index < m_region_count && m_regions[index].start != address)
            ++index;
        if (index == m_region_count)
            return Error::invalid("no mapping starts at this address");
        region = m_regions[index];
        if (region.kind != RegionKind::Anonymous && region.kind != RegionKind::File)
            return Error::invalid("only memory_map and file_map regions can be unmapped");
        if (size == 0 || round_up(size) != region.size)
            return Error::invalid("length differs from the mapping's");
        auto tables = tables_of(m_root);
        if (region.kind != RegionKind::File) {
            // The frames may be freed only after no CPU can reach them
            // through a stale TLB entry: note them, unmap, shoot down, free.
            frames = static_cast<uint64_t*>(TRY(heap::allocate(region.size / page_size * sizeof(uint64_t))));
            tables.for_each_mapping(region.start, region.size, [&](const mm::Mapping& mapping) {
                for (uint64_t offset = 0; offset < mapping.page_size; offset += page_size)
                    frames[frame_count++] = mapping.physical_address + offset;
            });
            m_memory_used -= region.size;
        }
        for (size_t i = index; i + 1 < m_region_count; ++i)
            m_regions[i] = m_regions[i + 1];
        --m_region_count;
        (void)tables.unmap(region.start, region.size);
    }
    shoot_down_tlbs(m_root);
    if (region.kind == RegionKind::File) {
        if (region.release)
            region.release(region.owner);
        return {};
    }
    for (size_t i = 0; i < frame_count; ++i)
        physical_memory::free(frames[i], 1);
    heap::free(frames);
    return {};
}

ErrorOr<void> AddressSpace::write(uint64_t address, std::span<const uint8_t> bytes)
{
    SpinlockGuard guard(m_lock);
    auto tables = tables_of(m_root);
    size_t done = 0;
    while (done < bytes.size()) {
        uint64_t at = address + done;
        auto translation = tables.translate(at);
        if (!translation.has_value())
            return Error { ErrorCode::BadAddress, "write to an unmapped page" };
        size_t in_page = page_size - (at % page_size);
        size_t chunk = bytes.size() - done < in_page ? bytes.size() - done : in_page;
        __builtin_memcpy(physical_memory::to_virtual(translation->physical), bytes.data() + done, chunk);
        done += chunk;
    }
    return {};
}

ErrorOr<void> AddressSpace::write64(uint64_t address, uint64_t value)
{
    uint8_t bytes[8];
    __builtin_memcpy(bytes, &value, 8);
    return write(address, bytes);
}

} // namespace aisos::proc
