#pragma once

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum on
// every metadata block of the file system. Bytewise with a table built at
// compile time: metadata is small, so simplicity beats speed here.

#include <span>
#include <stddef.h>
#include <stdint.h>

namespace aisos::fs {

// Continues a running CRC: pass the previous result (0 to start).
uint32_t crc32c(std::span<const uint8_t> data, uint32_t crc = 0);

} // namespace aisos::fs
