// Throughput of the physical frame allocator and the heap (not a test: run
// build/<tree>/bin/lib_mm_benchmark and read the numbers; an optimised,
// unsanitised build gives the meaningful ones).
#include "lib/mm/FrameAllocator.h"
#include "lib/mm/Heap.h"
#include "tests/unit/lib/FakePhysicalMemory.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

using namespace aisos;
using namespace aisos::mm;

namespace {

constexpr uint64_t GiB = 1ull << 30;

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Pages from a pre-touched arena (bump allocation, frees dropped), so the
// numbers measure the heap rather than host page faults.
class ArenaPages final : public PageProvider {
public:
    explicit ArenaPages(size_t bytes)
        : m_base(static_cast<uint8_t*>(std::aligned_alloc(4096, bytes)))
        , m_size(bytes)
    {
        std::memset(m_base, 0, bytes);
    }
    ~ArenaPages() { std::free(m_base); }
    ErrorOr<void*> allocate_pages(size_t count) override
    {
        if (count * 4096 > m_size - m_used)
            return Error::no_memory();
        void* p = m_base + m_used;
        m_used += count * 4096;
        return p;
    }
    void free_pages(void*, size_t) override { }

private:
    uint8_t* m_base;
    size_t m_size;
    size_t m_used { 0 };
};

} // namespace

int main()
{
    // A 64 GiB machine, QEMU-like layout.
    std::vector<MemoryRegion> map {
        { 0x100000, (2 * GiB - 0x100000) / page_size, MemoryKind::Usable, 0 },
        { 4 * GiB, 62 * GiB / page_size, MemoryKind::Usable, 0 },
    };
    test::FakePhysicalMemory ram(66 * GiB - 8 * (1 << 20), 8 * (1 << 20));
    FrameAllocator frames;
    auto start = std::chrono::steady_clock::now();
    MUST(frames.initialize(map, ram.mapper()));
    std::printf("frame allocator: initialize 64 GiB map: %.2f ms, bitmaps %llu KiB\n", seconds_since(start) * 1e3,
        static_cast<unsigned long long>(frames.metadata_range().size / 1024));

    constexpr size_t count = 1'000'000;
    std::vector<uint64_t> pages(count);
    start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < count; ++i)
        pages[i] = MUST(frames.alloc(1));
    double alloc_time = seconds_since(start);
    std::mt19937_64 rng(1);
    std::shuffle(pages.begin(), pages.end(), rng);
    start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < count; ++i)
        MUST(frames.free(pages[i], 1));
    double free_time = seconds_since(start);
    std::printf("frame allocator: 1M single-page allocs %.1f ns each, 1M frees (random order) %.1f ns each\n", alloc_time / count * 1e9, free_time / count * 1e9);

    // Fragment memory (every 3rd page of the first 4M held), then ask for
    // 2 MiB-aligned 2 MiB runs.
    std::vector<uint64_t> held;
    for (size_t i = 0; i < 4'000'000; ++i) {
        uint64_t p = MUST(frames.alloc(1));
        if (i % 3 == 0)
            held.push_back(p);
        else
            pages.push_back(p);
    }
    for (size_t i = count; i < pages.size(); ++i)
        MUST(frames.free(pages[i], 1));
    start = std::chrono::steady_clock::now();
    constexpr size_t runs = 1000;
    for (size_t i = 0; i < runs; ++i)
        MUST(frames.alloc(512, 512));
    std::printf("frame allocator: 2 MiB aligned runs past 16 GiB of fragmented memory: %.1f us each\n", seconds_since(start) / runs * 1e6);

    ArenaPages provider(1 * GiB);
    Heap heap(provider);
    std::vector<void*> objects(count);
    start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < count; ++i)
        objects[i] = MUST(heap.allocate(16 + (i * 37) % 1000));
    double heap_alloc = seconds_since(start);
    std::shuffle(objects.begin(), objects.end(), rng);
    start = std::chrono::steady_clock::now();
    for (void* p : objects)
        MUST(heap.free(p));
    double heap_free = seconds_since(start);
    std::printf("heap: 1M small allocations (16..1015 bytes) %.1f ns each, frees (random order) %.1f ns each, peak %zu MiB\n",
        heap_alloc / count * 1e9, heap_free / count * 1e9, heap.statistics().peak_bytes_in_use >> 20);
    return 0;
}
