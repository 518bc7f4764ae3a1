#pragma once

// The initrd: a flat archive the loader hands over as \aisos\initrd, used
// to preinstall the default module and model on a machine whose disk does
// not hold them yet (tools/make_initrd.py writes it). Little-endian:
//
//   "AISOSIRD"  u32 version = 1  u32 entry count (<= 64)
//   per entry:  u16 path length (1..255)  u16 reserved = 0  u32 reserved = 0
//               u64 data length  path bytes  padding to 8  data  padding to 8
//   SHA-256 of every byte before it
//
// Paths are relative /fs paths ("models/x.gguf", "system/pkg/llm.rpk"):
// well-formed (lib/rpk check_fs_path rules) and unique. Nothing in the
// archive is trusted further: packages are verified like an upload.

#include "lib/base/ErrorOr.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::initrd {

inline constexpr uint32_t format_version = 1;
inline constexpr uint32_t max_entries = 64;

struct Entry {
    std::string_view path;       // into the archive
    std::span<const uint8_t> data; // into the archive
};

class Archive {
public:
    // Checks the header, every entry's bounds and path, and the hash.
    static ErrorOr<Archive> parse(std::span<const uint8_t>);

    uint32_t count() const { return m_count; }
    const Entry& entry(uint32_t index) const { return m_entries[index]; }

private:
    Entry m_entries[max_entries];
    uint32_t m_count { 0 };
};

} // namespace aisos::initrd
