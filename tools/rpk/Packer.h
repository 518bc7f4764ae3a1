#pragma once

// The host side of .rpk: build a package from a manifest and an ELF, and
// describe a package. The checks are the kernel's own (lib/rpk, lib/elf),
// so a package the packer writes is one the kernel accepts, and a package
// it refuses would be refused at install with the same reason.

#include <cstdint>
#include <string>
#include <vector>

namespace aisos::rpk::tool {

struct Result {
    bool ok { false };
    std::string error;          // the reason when !ok
    std::vector<uint8_t> bytes; // pack: the package
    std::string text;           // inspect: the description
};

// Validates manifest and ELF, then lays out the package.
Result pack(const std::vector<uint8_t>& manifest, const std::vector<uint8_t>& elf);

// Verifies a package (container, manifest, ELF) and describes it: name,
// version, ABI, priority, limits, permissions, routes, ELF size and hash.
Result inspect(const std::vector<uint8_t>& package);

} // namespace aisos::rpk::tool
