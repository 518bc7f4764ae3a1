#include "lib/net/http/WebSocketFrame.h"

namespace aisos::http {

WebSocketFrameParse parse_websocket_frame_header(std::span<const uint8_t> input)
{
    WebSocketFrameParse result;
    auto error = [&](uint16_t code, const char* reason) {
        result.kind = WebSocketFrameParse::Kind::Error;
        result.close_code = code;
        result.reason = reason;
        return result;
    };
    if (input.size() < 2)
        return result;
    uint8_t first = input[0];
    uint8_t second = input[1];
    auto& header = result.header;
    header.fin = first & 0x80;
    if (first & 0x70)
        return error(close_code::protocol_error, "reserved bits set");
    uint8_t opcode = first & 0x0F;
    switch (opcode) {
    case 0x0: case 0x1: case 0x2: case 0x8: case 0x9: case 0xA:
        break;
    default:
        return error(close_code::protocol_error, "unknown opcode");
    }
    header.opcode = static_cast<WebSocketOpcode>(opcode);
    header.masked = second & 0x80;
    if (!header.masked)
        return error(close_code::protocol_error, "client frame not masked");
    uint8_t length7 = second & 0x7F;
    bool control = opcode & 0x8;
    if (control && (!header.fin || length7 > 125))
        return error(close_code::protocol_error, "invalid control frame");
    size_t position = 2;
    if (length7 == 126) {
        if (input.size() < 4)
            return result;
        header.payload_length = (uint64_t(input[2]) << 8) | input[3];
        if (header.payload_length < 126)
            return error(close_code::protocol_error, "non-minimal length");
        position = 4;
    } else if (length7 == 127) {
        if (input.size() < 10)
            return result;
        uint64_t length = 0;
        for (size_t i = 0; i < 8; ++i)
            length = (length << 8) | input[2 + i];
        if (length >> 63)
            return error(close_code::protocol_error, "length with the top bit set");
        if (length <= 0xFFFF)
            return error(close_code::protocol_error, "non-minimal length");
        header.payload_length = length;
        position = 10;
    } else {
        header.payload_length = length7;
    }
    if (input.size() < position + 4)
        return result;
    for (size_t i = 0; i < 4; ++i)
        header.mask[i] = input[position + i];
    header.header_length = position + 4;
    result.kind = WebSocketFrameParse::Kind::Frame;
    return result;
}

void apply_websocket_mask(std::span<uint8_t> data, const uint8_t (&mask)[4], uint64_t offset)
{
    // Word at a time once aligned to the mask phase; plain integer code
    // (no SIMD in the kernel).
    size_t i = 0;
    size_t size = data.size();
    while (i < size && ((offset + i) & 3) != 0) {
        data[i] ^= mask[(offset + i) & 3];
        ++i;
    }
    uint64_t word_mask;
    uint8_t pattern[8] = { mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3] };
    __builtin_memcpy(&word_mask, pattern, 8);
    for (; i + 8 <= size; i += 8) {
        uint64_t word;
        __builtin_memcpy(&word, data.data() + i, 8);
        word ^= word_mask;
        __builtin_memcpy(data.data() + i, &word, 8);
    }
    for (; i < size; ++i)
        data[i] ^= mask[(offset + i) & 3];
}

size_t write_websocket_frame_header(uint8_t (&out)[max_websocket_header], bool fin, WebSocketOpcode opcode, uint64_t payload_length)
{
    out[0] = uint8_t((fin ? 0x80 : 0) | uint8_t(opcode));
    if (payload_length < 126) {
        out[1] = uint8_t(payload_length);
        return 2;
    }
    if (payload_length <= 0xFFFF) {
        out[1] = 126;
        out[2] = uint8_t(payload_length >> 8);
        out[3] = uint8_t(payload_length);
        return 4;
    }
    out[1] = 127;
    for (size_t i = 0; i < 8; ++i)
        out[2 + i] = uint8_t(payload_length >> (56 - 8 * i));
    return 10;
}

} // namespace aisos::http
