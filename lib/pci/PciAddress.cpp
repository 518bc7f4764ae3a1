#include "lib/pci/PciAddress.h"

namespace aisos::pci {

size_t PciAddress::format(char* buffer, size_t size) const
{
    if (size == 0)
        return 0;
    constexpr char digits[] = "0123456789abcdef";
    char text[pci_address_text_size];
    size_t length = 0;
    auto hex = [&](uint32_t value, int count) {
        for (int shift = (count - 1) * 4; shift >= 0; shift -= 4)
            text[length++] = digits[(value >> shift) & 0xf];
    };
    if (segment != 0) {
        hex(segment, 4);
        text[length++] = ':';
    }
    hex(bus, 2);
    text[length++] = ':';
    hex(device & 0x1f, 2);
    text[length++] = '.';
    hex(function & 0x7, 1);
    size_t written = length < size - 1 ? length : size - 1;
    for (size_t i = 0; i < written; ++i)
        buffer[i] = text[i];
    buffer[written] = 0;
    return written;
}

} // namespace aisos::pci
