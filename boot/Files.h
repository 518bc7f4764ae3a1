#pragma once

// Reading whole files from the volume the loader itself was loaded from
// (its LoadedImage's device), into page allocations of type LoaderData that
// the kernel receives and keeps.

#include "boot/Efi.h"
#include "boot/Result.h"
#include "lib/boot/BootInfo.h"

namespace aisos::boot {

// The root directory of the loader's own volume.
Result<efi::FileProtocol*> open_boot_volume(efi::SystemTable*, efi::Handle image);

// Reads `path` completely. A missing file is ErrorCode::NotFound (callers
// decide whether that is fatal); a file larger than `max_size`, a directory,
// or a read error is a different error.
Result<LoadedFile> load_file(efi::SystemTable*, efi::FileProtocol* root, const char16_t* path, uint64_t max_size);

// Pages of LoaderData for the kernel's use; zeroed.
Result<uint64_t> allocate_loader_pages(efi::SystemTable*, uint64_t pages);

} // namespace aisos::boot
