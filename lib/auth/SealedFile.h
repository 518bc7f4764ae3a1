#pragma once

// The container of every file the auth service persists (users, JWT secret,
// audit log): versioned, checksummed, parsed strictly.
//
//   offset 0   8 bytes  magic (e.g. "AISOSUSR")
//          8   u32 LE   format version
//         12   u32 LE   payload length N
//         16   N bytes  payload (little-endian fields, see each owner)
//       16+N   32 bytes SHA-256 of bytes [0, 16+N)
//
// Nothing may follow the checksum. A wrong magic or checksum is Corrupt, an
// unknown version Unsupported. ByteReader then reads the payload with
// bounds checks; the owner must consume it exactly (expect_end()).

#include "lib/base/ErrorOr.h"
#include "lib/json/GrowableBuffer.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::auth {

inline constexpr size_t sealed_magic_size = 8;
inline constexpr size_t sealed_overhead = 16 + 32;

class SealedWriter {
public:
    // `magic` must be exactly 8 characters.
    SealedWriter(json::GrowableBuffer&, std::string_view magic, uint32_t version);

    void u8(uint8_t value) { bytes(&value, 1); }
    void u16(uint16_t value);
    void u32(uint32_t value);
    void u64(uint64_t value);
    void bytes(const void* data, size_t length);
    void bytes(std::string_view text) { bytes(text.data(), text.size()); }

    // Patches the length, appends the checksum; an error if any write failed
    // (out of memory or the buffer's limit).
    ErrorOr<void> finish();

private:
    json::GrowableBuffer& m_buffer;
    size_t m_start;
};

class ByteReader {
public:
    explicit ByteReader(std::span<const uint8_t> bytes)
        : m_bytes(bytes)
    {
    }
    ErrorOr<uint8_t> u8();
    ErrorOr<uint16_t> u16();
    ErrorOr<uint32_t> u32();
    ErrorOr<uint64_t> u64();
    ErrorOr<std::span<const uint8_t>> bytes(size_t length);
    ErrorOr<std::string_view> text(size_t length);
    size_t remaining() const { return m_bytes.size() - m_position; }
    ErrorOr<void> expect_end() const;

private:
    std::span<const uint8_t> m_bytes;
    size_t m_position { 0 };
};

// Checks the container and returns a reader over its payload.
ErrorOr<ByteReader> open_sealed(std::span<const uint8_t> file, std::string_view magic, uint32_t version);

} // namespace aisos::auth
