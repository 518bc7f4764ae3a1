// aisos-fsck IMAGE: checks an aiSOS /fs disk image. Exit status 0 when the
// file system is consistent, 1 on any inconsistency (with the reason and
// the block where it was found), 2 when the image cannot be read at all.

#include "host/MallocAllocator.h"
#include "lib/base/Error.h"
#include "lib/fs/FileSystem.h"
#include "tools/fs/FileBlockDevice.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv)
{
    if (argc != 2 || std::strcmp(argv[1], "--help") == 0) {
        std::fprintf(stderr, "usage: aisos-fsck IMAGE\n");
        return 2;
    }
    auto device = aisos::tools::FileBlockDevice::open(argv[1]);
    if (device.is_error()) {
        std::fprintf(stderr, "aisos-fsck: %s: %s\n", argv[1], device.error().reason());
        return 2;
    }
    aisos::MallocAllocator allocator;
    aisos::fs::CheckReport report;
    auto result = aisos::fs::fsck(device.value(), allocator, report);
    if (result.is_error()) {
        auto code = result.error().code();
        std::fprintf(stderr, "aisos-fsck: %s: INCONSISTENT: %s (%s)", argv[1], result.error().reason(), aisos::error_code_name(code));
        if (report.bad_block)
            std::fprintf(stderr, " at block %" PRIu64, report.bad_block);
        std::fprintf(stderr, "\n");
        return code == aisos::ErrorCode::IoError || code == aisos::ErrorCode::OutOfMemory ? 2 : 1;
    }
    std::printf("aisos-fsck: %s: clean, generation %" PRIu64 ", %" PRIu64 " directories, %" PRIu64 " files (%" PRIu64
                " bytes), %" PRIu64 " metadata blocks, %" PRIu64 "/%" PRIu64 " blocks used\n",
        argv[1], report.generation, report.directories, report.files, report.file_bytes, report.metadata_blocks, report.used_blocks,
        report.total_blocks);
    return 0;
}
