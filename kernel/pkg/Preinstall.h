#pragma once

// First boot: copies the files of the loader's initrd (lib/initrd) into
// /fs where they are missing — the default model under /fs/models and the
// llm module under /fs/system/pkg, which the package manager then verifies
// and starts like any installed package. Files already on the disk win, so
// an admin's later uploads and removals are never undone by a reboot...
// except a removed file that the initrd carries, which comes back: remove
// it from the boot volume too (see README).

#include <span>
#include <stdint.h>

namespace aisos::pkg {

void preinstall(std::span<const uint8_t> initrd);

} // namespace aisos::pkg
