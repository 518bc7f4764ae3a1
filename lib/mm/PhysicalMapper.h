#pragma once

// How portable memory code reaches physical memory. The kernel translates
// through its direct map (direct_map_base + physical); host tests translate
// into a buffer that stands in for RAM. The context pointer lets tests keep
// their fake RAM out of global state.

#include <stddef.h>
#include <stdint.h>

namespace aisos::mm {

inline constexpr uint64_t page_size = 4096;
inline constexpr uint64_t page_shift = 12;

struct PhysicalMapper {
    void* (*translate)(void* context, uint64_t physical) { nullptr };
    void* context { nullptr };

    void* operator()(uint64_t physical) const { return translate(context, physical); }
};

// A half-open physical range [base, base + size).
struct PhysicalRange {
    uint64_t base { 0 };
    uint64_t size { 0 };
};

constexpr bool is_page_aligned(uint64_t value) { return (value & (page_size - 1)) == 0; }
constexpr uint64_t page_round_down(uint64_t value) { return value & ~(page_size - 1); }

} // namespace aisos::mm
