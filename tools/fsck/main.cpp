// aisos-fsck IMAGE [--list] [--cat PATH]
// Checks an aiSOS /fs disk image. Exit status 0 when the file system is
// consistent, 1 on any inconsistency (with the reason and, when known, the
// block where it was found), 2 when the image cannot be read at all.
// After a clean check, --list prints every entry ("d|f size mtime path") and
// --cat PATH writes one file's bytes to stdout (the report then goes to
// stderr), so host tests can compare what the guest stored.

#include "host/MallocAllocator.h"
#include "lib/base/Error.h"
#include "lib/fs/FileSystem.h"
#include "tools/fs/FileBlockDevice.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace aisos;

namespace {

int list_tree(fs::FileSystem& file_system)
{
    std::vector<std::string> pending { "" };
    while (!pending.empty()) {
        std::string directory = pending.back();
        pending.pop_back();
        std::vector<std::string> children;
        auto result = file_system.list(directory, [&](const fs::DirectoryEntry& entry) -> ErrorOr<void> {
            std::string path = directory.empty() ? std::string(entry.name) : directory + "/" + std::string(entry.name);
            std::printf("%c %" PRIu64 " %" PRId64 " %s\n", entry.type == fs::NodeType::Directory ? 'd' : 'f', entry.size, entry.mtime, path.c_str());
            if (entry.type == fs::NodeType::Directory)
                children.push_back(path);
            return {};
        });
        if (result.is_error()) {
            std::fprintf(stderr, "aisos-fsck: listing /%s: %s\n", directory.c_str(), result.error().reason());
            return 1;
        }
        pending.insert(pending.end(), children.rbegin(), children.rend());
    }
    return 0;
}

int cat_file(fs::FileSystem& file_system, const char* path)
{
    std::vector<uint8_t> buffer(8 << 20);
    uint64_t offset = 0;
    for (;;) {
        auto got = file_system.read(path, offset, { buffer.data(), buffer.size() });
        if (got.is_error()) {
            std::fprintf(stderr, "aisos-fsck: %s: %s\n", path, got.error().reason());
            return 1;
        }
        if (got.value() == 0)
            return 0;
        if (std::fwrite(buffer.data(), 1, got.value(), stdout) != got.value())
            return 2;
        offset += got.value();
    }
}

}

int main(int argc, char** argv)
{
    const char* image = nullptr;
    const char* cat = nullptr;
    bool list = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--list") == 0)
            list = true;
        else if (std::strcmp(argv[i], "--cat") == 0 && i + 1 < argc)
            cat = argv[++i];
        else if (argv[i][0] != '-' && !image)
            image = argv[i];
        else
            image = nullptr, argc = 0;
    }
    if (!image) {
        std::fprintf(stderr, "usage: aisos-fsck IMAGE [--list] [--cat PATH]\n");
        return 2;
    }
    FILE* report_stream = cat ? stderr : stdout;
    auto device = tools::FileBlockDevice::open(image);
    if (device.is_error()) {
        std::fprintf(stderr, "aisos-fsck: %s: %s\n", image, device.error().reason());
        return 2;
    }
    MallocAllocator allocator;
    fs::CheckReport report;
    auto result = fs::fsck(device.value(), allocator, report);
    if (result.is_error()) {
        auto code = result.error().code();
        std::fprintf(stderr, "aisos-fsck: %s: INCONSISTENT: %s (%s)", image, result.error().reason(), error_code_name(code));
        if (report.bad_block)
            std::fprintf(stderr, " at block %" PRIu64, report.bad_block);
        std::fprintf(stderr, "\n");
        return code == ErrorCode::IoError || code == ErrorCode::OutOfMemory ? 2 : 1;
    }
    std::fprintf(report_stream,
        "aisos-fsck: %s: clean, generation %" PRIu64 ", %" PRIu64 " directories, %" PRIu64 " files (%" PRIu64 " bytes), %" PRIu64
        " metadata blocks, %" PRIu64 "/%" PRIu64 " blocks used\n",
        image, report.generation, report.directories, report.files, report.file_bytes, report.metadata_blocks, report.used_blocks,
        report.total_blocks);
    if (!list && !cat)
        return 0;
    auto mounted = fs::FileSystem::mount(device.value(), allocator, nullptr, fs::MountCheck::SuperblockOnly);
    if (mounted.is_error()) {
        std::fprintf(stderr, "aisos-fsck: %s: %s\n", image, mounted.error().reason());
        return 1;
    }
    int status = list ? list_tree(*mounted.value()) : 0;
    if (status == 0 && cat)
        status = cat_file(*mounted.value(), cat);
    fs::FileSystem::unmount(mounted.value());
    return status;
}
