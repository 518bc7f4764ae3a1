// libFuzzer target: mount damaged /fs images and run fsck, listing and reads
// on whatever mounts. Any outcome but a crash, hang or sanitizer report is
// fine: damage must become a clear error.
//
// The input is a list of patches applied to a valid image built once (a
// formatted 1 MiB disk with directories, small files, a multi-block
// directory and a multi-extent file): each patch is 2 bytes of block number,
// 2 bytes of offset and 1 byte XORed in. Patching a known-good image reaches
// deep into the metadata parser, where raw random images would stop at the
// superblock checksum. Inputs whose first byte is 'R' are instead used as a
// raw image (padded to 64 blocks), for corpus files of whole images.

#include "host/MallocAllocator.h"
#include "lib/fs/FileSystem.h"

#include <algorithm>
#include <cstring>
#include <stddef.h>
#include <stdint.h>
#include <string>
#include <vector>

using namespace aisos;
using namespace aisos::fs;

namespace {

class MemoryDevice final : public block::BlockDevice {
public:
    explicit MemoryDevice(std::vector<uint8_t>& bytes)
        : m_bytes(bytes)
    {
    }
    uint32_t block_size() const override { return 512; }
    uint64_t block_count() const override { return m_bytes.size() / 512; }
    ErrorOr<void> read(uint64_t first, std::span<uint8_t> buffer) override
    {
        if (buffer.size() % 512 || first > block_count() || buffer.size() / 512 > block_count() - first)
            return Error { ErrorCode::OutOfRange, "outside" };
        std::memcpy(buffer.data(), m_bytes.data() + first * 512, buffer.size());
        return {};
    }
    ErrorOr<void> write(uint64_t first, std::span<const uint8_t> buffer) override
    {
        if (buffer.size() % 512 || first > block_count() || buffer.size() / 512 > block_count() - first)
            return Error { ErrorCode::OutOfRange, "outside" };
        std::memcpy(m_bytes.data() + first * 512, buffer.data(), buffer.size());
        return {};
    }
    ErrorOr<void> flush() override { return {}; }

private:
    std::vector<uint8_t>& m_bytes;
};

std::vector<uint8_t> build_base()
{
    std::vector<uint8_t> bytes(1 << 20);
    MemoryDevice device(bytes);
    MallocAllocator allocator;
    MUST(FileSystem::format(device, allocator, {}));
    auto* fs = MUST(FileSystem::mount(device, allocator, nullptr));
    auto put = [&](const std::string& path, size_t size) {
        std::vector<uint8_t> data(size, uint8_t(size));
        auto* writer = MUST(fs->begin_write(path));
        MUST(writer->append({ data.data(), data.size() }));
        MUST(writer->commit());
        Writer::destroy(writer);
    };
    // 200-byte names: 20 entries make a directory of two blocks.
    for (int i = 0; i < 20; ++i)
        put("logs/" + std::string(190, 'n') + std::to_string(i + 100), size_t(i) * 37);
    for (int i = 0; i < 6; ++i)
        put("frag/" + std::to_string(i), 40000);
    for (int i = 0; i < 6; i += 2)
        MUST(fs->remove("frag/" + std::to_string(i)));
    put("models/m/weights", 150000);
    MUST(fs->make_directory("system/users/empty"));
    FileSystem::unmount(fs);
    return bytes;
}

void exercise(std::vector<uint8_t>& bytes)
{
    MemoryDevice device(bytes);
    MallocAllocator allocator;
    CheckReport report;
    (void)fsck(device, allocator, report);
    auto mounted = FileSystem::mount(device, allocator, nullptr, MountCheck::SuperblockOnly);
    if (mounted.is_error())
        return;
    auto* fs = mounted.value();
    // Walk without the full check: the ordinary paths must cope too.
    std::vector<std::string> pending { "" };
    std::vector<uint8_t> buffer(8192);
    int visited = 0;
    while (!pending.empty() && visited < 200) {
        std::string directory = pending.back();
        pending.pop_back();
        (void)fs->list(directory, [&](const DirectoryEntry& entry) -> ErrorOr<void> {
            ++visited;
            std::string path = directory.empty() ? std::string(entry.name) : directory + "/" + std::string(entry.name);
            if (visited > 40)
                return {};
            if (entry.type == NodeType::Directory) {
                pending.push_back(path);
            } else {
                (void)fs->read(path, 0, { buffer.data(), buffer.size() });
                (void)fs->read(path, entry.size > 100 ? entry.size - 100 : 0, { buffer.data(), 300 });
                auto extents = fs->file_extents(path);
                (void)extents;
                auto opened = fs->open(path);
                if (!opened.is_error()) {
                    (void)opened.value()->read(entry.size / 2, { buffer.data(), buffer.size() });
                    fs->close(opened.value());
                }
            }
            return {};
        });
    }
    // Changes on a damaged image must fail cleanly or keep it consistent.
    // Replace a file while it is open, then close it: pinning and release.
    auto held = fs->open("models/m/weights");
    auto begun = fs->begin_write("logs/new");
    if (!begun.is_error()) {
        (void)begun.value()->append({ buffer.data(), 5000 });
        (void)begun.value()->commit();
        Writer::destroy(begun.value());
    }
    (void)fs->remove("logs/" + std::string(190, 'n') + "103");
    (void)fs->make_directory("x/y");
    (void)fs->remove("models/m/weights");
    if (!held.is_error())
        fs->close(held.value());
    CheckReport after;
    (void)fs->check(after);
    FileSystem::unmount(fs);
}

}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const std::vector<uint8_t> base = build_base();
    std::vector<uint8_t> bytes;
    if (size > 0 && data[0] == 'R') {
        bytes.assign(64 * 512, 0);
        std::memcpy(bytes.data(), data + 1, std::min(size - 1, bytes.size()));
    } else {
        bytes = base;
        for (size_t at = 0; at + 5 <= size; at += 5) {
            uint32_t block = (uint32_t(data[at]) | uint32_t(data[at + 1]) << 8) % uint32_t(bytes.size() / 4096);
            uint32_t offset = (uint32_t(data[at + 2]) | uint32_t(data[at + 3]) << 8) % 4096;
            bytes[size_t(block) * 4096 + offset] ^= data[at + 4] ? data[at + 4] : 1;
        }
    }
    exercise(bytes);
    return 0;
}
