#include "lib/net/Addresses.h"

#include "lib/base/Format.h"

namespace aisos::net {

ErrorOr<Ipv4Address> parse_ipv4(std::string_view text)
{
    uint32_t value = 0;
    size_t parts = 0;
    size_t index = 0;
    while (true) {
        if (index >= text.size() || text[index] < '0' || text[index] > '9')
            return Error::invalid("IPv4 address: expected a digit");
        uint32_t part = 0;
        size_t digits = 0;
        size_t start = index;
        while (index < text.size() && text[index] >= '0' && text[index] <= '9') {
            part = part * 10 + static_cast<uint32_t>(text[index] - '0');
            ++digits;
            ++index;
            if (digits > 3)
                return Error::invalid("IPv4 address: part too long");
        }
        if (digits > 1 && text[start] == '0')
            return Error::invalid("IPv4 address: leading zero");
        if (part > 255)
            return Error::invalid("IPv4 address: part above 255");
        value = (value << 8) | part;
        ++parts;
        if (parts == 4)
            break;
        if (index >= text.size() || text[index] != '.')
            return Error::invalid("IPv4 address: expected four dot-separated parts");
        ++index;
    }
    if (index != text.size())
        return Error::invalid("IPv4 address: trailing characters");
    return Ipv4Address { value };
}

std::string_view format_ipv4(Ipv4Address address, char* buffer, size_t capacity)
{
    return format_to(buffer, capacity, "{}.{}.{}.{}", address.octet(0), address.octet(1), address.octet(2), address.octet(3));
}

std::string_view format_mac(const MacAddress& mac, char* buffer, size_t capacity)
{
    auto& b = mac.bytes;
    return format_to(buffer, capacity, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5]);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

ErrorOr<MacAddress> parse_mac(std::string_view text)
{
    if (text.size() != 17)
        return Error::invalid("MAC address: expected xx:xx:xx:xx:xx:xx");
    MacAddress mac;
    for (size_t i = 0; i < 6; ++i) {
        int high = hex_value(text[i * 3]);
        int low = hex_value(text[i * 3 + 1]);
        if (high < 0 || low < 0)
            return Error::invalid("MAC address: expected hex digits");
        if (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-')
            return Error::invalid("MAC address: expected ':' or '-' separators");
        mac.bytes[i] = static_cast<uint8_t>(high * 16 + low);
    }
    return mac;
}

} // namespace aisos::net
