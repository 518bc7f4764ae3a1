#include "lib/initrd/Initrd.h"

#include "lib/crypto/Sha256.h"
#include "lib/rpk/Manifest.h"

namespace aisos::initrd {

namespace {

constexpr size_t header_size = 16;
constexpr size_t entry_header_size = 16;
constexpr size_t hash_size = 32;

uint64_t read_le(const uint8_t* bytes, size_t width)
{
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i)
        value |= uint64_t(bytes[i]) << (8 * i);
    return value;
}

constexpr uint64_t padded(uint64_t length) { return (length + 7) & ~uint64_t(7); }

} // namespace

ErrorOr<Archive> Archive::parse(std::span<const uint8_t> bytes)
{
    if (bytes.size() < header_size + hash_size)
        return Error { ErrorCode::Corrupt, "initrd too short" };
    if (__builtin_memcmp(bytes.data(), "AISOSIRD", 8) != 0)
        return Error { ErrorCode::Corrupt, "initrd magic missing" };
    if (read_le(bytes.data() + 8, 4) != format_version)
        return Error { ErrorCode::Unsupported, "unsupported initrd version" };
    uint64_t count = read_le(bytes.data() + 12, 4);
    if (count > max_entries)
        return Error { ErrorCode::Corrupt, "too many initrd entries" };

    size_t body_end = bytes.size() - hash_size;
    crypto::Sha256::Digest digest = crypto::Sha256::hash(bytes.first(body_end));
    if (__builtin_memcmp(digest.data(), bytes.data() + body_end, hash_size) != 0)
        return Error { ErrorCode::Corrupt, "initrd hash mismatch" };

    Archive archive;
    uint64_t at = header_size;
    for (uint64_t i = 0; i < count; ++i) {
        if (body_end - at < entry_header_size)
            return Error { ErrorCode::Corrupt, "initrd entry header past the end" };
        const uint8_t* header = bytes.data() + at;
        uint64_t path_length = read_le(header, 2);
        uint64_t data_length = read_le(header + 8, 8);
        if (read_le(header + 2, 2) != 0 || read_le(header + 4, 4) != 0)
            return Error { ErrorCode::Corrupt, "initrd reserved field set" };
        if (path_length == 0 || path_length > 255)
            return Error { ErrorCode::Corrupt, "initrd path length out of range" };
        at += entry_header_size;
        if (body_end - at < padded(path_length))
            return Error { ErrorCode::Corrupt, "initrd path past the end" };
        std::string_view path { reinterpret_cast<const char*>(bytes.data() + at), path_length };
        at += padded(path_length);
        if (data_length > body_end - at || padded(data_length) > body_end - at)
            return Error { ErrorCode::Corrupt, "initrd data past the end" };
        // The same rules as module paths, checked on "/" + path.
        char absolute[257];
        absolute[0] = '/';
        __builtin_memcpy(absolute + 1, path.data(), path.size());
        if (rpk::check_fs_path({ absolute, path.size() + 1 }) != nullptr)
            return Error { ErrorCode::Corrupt, "initrd path is not a valid /fs path" };
        for (uint32_t j = 0; j < archive.m_count; ++j) {
            if (archive.m_entries[j].path == path)
                return Error { ErrorCode::Corrupt, "initrd path appears twice" };
        }
        archive.m_entries[archive.m_count++] = { path, bytes.subspan(at, data_length) };
        at += padded(data_length);
    }
    if (at != body_end)
        return Error { ErrorCode::Corrupt, "initrd has trailing bytes" };
    return archive;
}

} // namespace aisos::initrd
