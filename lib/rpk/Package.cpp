#include "lib/rpk/Package.h"

namespace aisos::rpk {

namespace {

uint32_t read_u32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
uint64_t read_u64(const uint8_t* p) { return uint64_t(read_u32(p)) | uint64_t(read_u32(p + 4)) << 32; }

void write_u32(uint8_t* p, uint32_t value)
{
    for (int i = 0; i < 4; ++i)
        p[i] = uint8_t(value >> (8 * i));
}

void write_u64(uint8_t* p, uint64_t value)
{
    write_u32(p, uint32_t(value));
    write_u32(p + 4, uint32_t(value >> 32));
}

} // namespace

ErrorOr<size_t> package_size(size_t manifest_length, size_t elf_length)
{
    if (manifest_length == 0 || manifest_length > max_manifest_length)
        return Error::invalid("manifest length is outside 1 .. 64 KiB");
    if (elf_length == 0 || elf_length > max_elf_length)
        return Error::invalid("ELF length is outside 1 .. 256 MiB");
    // Both are bounded above, so the sum cannot overflow even a 32-bit size_t
    // by much; compute in 64 bits and check it fits anyway.
    uint64_t total = uint64_t(package_header_size) + manifest_length + elf_length + package_hash_size;
    if (total > size_t(-1))
        return Error { ErrorCode::Overflow, "package size does not fit in memory" };
    return size_t(total);
}

ErrorOr<PackageView> parse_package(std::span<const uint8_t> bytes, Diagnostic* diagnostic)
{
    if (bytes.size() < package_header_size)
        return fail(diagnostic, Error::corrupt("package is shorter than its header"), "package is shorter than its 24-byte header ({} bytes)", bytes.size());
    const uint8_t* data = bytes.data();
    if (__builtin_memcmp(data, package_magic, sizeof(package_magic)) != 0)
        return fail(diagnostic, Error::corrupt("not an aiSOS package (bad magic)"));
    uint32_t version = read_u32(data + 8);
    if (version != package_format_version)
        return fail(diagnostic, Error::unsupported("unsupported package format version"), "unsupported package format version {}", version);
    uint32_t manifest_length = read_u32(data + 12);
    uint64_t elf_length = read_u64(data + 16);
    if (manifest_length == 0)
        return fail(diagnostic, Error::corrupt("manifest length 0"));
    if (manifest_length > max_manifest_length)
        return fail(diagnostic, Error::corrupt("manifest length exceeds 64 KiB"), "manifest length {} exceeds the limit of {} bytes", manifest_length, max_manifest_length);
    if (elf_length == 0)
        return fail(diagnostic, Error::corrupt("ELF length 0"));
    if (elf_length > max_elf_length)
        return fail(diagnostic, Error::corrupt("ELF length exceeds 256 MiB"), "ELF length {} exceeds the limit of {} bytes", elf_length, max_elf_length);

    // Lengths are bounded above, so this sum cannot overflow 64 bits.
    uint64_t hashed = package_header_size + uint64_t(manifest_length) + elf_length;
    uint64_t expected = hashed + package_hash_size;
    if (bytes.size() < expected)
        return fail(diagnostic, Error::corrupt("package is truncated"), "package is truncated: {} bytes, its header says {}", bytes.size(), expected);
    if (bytes.size() > expected)
        return fail(diagnostic, Error::corrupt("package has trailing bytes"), "package has {} trailing bytes after its hash", bytes.size() - expected);

    auto digest = crypto::Sha256::hash(bytes.first(hashed));
    if (__builtin_memcmp(digest.data(), data + hashed, package_hash_size) != 0)
        return fail(diagnostic, Error::corrupt("package hash mismatch"));

    PackageView view;
    view.manifest = bytes.subspan(package_header_size, manifest_length);
    view.elf = bytes.subspan(package_header_size + manifest_length, elf_length);
    view.hash = digest;
    return view;
}

ErrorOr<size_t> write_package(std::span<const uint8_t> manifest, std::span<const uint8_t> elf, std::span<uint8_t> out)
{
    size_t total = TRY(package_size(manifest.size(), elf.size()));
    if (out.size() < total)
        return Error { ErrorCode::Overflow, "output buffer is smaller than the package" };
    uint8_t* data = out.data();
    __builtin_memcpy(data, package_magic, sizeof(package_magic));
    write_u32(data + 8, package_format_version);
    write_u32(data + 12, uint32_t(manifest.size()));
    write_u64(data + 16, elf.size());
    __builtin_memcpy(data + package_header_size, manifest.data(), manifest.size());
    __builtin_memcpy(data + package_header_size + manifest.size(), elf.data(), elf.size());
    size_t hashed = total - package_hash_size;
    auto digest = crypto::Sha256::hash(out.first(hashed));
    __builtin_memcpy(data + hashed, digest.data(), package_hash_size);
    return total;
}

} // namespace aisos::rpk
