#include "lib/mm/FrameAllocator.h"

#include <bit>

namespace aisos::mm {

namespace {

constexpr uint64_t align_up(uint64_t value, uint64_t alignment) { return (value + alignment - 1) & ~(alignment - 1); }

bool region_counts_for_span(MemoryKind kind)
{
    // Memory that is in the pool now or may be added later with add_range().
    return kind == MemoryKind::Usable || kind == MemoryKind::AcpiReclaimable || kind == MemoryKind::LoaderData;
}

// The page-aligned part of a region: [first_page, end_page). False when the
// region is empty after rounding inward or its end overflows.
bool region_pages(const MemoryRegion& region, uint64_t& first_page, uint64_t& end_page)
{
    if (region.pages == 0 || region.pages > (~0ull >> page_shift))
        return false;
    uint64_t bytes = region.pages << page_shift;
    if (region.base > ~0ull - bytes)
        return false;
    first_page = align_up(region.base, page_size) >> page_shift;
    end_page = (region.base + bytes) >> page_shift;
    return first_page < end_page;
}

// First page after the range, rounding up and saturating instead of wrapping.
uint64_t end_page_rounded_up(PhysicalRange range)
{
    uint64_t end = range.base > ~0ull - range.size ? ~0ull : range.base + range.size;
    if (end > ~0ull - (page_size - 1))
        return (~0ull >> page_shift) + 1;
    return align_up(end, page_size) >> page_shift;
}

bool ranges_overlap(uint64_t a_first, uint64_t a_end, uint64_t b_first, uint64_t b_end)
{
    return a_first < b_end && b_first < a_end;
}

// Calls fn(word_index, mask) for every word the page range touches, with the
// mask selecting the range's bits in that word.
template<typename Fn>
void for_each_word(uint64_t first, uint64_t count, Fn fn)
{
    uint64_t page = first;
    uint64_t end = first + count;
    while (page < end) {
        uint64_t word = page / 64;
        uint64_t bit = page % 64;
        uint64_t bits = end - page < 64 - bit ? end - page : 64 - bit;
        uint64_t mask = bits == 64 ? ~0ull : ((1ull << bits) - 1) << bit;
        if (!fn(word, mask))
            return;
        page += bits;
    }
}

} // namespace

ErrorOr<void> FrameAllocator::initialize(std::span<const MemoryRegion> regions, PhysicalMapper mapper, std::span<const PhysicalRange> reserved)
{
    if (is_initialized())
        return Error { ErrorCode::Busy, "frame allocator already initialized" };
    if (!mapper.translate)
        return Error::invalid("frame allocator needs a physical mapper");

    uint64_t span_end_page = 0;
    uint64_t usable_pages = 0;
    for (size_t i = 0; i < regions.size(); ++i) {
        uint64_t first, end;
        if (!region_pages(regions[i], first, end))
            continue;
        if (region_counts_for_span(regions[i].kind) && end > span_end_page)
            span_end_page = end;
        if (regions[i].kind != MemoryKind::Usable)
            continue;
        usable_pages += end - first;
        for (size_t j = 0; j < i; ++j) {
            uint64_t other_first, other_end;
            if (regions[j].kind == MemoryKind::Usable && region_pages(regions[j], other_first, other_end)
                && ranges_overlap(first, end, other_first, other_end))
                return Error::corrupt("memory map has overlapping usable regions");
        }
    }
    if (usable_pages == 0)
        return Error::not_found("memory map has no usable memory");

    uint64_t word_count = (span_end_page + 63) / 64;
    uint64_t metadata_bytes = word_count * sizeof(uint64_t) * 2;
    uint64_t metadata_pages = align_up(metadata_bytes, page_size) >> page_shift;

    // Place the bitmaps as high as possible in a usable region, below any
    // reserved range that would otherwise overlap them.
    bool placed = false;
    uint64_t metadata_first = 0;
    for (auto const& region : regions) {
        uint64_t first, end;
        if (region.kind != MemoryKind::Usable || !region_pages(region, first, end))
            continue;
        if (first == 0)
            first = 1; // page 0 is never used
        uint64_t candidate_end = end;
        while (candidate_end >= first + metadata_pages) {
            uint64_t candidate_first = candidate_end - metadata_pages;
            bool clash = false;
            for (auto const& range : reserved) {
                if (range.size == 0)
                    continue;
                uint64_t r_first = range.base >> page_shift;
                uint64_t r_end = end_page_rounded_up(range);
                if (ranges_overlap(candidate_first, candidate_end, r_first, r_end)) {
                    candidate_end = r_first;
                    clash = true;
                    break;
                }
            }
            if (!clash) {
                if (!placed || candidate_first > metadata_first) {
                    metadata_first = candidate_first;
                    placed = true;
                }
                break;
            }
        }
    }
    if (!placed)
        return Error::no_memory();

    auto* base = static_cast<uint64_t*>(mapper(metadata_first << page_shift));
    if (!base)
        return Error::invalid("physical mapper cannot reach the frame bitmap");

    m_page_count = span_end_page;
    m_word_count = word_count;
    m_used = base;
    m_owned = base + word_count;
    __builtin_memset(m_used, 0xff, word_count * sizeof(uint64_t));
    __builtin_memset(m_owned, 0, word_count * sizeof(uint64_t));

    for (auto const& region : regions) {
        uint64_t first, end;
        if (region.kind != MemoryKind::Usable || !region_pages(region, first, end))
            continue;
        set_range(m_owned, first, end - first, true);
        set_range(m_used, first, end - first, false);
    }

    auto take_out = [&](uint64_t first, uint64_t end) {
        if (end > m_page_count)
            end = m_page_count;
        if (first >= end)
            return;
        set_range(m_owned, first, end - first, false);
        set_range(m_used, first, end - first, true);
    };
    take_out(0, 1);
    for (auto const& range : reserved) {
        if (range.size == 0)
            continue;
        take_out(range.base >> page_shift, end_page_rounded_up(range));
    }
    take_out(metadata_first, metadata_first + metadata_pages);
    m_metadata = { metadata_first << page_shift, metadata_pages << page_shift };

    m_total_pages = 0;
    for (uint64_t i = 0; i < m_word_count; ++i)
        m_total_pages += static_cast<uint64_t>(std::popcount(m_owned[i]));
    m_free_pages = m_total_pages;
    m_hint_word = 0;
    return {};
}

void FrameAllocator::set_range(uint64_t* map, uint64_t first, uint64_t count, bool value)
{
    for_each_word(first, count, [&](uint64_t word, uint64_t mask) {
        if (value)
            map[word] |= mask;
        else
            map[word] &= ~mask;
        return true;
    });
}

bool FrameAllocator::range_all(const uint64_t* map, uint64_t first, uint64_t count, bool value) const
{
    bool all = true;
    for_each_word(first, count, [&](uint64_t word, uint64_t mask) {
        uint64_t bits = map[word] & mask;
        all = value ? bits == mask : bits == 0;
        return all;
    });
    return all;
}

uint64_t FrameAllocator::last_used_in(uint64_t first, uint64_t count) const
{
    // Scan from the top so a failed candidate lets the search jump past the
    // highest obstacle at once.
    uint64_t page_end = first + count;
    uint64_t word = (page_end - 1) / 64;
    uint64_t first_word = first / 64;
    while (true) {
        uint64_t mask = ~0ull;
        if (word == (page_end - 1) / 64 && page_end % 64 != 0)
            mask &= (1ull << (page_end % 64)) - 1;
        if (word == first_word)
            mask &= ~0ull << (first % 64);
        uint64_t bits = m_used[word] & mask;
        if (bits)
            return word * 64 + 63 - static_cast<uint64_t>(std::countl_zero(bits));
        if (word == first_word)
            return ~0ull;
        --word;
    }
}

uint64_t FrameAllocator::find_free_from(uint64_t page, uint64_t end) const
{
    if (page >= end)
        return ~0ull;
    uint64_t word = page / 64;
    uint64_t free_bits = ~m_used[word] & (~0ull << (page % 64));
    uint64_t end_word = (end + 63) / 64;
    while (true) {
        if (free_bits) {
            uint64_t found = word * 64 + static_cast<uint64_t>(std::countr_zero(free_bits));
            return found < end ? found : ~0ull;
        }
        if (++word >= end_word)
            return ~0ull;
        free_bits = ~m_used[word];
    }
}

ErrorOr<uint64_t> FrameAllocator::alloc(size_t pages, size_t alignment_pages, uint64_t physical_limit)
{
    if (!is_initialized())
        return Error { ErrorCode::Busy, "frame allocator not initialized" };
    if (pages == 0)
        return Error::invalid("cannot allocate zero pages");
    if (alignment_pages == 0 || (alignment_pages & (alignment_pages - 1)) != 0)
        return Error::invalid("frame alignment must be a power of two");
    if (pages > m_free_pages)
        return Error::no_memory();

    uint64_t end_page = physical_limit >> page_shift;
    if (end_page > m_page_count)
        end_page = m_page_count;

    uint64_t start = align_up(m_hint_word * 64, alignment_pages);
    while (start < end_page && pages <= end_page - start) {
        uint64_t free_page = find_free_from(start, end_page);
        if (free_page == ~0ull)
            break;
        start = align_up(free_page, alignment_pages);
        if (start >= end_page || pages > end_page - start)
            break;
        uint64_t obstacle = pages == 1 ? (test(m_used, start) ? start : ~0ull) : last_used_in(start, pages);
        if (obstacle == ~0ull) {
            set_range(m_used, start, pages, true);
            m_free_pages -= pages;
            while (m_hint_word < m_word_count && m_used[m_hint_word] == ~0ull)
                ++m_hint_word;
            return start << page_shift;
        }
        start = align_up(obstacle + 1, alignment_pages);
    }
    return Error::no_memory();
}

ErrorOr<void> FrameAllocator::free(uint64_t physical, size_t pages)
{
    if (!is_initialized())
        return Error { ErrorCode::Busy, "frame allocator not initialized" };
    if (!is_page_aligned(physical))
        return Error::invalid("freed frame address is not page aligned");
    uint64_t first = physical >> page_shift;
    if (pages == 0 || first >= m_page_count || pages > m_page_count - first)
        return Error::invalid("freed frames are outside the allocator");
    if (!range_all(m_owned, first, pages, true))
        return Error::invalid("freed frames do not belong to the allocator");
    if (!range_all(m_used, first, pages, true))
        return Error { ErrorCode::InvalidArgument, "double free of physical frames" };
    set_range(m_used, first, pages, false);
    m_free_pages += pages;
    if (first / 64 < m_hint_word)
        m_hint_word = first / 64;
    return {};
}

ErrorOr<void> FrameAllocator::reserve(PhysicalRange range)
{
    if (!is_initialized())
        return Error { ErrorCode::Busy, "frame allocator not initialized" };
    if (range.size == 0)
        return {};
    if (range.base > ~0ull - range.size)
        return Error::invalid("reserved range overflows");
    uint64_t first = range.base >> page_shift;
    uint64_t end = end_page_rounded_up(range);
    if (end > m_page_count)
        end = m_page_count;
    if (first >= end)
        return {};

    bool allocated = false;
    uint64_t owned_free = 0;
    for_each_word(first, end - first, [&](uint64_t word, uint64_t mask) {
        if (m_owned[word] & m_used[word] & mask) {
            allocated = true;
            return false;
        }
        owned_free += static_cast<uint64_t>(std::popcount(m_owned[word] & mask));
        return true;
    });
    if (allocated)
        return Error { ErrorCode::Busy, "reserved range contains allocated frames" };
    set_range(m_owned, first, end - first, false);
    set_range(m_used, first, end - first, true);
    m_total_pages -= owned_free;
    m_free_pages -= owned_free;
    return {};
}

ErrorOr<void> FrameAllocator::add_range(PhysicalRange range)
{
    if (!is_initialized())
        return Error { ErrorCode::Busy, "frame allocator not initialized" };
    if (range.base > ~0ull - range.size)
        return Error::invalid("added range overflows");
    uint64_t first = align_up(range.base, page_size) >> page_shift;
    uint64_t end = (range.base + range.size) >> page_shift;
    if (first == 0)
        first = 1;
    if (first >= end)
        return {};
    if (end > m_page_count)
        return Error { ErrorCode::OutOfRange, "added range lies beyond the frame bitmap" };
    uint64_t meta_first = m_metadata.base >> page_shift;
    if (ranges_overlap(first, end, meta_first, meta_first + (m_metadata.size >> page_shift)))
        return Error::invalid("added range overlaps the frame bitmap");
    if (!range_all(m_owned, first, end - first, false))
        return Error { ErrorCode::Exists, "added range overlaps pool memory" };
    set_range(m_owned, first, end - first, true);
    set_range(m_used, first, end - first, false);
    m_total_pages += end - first;
    m_free_pages += end - first;
    if (first / 64 < m_hint_word)
        m_hint_word = first / 64;
    return {};
}

bool FrameAllocator::is_allocated(uint64_t physical, size_t pages) const
{
    uint64_t first = physical >> page_shift;
    if (!is_initialized() || pages == 0 || first >= m_page_count || pages > m_page_count - first)
        return false;
    return range_all(m_owned, first, pages, true) && range_all(m_used, first, pages, true);
}

bool FrameAllocator::is_free(uint64_t physical, size_t pages) const
{
    uint64_t first = physical >> page_shift;
    if (!is_initialized() || pages == 0 || first >= m_page_count || pages > m_page_count - first)
        return false;
    return range_all(m_owned, first, pages, true) && range_all(m_used, first, pages, false);
}

} // namespace aisos::mm
