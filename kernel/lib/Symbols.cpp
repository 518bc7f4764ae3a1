#include "kernel/lib/Symbols.h"

#include "kernel/console/Log.h"
#include "lib/base/Demangle.h"
#include "lib/elf/Symbolizer.h"

#include <new>

namespace aisos::symbols {

namespace {

alignas(elf::Symbolizer) uint8_t s_storage[sizeof(elf::Symbolizer)];
elf::Symbolizer* s_symbolizer = nullptr;
// Names are demangled into one buffer: the panic path is single-threaded
// (every other CPU is stopped first).
char s_name[256];

} // namespace

void initialize(std::span<const uint8_t> kernel_elf)
{
    if (kernel_elf.empty()) {
        log::warn("symbols: the loader handed over no kernel.elf; backtraces will show addresses only");
        return;
    }
    auto symbolizer = elf::Symbolizer::create(kernel_elf);
    if (symbolizer.is_error()) {
        log::warn("symbols: kernel.elf symbol table unusable: {}", symbolizer.error().reason());
        return;
    }
    s_symbolizer = new (s_storage) elf::Symbolizer(symbolizer.release_value());
    log::debug("symbols: {} symbols", s_symbolizer->symbol_count());
}

std::optional<Symbol> lookup(uint64_t address)
{
    if (!s_symbolizer)
        return std::nullopt;
    auto match = s_symbolizer->symbolize(address);
    if (!match.has_value())
        return std::nullopt;
    return Symbol { demangle_simple(match->name, s_name, sizeof(s_name)), match->offset };
}

} // namespace aisos::symbols
