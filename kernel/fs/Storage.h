#pragma once

// /fs in the kernel: lib/fs's file system on the first NVMe namespace.
// A blank disk is formatted at first boot; a damaged one is left alone
// (the admin repairs it with aisos-fsck on the host or formats it on
// purpose), and the system runs without /fs.

#include "lib/base/ErrorOr.h"
#include "lib/fs/FileSystem.h"

#include <span>
#include <string_view>

namespace aisos::storage {

ErrorOr<void> initialize();
fs::FileSystem* file_system(); // nullptr when there is no usable disk

// Whole small files (state under /fs/system), read into the kernel heap.
// NotFound when absent. The caller frees the buffer with heap::free.
struct FileContents {
    uint8_t* data;
    size_t size;
};
ErrorOr<FileContents> read_small_file(std::string_view path, size_t limit);
// Atomically replaces a small file, durably, before returning.
ErrorOr<void> write_small_file(std::string_view path, std::span<const uint8_t>);

} // namespace aisos::storage
