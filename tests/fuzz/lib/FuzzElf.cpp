// libFuzzer target: ELF executable validation and the symbolizer.
#include "lib/elf/ExecutableImage.h"
#include "lib/elf/Symbolizer.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::span<const uint8_t> bytes(data, size);
    for (auto type : { aisos::elf::ImageType::Executable, aisos::elf::ImageType::PositionIndependent }) {
        auto layout = aisos::elf::validate_executable(bytes, type);
        if (!layout.is_error()) {
            // Whatever validation accepts must describe in-file data.
            for (uint32_t i = 0; i < layout.value().segment_count; ++i) {
                auto const& segment = layout.value().segments[i];
                if (segment.file_offset > size || segment.file_size > size - segment.file_offset)
                    __builtin_trap();
            }
        }
    }
    auto symbolizer = aisos::elf::Symbolizer::create(bytes);
    if (!symbolizer.is_error()) {
        uint64_t probes[] = { 0, 0x1000, 0x401000, 0xffffffff80100000ull, size > 16 ? *reinterpret_cast<const uint64_t*>(data + 8) : 0 };
        for (uint64_t address : probes) {
            auto match = symbolizer.value().symbolize(address);
            if (match && match->address > address)
                __builtin_trap();
        }
    }
    return 0;
}
