#include "lib/mm/Heap.h"

#include <bit>

namespace aisos::mm {

namespace {

constexpr size_t heap_page_size = 4096;
constexpr size_t header_size = 64;
constexpr uint32_t slab_magic = 0x51ab51abu;
constexpr uint32_t large_magic = 0x1a29e0b1u;
constexpr uint32_t dead_magic = 0xdeadd00du;

constexpr size_t align_up(size_t value, size_t alignment) { return (value + alignment - 1) & ~(alignment - 1); }

// Smallest class for each 16-byte size step, so the common (16-byte
// aligned) path needs no search.
struct ClassTable {
    uint8_t index[Heap::largest_small_size / 16 + 1];
};
constexpr ClassTable make_class_table()
{
    ClassTable table {};
    size_t class_index = 0;
    for (size_t step = 0; step <= Heap::largest_small_size / 16; ++step) {
        while (Heap::class_size(class_index) < step * 16)
            ++class_index;
        table.index[step] = static_cast<uint8_t>(class_index);
    }
    return table;
}
constexpr ClassTable s_class_table = make_class_table();

} // namespace

struct Heap::SlabHeader {
    uint32_t magic;
    uint16_t class_index;
    uint16_t used;
    Heap* owner;
    SlabHeader* next;
    SlabHeader* previous;
    uint64_t in_use[4]; // one bit per slot; bits past the capacity stay set

    size_t capacity() const { return (heap_page_size - header_size) / s_class_sizes[class_index]; }
    uint8_t* slot(size_t index) { return reinterpret_cast<uint8_t*>(this) + header_size + index * s_class_sizes[class_index]; }
};

struct Heap::LargeHeader {
    uint32_t magic;
    uint32_t payload_offset; // from the header to the payload
    Heap* owner;
    uint64_t pages;
    uint64_t usable;
};

void Heap::account_allocation(size_t bytes)
{
    m_statistics.bytes_in_use += bytes;
    if (m_statistics.bytes_in_use > m_statistics.peak_bytes_in_use)
        m_statistics.peak_bytes_in_use = m_statistics.bytes_in_use;
    ++m_statistics.live_allocations;
    ++m_statistics.total_allocations;
}

void Heap::unlink(SlabHeader* slab)
{
    if (slab->previous)
        slab->previous->next = slab->next;
    else if (m_partial[slab->class_index] == slab)
        m_partial[slab->class_index] = slab->next;
    if (slab->next)
        slab->next->previous = slab->previous;
    slab->next = nullptr;
    slab->previous = nullptr;
}

void Heap::push_front(SlabHeader* slab)
{
    slab->previous = nullptr;
    slab->next = m_partial[slab->class_index];
    if (slab->next)
        slab->next->previous = slab;
    m_partial[slab->class_index] = slab;
}

ErrorOr<Heap::SlabHeader*> Heap::new_slab(size_t class_index)
{
    static_assert(sizeof(SlabHeader) <= header_size && sizeof(LargeHeader) <= header_size);
    void* page = TRY(m_provider->allocate_pages(1));
    if (reinterpret_cast<uintptr_t>(page) & (heap_page_size - 1))
        return Error::invalid("page provider returned an unaligned page");
    ++m_statistics.pages_in_use;
    auto* slab = static_cast<SlabHeader*>(page);
    slab->magic = slab_magic;
    slab->class_index = static_cast<uint16_t>(class_index);
    slab->used = 0;
    slab->owner = this;
    slab->next = nullptr;
    slab->previous = nullptr;
    size_t capacity = slab->capacity();
    for (size_t word = 0; word < 4; ++word) {
        size_t first = word * 64;
        if (capacity >= first + 64)
            slab->in_use[word] = 0;
        else if (capacity <= first)
            slab->in_use[word] = ~0ull;
        else
            slab->in_use[word] = ~0ull << (capacity - first);
    }
    push_front(slab);
    return slab;
}

ErrorOr<void*> Heap::allocate_small(size_t class_index)
{
    SlabHeader* slab = m_partial[class_index];
    if (!slab)
        slab = TRY(new_slab(class_index));
    for (size_t word = 0; word < 4; ++word) {
        if (slab->in_use[word] == ~0ull)
            continue;
        size_t bit = static_cast<size_t>(std::countr_one(slab->in_use[word]));
        slab->in_use[word] |= 1ull << bit;
        ++slab->used;
        if (slab->used == slab->capacity())
            unlink(slab);
        account_allocation(s_class_sizes[class_index]);
        return static_cast<void*>(slab->slot(word * 64 + bit));
    }
    // A slab on the partial list always has a free slot.
    return Error::corrupt("heap slab list is inconsistent");
}

ErrorOr<void*> Heap::allocate_large(size_t size, size_t alignment)
{
    size_t payload_offset = alignment > header_size ? alignment : header_size;
    size_t pages = align_up(payload_offset + size, heap_page_size) / heap_page_size;
    void* memory = TRY(m_provider->allocate_pages(pages));
    if (reinterpret_cast<uintptr_t>(memory) & (heap_page_size - 1))
        return Error::invalid("page provider returned unaligned pages");
    m_statistics.pages_in_use += pages;
    // The header is always at the start of the first page: for payloads at
    // offset 4096 that is the page before the payload, as free() expects.
    auto* header = static_cast<LargeHeader*>(memory);
    header->magic = large_magic;
    header->payload_offset = static_cast<uint32_t>(payload_offset);
    header->owner = this;
    header->pages = pages;
    header->usable = pages * heap_page_size - payload_offset;
    account_allocation(header->usable);
    return static_cast<void*>(static_cast<uint8_t*>(memory) + payload_offset);
}

ErrorOr<void*> Heap::allocate(size_t size, size_t alignment)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        ++m_statistics.failed_allocations;
        return Error::invalid("heap alignment must be a power of two");
    }
    if (alignment > max_alignment) {
        ++m_statistics.failed_allocations;
        return Error::unsupported("heap alignment above 4096 bytes; use the frame allocator");
    }
    if (size > max_allocation) {
        ++m_statistics.failed_allocations;
        return Error::no_memory();
    }
    if (size == 0)
        size = 1;
    if (alignment < min_alignment)
        alignment = min_alignment;

    ErrorOr<void*> result = Error::no_memory();
    bool served = false;
    // Slots start at header_size + k * class_size within a page, so they
    // are aligned to A (A <= 64) exactly when the class size is.
    if (size <= largest_small_size && alignment == min_alignment) {
        result = allocate_small(s_class_table.index[(size + 15) / 16]);
        served = true;
    } else if (size <= largest_small_size && alignment <= header_size) {
        for (size_t i = 0; i < class_count; ++i) {
            if (s_class_sizes[i] >= size && s_class_sizes[i] % alignment == 0) {
                result = allocate_small(i);
                served = true;
                break;
            }
        }
    }
    if (!served)
        result = allocate_large(size, alignment);
    if (result.is_error())
        ++m_statistics.failed_allocations;
    return result;
}

