// Finds \_S5_ in AML without an interpreter. Firmware encodes the object as
//   NameOp(0x08) [RootChar '\'] "_S5_" PackageOp(0x12) PkgLength NumElements
//   SLP_TYPa SLP_TYPb ...
// with each value a ZeroOp (0x00), OneOp (0x01), BytePrefix (0x0a) byte,
// WordPrefix (0x0b) or DWordPrefix (0x0c) constant (ACPI 6.5 section 20.2).
// The scan is linear in the table size and every read is bounds-checked.
#include "lib/acpi/Acpi.h"
#include "lib/acpi/TableBytes.h"

namespace aisos::acpi {

namespace {

constexpr uint8_t name_op = 0x08;
constexpr uint8_t package_op = 0x12;
constexpr uint8_t root_char = '\\';

// Decodes one integer term at p[*at]; false when it is not a constant we know.
bool read_integer(const uint8_t* p, size_t end, size_t& at, uint64_t& value)
{
    if (at >= end)
        return false;
    uint8_t op = p[at++];
    switch (op) {
    case 0x00: value = 0; return true;
    case 0x01: value = 1; return true;
    case 0xff: value = ~0ull; return true; // OnesOp
    case 0x0a:
        if (end - at < 1)
            return false;
        value = p[at];
        at += 1;
        return true;
    case 0x0b:
        if (end - at < 2)
            return false;
        value = read16(p + at);
        at += 2;
        return true;
    case 0x0c:
        if (end - at < 4)
            return false;
        value = read32(p + at);
        at += 4;
        return true;
    default:
        return false;
    }
}

} // namespace

ErrorOr<SleepType> find_s5_sleep_type(std::span<const uint8_t> table)
{
    if (table.size() < table_header_size)
        return Error::corrupt("AML table is shorter than its header");
    uint32_t length = read32(table.data() + 4);
    if (length < table_header_size || length > table.size())
        return Error::corrupt("AML table length is impossible");
    const uint8_t* p = table.data();
    size_t end = length;

    bool found_name = false;
    for (size_t i = table_header_size + 1; i + 4 <= end; ++i) {
        if (p[i] != '_' || p[i + 1] != 'S' || p[i + 2] != '5' || p[i + 3] != '_')
            continue;
        bool named = p[i - 1] == name_op || (p[i - 1] == root_char && i >= table_header_size + 2 && p[i - 2] == name_op);
        if (!named)
            continue; // a reference to _S5_, or bytes that merely look like it
        found_name = true;
        size_t at = i + 4;
        if (at >= end || p[at] != package_op)
            continue;
        ++at;
        // PkgLength: bits 7-6 of the lead byte count the bytes that follow.
        if (at >= end)
            break;
        size_t extra = p[at] >> 6;
        size_t package_length = extra == 0 ? (p[at] & 0x3f) : (p[at] & 0x0f);
        for (size_t k = 1; k <= extra; ++k) {
            if (at + k >= end)
                return Error::corrupt("_S5_ package length runs past the table");
            package_length |= size_t(p[at + k]) << (4 + 8 * (k - 1));
        }
        size_t package_end = at + package_length; // PkgLength counts itself
        if (package_length < extra + 2 || package_end > end)
            return Error::corrupt("_S5_ package length is impossible");
        at += extra + 1;
        uint8_t element_count = p[at++];
        if (element_count < 1)
            return Error::corrupt("_S5_ package is empty");
        uint64_t a = 0, b = 0;
        if (!read_integer(p, package_end, at, a))
            return Error::unsupported("_S5_ SLP_TYPa is not a constant");
        b = a;
        if (element_count >= 2 && !read_integer(p, package_end, at, b))
            return Error::unsupported("_S5_ SLP_TYPb is not a constant");
        if (a > 7 || b > 7)
            return Error::corrupt("_S5_ sleep type does not fit SLP_TYP (3 bits)");
        return SleepType { true, static_cast<uint8_t>(a), static_cast<uint8_t>(b) };
    }
    if (found_name)
        return Error::unsupported("_S5_ is not a simple package (method?)");
    return Error::not_found("no _S5_ object in this table");
}

} // namespace aisos::acpi
