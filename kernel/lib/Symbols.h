#pragma once

// Address → function name, from the kernel's own ELF symbol table (the
// loader hands over the whole kernel.elf file).

#include <optional>
#include <span>
#include <stdint.h>
#include <string_view>

namespace aisos::symbols {

struct Symbol {
    std::string_view name;
    uint64_t offset;
};

void initialize(std::span<const uint8_t> kernel_elf);
std::optional<Symbol> lookup(uint64_t address);

} // namespace aisos::symbols