ErrorOr<void> Heap::free(void* pointer)
{
    if (!pointer)
        return {};
    auto address = reinterpret_cast<uintptr_t>(pointer);
    if (address & (min_alignment - 1))
        return Error::invalid("freed pointer is not a heap allocation (misaligned)");
    size_t page_offset = address & (heap_page_size - 1);
    uintptr_t header_address = page_offset == 0 ? address - heap_page_size : address - page_offset;
    uint32_t magic = *reinterpret_cast<uint32_t*>(header_address);

    if (magic == slab_magic && page_offset != 0) {
        auto* slab = reinterpret_cast<SlabHeader*>(header_address);
        if (slab->owner != this || slab->class_index >= class_count || page_offset < header_size)
            return Error::invalid("freed pointer is not a heap allocation");
        size_t size = s_class_sizes[slab->class_index];
        size_t index = (page_offset - header_size) / size;
        if ((page_offset - header_size) % size != 0 || index >= slab->capacity())
            return Error::invalid("freed pointer is not the start of a heap object");
        uint64_t bit = 1ull << (index % 64);
        if (!(slab->in_use[index / 64] & bit))
            return Error::invalid("double free of a heap object");
        bool was_full = slab->used == slab->capacity();
        slab->in_use[index / 64] &= ~bit;
        --slab->used;
        m_statistics.bytes_in_use -= size;
        --m_statistics.live_allocations;
        if (was_full)
            push_front(slab);
        // Keep one empty slab per class to avoid page churn at a boundary;
        // give back the others.
        if (slab->used == 0 && (slab->next || slab->previous)) {
            unlink(slab);
            slab->magic = dead_magic;
            m_provider->free_pages(slab, 1);
            --m_statistics.pages_in_use;
        }
        return {};
    }
    if (magic == large_magic) {
        auto* header = reinterpret_cast<LargeHeader*>(header_address);
        if (header->owner != this || header_address + header->payload_offset != address)
            return Error::invalid("freed pointer is not a heap allocation");
        header->magic = dead_magic;
        m_statistics.bytes_in_use -= header->usable;
        m_statistics.pages_in_use -= header->pages;
        --m_statistics.live_allocations;
        m_provider->free_pages(header, header->pages);
        return {};
    }
    if (magic == dead_magic)
        return Error::invalid("double free of a heap allocation");
    return Error::invalid("freed pointer is not a heap allocation");
}

ErrorOr<size_t> Heap::usable_size(void* pointer) const
{
    auto address = reinterpret_cast<uintptr_t>(pointer);
    if (!pointer || (address & (min_alignment - 1)))
        return Error::invalid("not a heap allocation");
    size_t page_offset = address & (heap_page_size - 1);
    uintptr_t header_address = page_offset == 0 ? address - heap_page_size : address - page_offset;
    uint32_t magic = *reinterpret_cast<uint32_t*>(header_address);
    if (magic == slab_magic && page_offset >= header_size) {
        auto* slab = reinterpret_cast<SlabHeader*>(header_address);
        if (slab->owner == this && slab->class_index < class_count)
            return s_class_sizes[slab->class_index];
    }
    if (magic == large_magic) {
        auto* header = reinterpret_cast<LargeHeader*>(header_address);
        if (header->owner == this && header_address + header->payload_offset == address)
            return static_cast<size_t>(header->usable);
    }
    return Error::invalid("not a heap allocation");
}

} // namespace aisos::mm
