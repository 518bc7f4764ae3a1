// libFuzzer target: validate_module (ELF checks, dynamic section, RELA and
// RELR tables) and apply_relocations on what it accepts.
#include "tests/fuzz/rpk/FuzzChecks.h"

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // A private copy: ASan then flags any read past the input's end.
    std::vector<uint8_t> bytes(data, data + size);
    aisos::rpk::fuzz::check_module(bytes);
    return 0;
}
