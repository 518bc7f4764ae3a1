#pragma once

// Maps code addresses to "function+offset" using an ELF file's .symtab and
// .strtab, found through the (validated) section header table. Used by the
// kernel's panic backtraces with the kernel.elf bytes the loader handed over.
// Nothing is copied: the Symbolizer points into the caller's bytes, which
// must outlive it.

#include "lib/base/ErrorOr.h"
#include "lib/elf/Elf64.h"

#include <optional>
#include <span>
#include <string_view>

namespace aisos::elf {

struct SymbolMatch {
    std::string_view name; // as stored (C++ names stay mangled)
    uint64_t address;      // the symbol's start
    uint64_t offset;       // queried address - start
    uint64_t size;         // 0 for assembly labels without .size
};

class Symbolizer {
public:
    static ErrorOr<Symbolizer> create(std::span<const uint8_t> elf_file);

    // The STT_FUNC symbol whose [start, start + size) contains `address`;
    // failing that, the nearest preceding size-0 function symbol as long as
    // no sized function ends between it and the address.
    std::optional<SymbolMatch> symbolize(uint64_t address) const;

    // The address of a function symbol by name (tests, and the kernel's
    // self-check of its own symbol table).
    std::optional<uint64_t> address_of(std::string_view name) const;

    size_t symbol_count() const { return m_symbol_count; }

private:
    Symbolizer() = default;

    Symbol symbol_at(size_t index) const;
    std::string_view name_of(uint32_t offset) const;

    std::span<const uint8_t> m_file;
    uint64_t m_symbols_offset { 0 };
    size_t m_symbol_count { 0 };
    uint64_t m_strings_offset { 0 };
    uint64_t m_strings_size { 0 };
};

} // namespace aisos::elf
