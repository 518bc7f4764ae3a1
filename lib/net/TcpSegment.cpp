#include "lib/net/TcpSegment.h"

#include "lib/net/Wire.h"

namespace aisos::net {

static ErrorOr<void> parse_options(std::span<const uint8_t> bytes, TcpOptions& options)
{
    size_t i = 0;
    while (i < bytes.size()) {
        uint8_t kind = bytes[i];
        if (kind == 0) // End of option list
            break;
        if (kind == 1) { // No-operation
            ++i;
            continue;
        }
        if (i + 1 >= bytes.size())
            return Error::invalid("TCP option without length");
        uint8_t length = bytes[i + 1];
        if (length < 2 || i + length > bytes.size())
            return Error::invalid("TCP option length out of range");
        switch (kind) {
        case 2: // MSS
            if (length != 4)
                return Error::invalid("TCP MSS option length");
            options.has_mss = true;
            options.mss = load_be16(&bytes[i + 2]);
            break;
        case 3: // Window scale
            if (length != 3)
                return Error::invalid("TCP window scale option length");
            options.has_window_scale = true;
            options.window_scale = bytes[i + 2];
            break;
        case 4: // SACK permitted
            if (length != 2)
                return Error::invalid("TCP SACK-permitted option length");
            options.sack_permitted = true;
            break;
        default: // Unknown options (timestamps, SACK blocks...) are skipped.
            break;
        }
        i += length;
    }
    return {};
}

ErrorOr<TcpSegment> parse_tcp_segment(std::span<const uint8_t> bytes)
{
    if (bytes.size() < tcp_header_size)
        return Error::invalid("TCP segment shorter than its header");
    size_t header_length = static_cast<size_t>(bytes[12] >> 4) * 4;
    if (header_length < tcp_header_size || header_length > bytes.size())
        return Error::invalid("TCP data offset out of range");
    TcpSegment segment;
    segment.source_port = load_be16(&bytes[0]);
    segment.destination_port = load_be16(&bytes[2]);
    segment.sequence = load_be32(&bytes[4]);
    segment.acknowledgment = load_be32(&bytes[8]);
    segment.flags = bytes[13] & 0x3f;
    segment.window = load_be16(&bytes[14]);
    TRY(parse_options(bytes.subspan(tcp_header_size, header_length - tcp_header_size), segment.options));
    segment.payload = bytes.subspan(header_length);
    return segment;
}

size_t write_tcp_header(uint8_t* out, const TcpHeaderFields& fields)
{
    size_t length = tcp_header_size;
    uint8_t* options = out + tcp_header_size;
    if (fields.include_mss) {
        options[0] = 2;
        options[1] = 4;
        store_be16(options + 2, fields.mss);
        options += 4;
        length += 4;
    }
    if (fields.include_window_scale) {
        options[0] = 1; // NOP keeps the header a multiple of 4 bytes
        options[1] = 3;
        options[2] = 3;
        options[3] = fields.window_scale;
        length += 4;
    }
    store_be16(out + 0, fields.source_port);
    store_be16(out + 2, fields.destination_port);
    store_be32(out + 4, fields.sequence);
    store_be32(out + 8, fields.acknowledgment);
    out[12] = static_cast<uint8_t>((length / 4) << 4);
    out[13] = fields.flags;
    store_be16(out + 14, fields.window);
    store_be16(out + 16, 0);
    store_be16(out + 18, 0);
    return length;
}

} // namespace aisos::net
