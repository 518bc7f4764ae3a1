#include "lib/net/Checksum.h"

namespace aisos::net {

// Sum of the data as big-endian 16-bit words (a trailing odd byte is the
// high half of a word), folded to at most 48 bits so callers can keep adding.
static uint64_t sum_words(const uint8_t* data, size_t length)
{
    uint64_t sum = 0;
    // Little-endian 32-bit loads summed into 64 bits cannot overflow for
    // less than 2^32 loads; the byte order is fixed once at the end
    // (RFC 1071 section 2(B): the sum is byte-order independent).
    while (length >= 32) {
        uint32_t w[8];
        __builtin_memcpy(w, data, 32);
        sum += static_cast<uint64_t>(w[0]) + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7];
        data += 32;
        length -= 32;
    }
    while (length >= 4) {
        uint32_t w;
        __builtin_memcpy(&w, data, 4);
        sum += w;
        data += 4;
        length -= 4;
    }
    if (length >= 2) {
        uint16_t w;
        __builtin_memcpy(&w, data, 2);
        sum += w;
        data += 2;
        length -= 2;
    }
    if (length)
        sum += data[0]; // low byte in little-endian order = high byte of a BE word
    // Fold to 16 bits in little-endian word order, then swap to big-endian.
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t folded = static_cast<uint16_t>(sum);
    if constexpr (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
        folded = static_cast<uint16_t>((folded >> 8) | (folded << 8));
    return folded;
}

void ChecksumAccumulator::add(std::span<const uint8_t> data)
{
    if (data.empty())
        return;
    uint64_t sum = sum_words(data.data(), data.size());
    // Data starting at an odd offset has its bytes in the opposite halves of
    // the words: the partial sum is byte-swapped (RFC 1071 section 2(B)).
    if (m_odd)
        sum = ((sum & 0xff) << 8) | (sum >> 8);
    m_sum += sum;
    if (data.size() & 1)
        m_odd = !m_odd;
}

void ChecksumAccumulator::add_be16(uint16_t value)
{
    uint8_t bytes[2] = { static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value) };
    add(bytes);
}

uint16_t ChecksumAccumulator::finish() const
{
    uint64_t sum = m_sum;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

uint16_t internet_checksum(std::span<const uint8_t> data)
{
    ChecksumAccumulator accumulator;
    accumulator.add(data);
    return accumulator.finish();
}

void add_pseudo_header(ChecksumAccumulator& accumulator, uint32_t source, uint32_t destination, uint8_t protocol, uint16_t length)
{
    accumulator.add_be32(source);
    accumulator.add_be32(destination);
    accumulator.add_be16(protocol);
    accumulator.add_be16(length);
}

} // namespace aisos::net
