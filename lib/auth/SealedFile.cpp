#include "lib/auth/SealedFile.h"
#include "lib/crypto/ConstantTime.h"
#include "lib/crypto/Sha256.h"

namespace aisos::auth {

SealedWriter::SealedWriter(json::GrowableBuffer& buffer, std::string_view magic, uint32_t version)
    : m_buffer(buffer)
    , m_start(buffer.size())
{
    char header[sealed_magic_size] {};
    __builtin_memcpy(header, magic.data(), magic.size() < sealed_magic_size ? magic.size() : sealed_magic_size);
    bytes(header, sizeof(header));
    u32(version);
    u32(0); // payload length, patched by finish()
}

void SealedWriter::u16(uint16_t value)
{
    uint8_t b[2] = { uint8_t(value), uint8_t(value >> 8) };
    bytes(b, 2);
}

void SealedWriter::u32(uint32_t value)
{
    uint8_t b[4];
    for (int i = 0; i < 4; ++i)
        b[i] = uint8_t(value >> (8 * i));
    bytes(b, 4);
}

void SealedWriter::u64(uint64_t value)
{
    uint8_t b[8];
    for (int i = 0; i < 8; ++i)
        b[i] = uint8_t(value >> (8 * i));
    bytes(b, 8);
}

void SealedWriter::bytes(const void* data, size_t length)
{
    m_buffer.append({ static_cast<const uint8_t*>(data), length });
}

ErrorOr<void> SealedWriter::finish()
{
    if (m_buffer.failed())
        return m_buffer.error();
    size_t payload = m_buffer.size() - m_start - 16;
    if (payload > 0xffffffffu)
        return Error { ErrorCode::Overflow, "sealed file too large" };
    uint8_t* length = m_buffer.data() + m_start + 12;
    for (int i = 0; i < 4; ++i)
        length[i] = uint8_t(payload >> (8 * i));
    auto digest = crypto::Sha256::hash(m_buffer.bytes().subspan(m_start));
    bytes(digest.data(), digest.size());
    if (m_buffer.failed())
        return m_buffer.error();
    return {};
}

ErrorOr<uint8_t> ByteReader::u8()
{
    auto b = TRY(bytes(1));
    return b[0];
}

ErrorOr<uint16_t> ByteReader::u16()
{
    auto b = TRY(bytes(2));
    return uint16_t(b[0] | (b[1] << 8));
}

ErrorOr<uint32_t> ByteReader::u32()
{
    auto b = TRY(bytes(4));
    return uint32_t(b[0]) | (uint32_t(b[1]) << 8) | (uint32_t(b[2]) << 16) | (uint32_t(b[3]) << 24);
}

ErrorOr<uint64_t> ByteReader::u64()
{
    auto b = TRY(bytes(8));
    uint64_t value = 0;
    for (int i = 7; i >= 0; --i)
        value = (value << 8) | b[i];
    return value;
}

ErrorOr<std::span<const uint8_t>> ByteReader::bytes(size_t length)
{
    if (length > remaining())
        return Error::corrupt("record truncated");
    auto result = m_bytes.subspan(m_position, length);
    m_position += length;
    return result;
}

ErrorOr<std::string_view> ByteReader::text(size_t length)
{
    auto b = TRY(bytes(length));
    return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

ErrorOr<void> ByteReader::expect_end() const
{
    if (remaining() != 0)
        return Error::corrupt("unexpected bytes after the last record");
    return {};
}

ErrorOr<ByteReader> open_sealed(std::span<const uint8_t> file, std::string_view magic, uint32_t version)
{
    if (file.size() < sealed_overhead)
        return Error::corrupt("file too short");
    if (magic.size() != sealed_magic_size || __builtin_memcmp(file.data(), magic.data(), sealed_magic_size) != 0)
        return Error::corrupt("wrong file magic");
    ByteReader header(file.subspan(8, 8));
    uint32_t file_version = MUST(header.u32());
    uint32_t length = MUST(header.u32());
    if (uint64_t(length) + sealed_overhead != file.size())
        return Error::corrupt("file length does not match its header");
    auto digest = crypto::Sha256::hash(file.first(16 + size_t(length)));
    if (!crypto::constant_time_equal(digest, file.subspan(16 + size_t(length))))
        return Error::corrupt("checksum mismatch");
    if (file_version != version)
        return Error::unsupported("unknown file format version");
    return ByteReader(file.subspan(16, length));
}

} // namespace aisos::auth
