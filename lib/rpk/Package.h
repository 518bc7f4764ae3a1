#pragma once

// The .rpk container (rpk/FORMAT.md): a 24-byte header, the manifest (JSON),
// the module's ELF and a SHA-256 over everything before it.
//
//   offset 0        8 bytes  magic "AISOSRPK"
//          8        u32      format version (1)
//          12       u32      manifest length M (1 .. 64 KiB)
//          16       u64      ELF length E (1 .. 256 MiB)
//          24       M bytes  manifest
//          24+M     E bytes  ELF
//          24+M+E   32 bytes SHA-256 of bytes [0, 24+M+E)
//
// All integers are little-endian. The file is exactly 24+M+E+32 bytes: no
// trailing data, so one package has one byte representation. parse_package
// checks only the container; the manifest and the ELF are validated by
// parse_manifest (lib/rpk/Manifest.h) and elf::validate_module.

#include "lib/base/ErrorOr.h"
#include "lib/crypto/Sha256.h"
#include "lib/rpk/Diagnostic.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::rpk {

inline constexpr uint8_t package_magic[8] = { 'A', 'I', 'S', 'O', 'S', 'R', 'P', 'K' };
inline constexpr uint32_t package_format_version = 1;
inline constexpr size_t package_header_size = 24;
inline constexpr size_t package_hash_size = crypto::Sha256::digest_size;
inline constexpr uint32_t max_manifest_length = 64 * 1024;
inline constexpr uint64_t max_elf_length = 256ull * 1024 * 1024;

struct PackageView {
    std::span<const uint8_t> manifest; // points into the parsed bytes
    std::span<const uint8_t> elf;      // points into the parsed bytes
    crypto::Sha256::Digest hash;       // the (verified) trailing SHA-256

    std::string_view manifest_text() const { return { reinterpret_cast<const char*>(manifest.data()), manifest.size() }; }
};

// Checks magic, version, both lengths, the total size and the hash.
// Corrupt for damaged or malformed bytes, Unsupported for a newer format.
ErrorOr<PackageView> parse_package(std::span<const uint8_t> bytes, Diagnostic* = nullptr);

// Size of the package holding a manifest of M and an ELF of E bytes;
// InvalidArgument when either length is outside its limits.
ErrorOr<size_t> package_size(size_t manifest_length, size_t elf_length);

// Writes the package into `out` (at least package_size(...) bytes) and
// returns its size. The contents are not validated here: callers (the
// packer) run parse_manifest and validate_module first.
ErrorOr<size_t> write_package(std::span<const uint8_t> manifest, std::span<const uint8_t> elf, std::span<uint8_t> out);

} // namespace aisos::rpk
