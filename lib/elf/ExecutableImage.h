#pragma once

// ErrorOr front end to the std-free ELF validator in lib/elf/Executable.h.

#include "lib/base/ErrorOr.h"
#include "lib/elf/Executable.h"

#include <span>

namespace aisos::elf {

inline ErrorOr<ExecutableLayout> validate_executable(std::span<const uint8_t> image, ImageType type = ImageType::Either)
{
    ExecutableLayout layout;
    ElfCheck check = parse_executable(image.data(), image.size(), type, layout);
    if (!check.ok())
        return Error { check.unsupported ? ErrorCode::Unsupported : ErrorCode::Corrupt, check.reason };
    return layout;
}

} // namespace aisos::elf
