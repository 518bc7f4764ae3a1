// aisos-mkfs IMAGE [--size N[K|M|G]] [--put HOST_FILE:FS_PATH]...
// Formats a disk image with an empty aiSOS /fs file system (creating or
// resizing the image file when --size is given), then optionally copies host
// files into it (parents are created).

#include "host/MallocAllocator.h"
#include "lib/fs/FileSystem.h"
#include "tools/fs/FileBlockDevice.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>
#include <string>
#include <vector>

namespace {

class WallClock final : public aisos::fs::Clock {
public:
    int64_t now() override { return int64_t(std::time(nullptr)); }
};

bool parse_size(const char* text, uint64_t& bytes)
{
    char* end = nullptr;
    errno = 0;
    unsigned long long value = std::strtoull(text, &end, 10);
    if (errno || end == text)
        return false;
    uint64_t scale = 1;
    if (*end == 'K' || *end == 'k')
        scale = 1ull << 10;
    else if (*end == 'M' || *end == 'm')
        scale = 1ull << 20;
    else if (*end == 'G' || *end == 'g')
        scale = 1ull << 30;
    else if (*end != 0)
        return false;
    if (*end && end[1] != 0)
        return false;
    bytes = uint64_t(value) * scale;
    return bytes / scale == value && bytes % 512 == 0;
}

int usage()
{
    std::fprintf(stderr, "usage: aisos-mkfs IMAGE [--size N[K|M|G]] [--put HOST_FILE:FS_PATH]...\n");
    return 2;
}

}

int main(int argc, char** argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return usage();
    const char* image = argv[1];
    uint64_t size = 0;
    std::vector<const char*> puts;
    for (int i = 2; i < argc; ++i) {
        if (std::strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            if (!parse_size(argv[++i], size) || size == 0) {
                std::fprintf(stderr, "aisos-mkfs: bad size '%s' (a multiple of 512 bytes, suffix K, M or G)\n", argv[i]);
                return 2;
            }
        } else if (std::strcmp(argv[i], "--put") == 0 && i + 1 < argc) {
            puts.push_back(argv[++i]);
        } else {
            return usage();
        }
    }
    if (size) {
        int fd = ::open(image, O_RDWR | O_CREAT, 0644);
        if (fd < 0 || ::ftruncate(fd, off_t(size)) != 0) {
            std::fprintf(stderr, "aisos-mkfs: cannot create %s: %s\n", image, std::strerror(errno));
            return 1;
        }
        ::close(fd);
    }
    auto device = aisos::tools::FileBlockDevice::open(image);
    if (device.is_error()) {
        std::fprintf(stderr, "aisos-mkfs: %s: %s (use --size to create it)\n", image, device.error().reason());
        return 1;
    }
    aisos::MallocAllocator allocator;
    WallClock clock;
    auto formatted = aisos::fs::FileSystem::format(device.value(), allocator, { 0, clock.now() });
    if (formatted.is_error()) {
        std::fprintf(stderr, "aisos-mkfs: %s: %s\n", image, formatted.error().reason());
        return 1;
    }
    auto mounted = aisos::fs::FileSystem::mount(device.value(), allocator, &clock);
    if (mounted.is_error()) {
        std::fprintf(stderr, "aisos-mkfs: %s: the new file system does not mount: %s\n", image, mounted.error().reason());
        return 1;
    }
    auto* fs = mounted.value();
    int status = 0;
    std::vector<uint8_t> chunk(4 << 20);
    for (const char* spec : puts) {
        const char* colon = std::strchr(spec, ':');
        if (!colon) {
            std::fprintf(stderr, "aisos-mkfs: --put needs HOST_FILE:FS_PATH, got '%s'\n", spec);
            status = 2;
            break;
        }
        std::string host(spec, colon);
        FILE* file = std::fopen(host.c_str(), "rb");
        if (!file) {
            std::fprintf(stderr, "aisos-mkfs: cannot read %s: %s\n", host.c_str(), std::strerror(errno));
            status = 1;
            break;
        }
        auto writer = fs->begin_write(colon + 1);
        if (writer.is_error()) {
            std::fprintf(stderr, "aisos-mkfs: %s: %s\n", colon + 1, writer.error().reason());
            std::fclose(file);
            status = 1;
            break;
        }
        aisos::ErrorOr<void> result;
        size_t got;
        while ((got = std::fread(chunk.data(), 1, chunk.size(), file)) > 0) {
            result = writer.value()->append({ chunk.data(), got });
            if (result.is_error())
                break;
        }
        if (!result.is_error())
            result = writer.value()->commit();
        aisos::fs::Writer::destroy(writer.value());
        std::fclose(file);
        if (result.is_error()) {
            std::fprintf(stderr, "aisos-mkfs: %s: %s\n", colon + 1, result.error().reason());
            status = 1;
            break;
        }
    }
    auto space = fs->space();
    if (status == 0)
        std::printf("aisos-mkfs: %s: %llu MiB data area, %llu MiB free\n", image, (unsigned long long)(space.total_bytes >> 20),
            (unsigned long long)(space.free_bytes >> 20));
    aisos::fs::FileSystem::unmount(fs);
    return status;
}
