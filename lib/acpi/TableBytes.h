#pragma once

// Little-endian reads from ACPI table bytes. Callers check bounds first;
// these only avoid unaligned access (tables pack fields at odd offsets).

#include <stddef.h>
#include <stdint.h>

namespace aisos::acpi {

inline constexpr size_t table_header_size = 36;

inline uint8_t read8(const uint8_t* p) { return p[0]; }
inline uint16_t read16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t read32(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24); }
inline uint64_t read64(const uint8_t* p) { return uint64_t(read32(p)) | (uint64_t(read32(p + 4)) << 32); }

inline uint8_t checksum(const uint8_t* p, size_t length)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < length; ++i)
        sum = static_cast<uint8_t>(sum + p[i]);
    return sum;
}

} // namespace aisos::acpi
