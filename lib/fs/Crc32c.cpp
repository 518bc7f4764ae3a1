#include "lib/fs/Crc32c.h"

#include <array>

namespace aisos::fs {

namespace {

constexpr std::array<uint32_t, 256> make_table()
{
    std::array<uint32_t, 256> table {};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t value = i;
        for (int bit = 0; bit < 8; ++bit)
            value = (value & 1) ? (value >> 1) ^ 0x82F63B78u : value >> 1;
        table[i] = value;
    }
    return table;
}

constexpr std::array<uint32_t, 256> s_table = make_table();

}

uint32_t crc32c(std::span<const uint8_t> data, uint32_t crc)
{
    crc = ~crc;
    for (uint8_t byte : data)
        crc = s_table[(crc ^ byte) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

} // namespace aisos::fs
