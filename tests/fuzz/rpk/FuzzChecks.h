#pragma once

// Invariants the rpk fuzz targets check on whatever the parsers accept.
// A violated invariant is a crash (__builtin_trap), which libFuzzer reports.

#include "host/MallocAllocator.h"
#include "lib/elf/Relocations.h"
#include "lib/rpk/Manifest.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace aisos::rpk::fuzz {

inline void require(bool condition)
{
    if (!condition)
        __builtin_trap();
}

// An accepted module: every relocation write lands in an 8-byte slot of a
// writable segment, and applying it twice gives the same writes.
inline void check_module(std::span<const uint8_t> elf)
{
    auto result = elf::validate_module(elf);
    if (result.is_error()) {
        require(result.error().reason() != nullptr);
        return;
    }
    auto const& module = result.value();
    auto const& layout = module.layout;
    require(layout.end_address > layout.lowest_address && layout.end_address - layout.lowest_address <= elf::max_module_span);
    uint64_t writes = 0;
    uint64_t checksum = 0;
    auto check = [&](uint64_t address, uint64_t value) -> ErrorOr<void> {
        require(address % 8 == 0);
        bool inside = false;
        for (uint32_t i = 0; i < layout.segment_count; ++i) {
            auto const& segment = layout.segments[i];
            if ((segment.flags & elf::segment_writable) && address >= segment.virtual_address && address + 8 <= segment.virtual_address + segment.memory_size)
                inside = true;
        }
        require(inside);
        ++writes;
        checksum = checksum * 31 + address + value;
        return {};
    };
    MUST(elf::apply_relocations(module.relocations, elf, 0x7f0000000000ull, check));
    require(writes == module.relocations.relocation_count);
    uint64_t first = checksum;
    writes = 0;
    checksum = 0;
    MUST(elf::apply_relocations(module.relocations, elf, 0x7f0000000000ull, check));
    require(checksum == first);
}

// An accepted manifest: limits hold, every granted path is readable, no
// path under /system ever is, write implies read, every route answers for
// its own path.
inline void check_manifest(std::string_view text)
{
    MallocAllocator allocator;
    auto manifest = std::make_unique<Manifest>();
    Diagnostic diagnostic;
    auto result = parse_manifest(allocator, text, *manifest, &diagnostic);
    require(allocator.live_allocations() == 0);
    if (result.is_error()) {
        require(!diagnostic.empty());
        return;
    }
    require(manifest->fs_read_count <= max_fs_paths && manifest->fs_write_count <= max_fs_paths && manifest->route_count <= max_routes);
    require(manifest->max_memory_mib >= 1 && manifest->max_threads >= 1);
    require(!manifest->name.empty() && !manifest->version.empty() && !manifest->entry.empty());
    for (auto probe : { "/system", "/system/users", "/system/x/y", "", "relative", "/a/../system" }) {
        require(!manifest->may_read(probe));
        require(!manifest->may_write(probe));
    }
    for (uint32_t i = 0; i < manifest->fs_read_count; ++i) {
        auto path = std::string(manifest->fs_read[i].view());
        require(manifest->may_read(path));
        if (path.size() + 2 <= max_fs_path_length)
            require(manifest->may_read(path == "/" ? "/x" : path + "/x"));
        require(!manifest->may_read(path + "/.."));
    }
    for (uint32_t i = 0; i < manifest->fs_write_count; ++i) {
        auto path = std::string(manifest->fs_write[i].view());
        require(manifest->may_write(path) && manifest->may_read(path));
    }
    for (uint32_t i = 0; i < manifest->route_count; ++i) {
        auto const& route = manifest->routes[i];
        auto match = manifest->match_route(route.match_path().empty() ? "/" : route.match_path(), route.websocket);
        require(match != nullptr && match->websocket == route.websocket);
        require(route.websocket ? route.methods == 0 : route.methods != 0);
    }
    // A copy answers the same.
    auto copy = std::make_unique<Manifest>(*manifest);
    for (uint32_t i = 0; i < manifest->fs_read_count; ++i)
        require(copy->may_read(manifest->fs_read[i].view()));
}

} // namespace aisos::rpk::fuzz
