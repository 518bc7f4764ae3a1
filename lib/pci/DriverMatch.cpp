#include "lib/pci/DriverMatch.h"

namespace aisos::pci {

namespace {

constexpr uint32_t intel = 0x8086;
constexpr uint32_t red_hat_virtio = 0x1af4;
constexpr uint32_t nvidia = 0x10de;

constexpr DriverMatch device(uint32_t vendor, uint32_t device_id, const char* driver) { return { vendor, device_id, match_any, match_any, match_any, driver }; }

// Device ids from the Intel datasheets / pci.ids families named in each block.
constexpr DriverMatch s_table[] = {
    // virtio-net: transitional (legacy) id and the modern virtio 1.0 id.
    device(red_hat_virtio, 0x1000, "virtio-net"),
    device(red_hat_virtio, 0x1041, "virtio-net"),

    // e1000: 8254x (82540EM is QEMU's "e1000").
    device(intel, 0x1004, "e1000"), device(intel, 0x1008, "e1000"), device(intel, 0x100c, "e1000"),
    device(intel, 0x100e, "e1000"), device(intel, 0x100f, "e1000"), device(intel, 0x1010, "e1000"),
    device(intel, 0x1011, "e1000"), device(intel, 0x1015, "e1000"), device(intel, 0x1016, "e1000"),
    device(intel, 0x1017, "e1000"), device(intel, 0x1019, "e1000"), device(intel, 0x101e, "e1000"),
    device(intel, 0x1026, "e1000"), device(intel, 0x1076, "e1000"), device(intel, 0x1079, "e1000"),
    device(intel, 0x107c, "e1000"),

    // e1000e: 82571/82572/82573/82574 (82574L is QEMU's "e1000e"), 82583, I217, I218, I219.
    device(intel, 0x105e, "e1000e"), device(intel, 0x105f, "e1000e"), device(intel, 0x1060, "e1000e"),
    device(intel, 0x10a4, "e1000e"), device(intel, 0x10a5, "e1000e"), device(intel, 0x10bc, "e1000e"),
    device(intel, 0x107d, "e1000e"), device(intel, 0x107e, "e1000e"), device(intel, 0x107f, "e1000e"),
    device(intel, 0x10b9, "e1000e"), device(intel, 0x108b, "e1000e"), device(intel, 0x108c, "e1000e"),
    device(intel, 0x109a, "e1000e"), device(intel, 0x10d3, "e1000e"), device(intel, 0x10f6, "e1000e"),
    device(intel, 0x150c, "e1000e"),
    device(intel, 0x153a, "e1000e"), device(intel, 0x153b, "e1000e"), // I217
    device(intel, 0x155a, "e1000e"), device(intel, 0x1559, "e1000e"), device(intel, 0x15a0, "e1000e"),
    device(intel, 0x15a1, "e1000e"), device(intel, 0x15a2, "e1000e"), device(intel, 0x15a3, "e1000e"), // I218
    device(intel, 0x156f, "e1000e"), device(intel, 0x1570, "e1000e"), device(intel, 0x15b7, "e1000e"),
    device(intel, 0x15b8, "e1000e"), device(intel, 0x15b9, "e1000e"), device(intel, 0x15bb, "e1000e"),
    device(intel, 0x15bc, "e1000e"), device(intel, 0x15bd, "e1000e"), device(intel, 0x15be, "e1000e"),
    device(intel, 0x15d6, "e1000e"), device(intel, 0x15d7, "e1000e"), device(intel, 0x15d8, "e1000e"),
    device(intel, 0x15e3, "e1000e"), device(intel, 0x0d4c, "e1000e"), device(intel, 0x0d4d, "e1000e"),
    device(intel, 0x0d4e, "e1000e"), device(intel, 0x0d4f, "e1000e"), device(intel, 0x15fb, "e1000e"),
    device(intel, 0x15fc, "e1000e"), device(intel, 0x1a1c, "e1000e"), device(intel, 0x1a1d, "e1000e"),
    device(intel, 0x1a1e, "e1000e"), device(intel, 0x1a1f, "e1000e"), // I219

    // igb: 82575, 82576, I350, I354, I210, I211.
    device(intel, 0x10a7, "igb"), device(intel, 0x10a9, "igb"), device(intel, 0x10c9, "igb"),
    device(intel, 0x10e6, "igb"), device(intel, 0x10e7, "igb"), device(intel, 0x10e8, "igb"),
    device(intel, 0x150a, "igb"), device(intel, 0x150d, "igb"), device(intel, 0x1518, "igb"),
    device(intel, 0x1526, "igb"),
    device(intel, 0x1521, "igb"), device(intel, 0x1522, "igb"), device(intel, 0x1523, "igb"),
    device(intel, 0x1524, "igb"), // I350
    device(intel, 0x1f40, "igb"), device(intel, 0x1f41, "igb"), device(intel, 0x1f45, "igb"), // I354
    device(intel, 0x1533, "igb"), device(intel, 0x1536, "igb"), device(intel, 0x1537, "igb"),
    device(intel, 0x1538, "igb"), device(intel, 0x157b, "igb"), device(intel, 0x157c, "igb"), // I210
    device(intel, 0x1539, "igb"), // I211

    // ixgbe: 82599, X540, X550, X552 (X550EM_x), X553 (X550EM_a).
    device(intel, 0x10fb, "ixgbe"), device(intel, 0x10fc, "ixgbe"), device(intel, 0x10f8, "ixgbe"),
    device(intel, 0x10f9, "ixgbe"), device(intel, 0x1507, "ixgbe"), device(intel, 0x1514, "ixgbe"),
    device(intel, 0x151c, "ixgbe"), device(intel, 0x1529, "ixgbe"), device(intel, 0x152a, "ixgbe"),
    device(intel, 0x154a, "ixgbe"), device(intel, 0x154d, "ixgbe"), device(intel, 0x1557, "ixgbe"),
    device(intel, 0x1558, "ixgbe"), // 82599
    device(intel, 0x1528, "ixgbe"), device(intel, 0x1560, "ixgbe"), // X540
    device(intel, 0x1563, "ixgbe"), device(intel, 0x15d1, "ixgbe"), // X550-T2, X550-T1
    device(intel, 0x15aa, "ixgbe"), device(intel, 0x15ab, "ixgbe"), device(intel, 0x15ac, "ixgbe"),
    device(intel, 0x15ad, "ixgbe"), device(intel, 0x15ae, "ixgbe"), // X552
    device(intel, 0x15c2, "ixgbe"), device(intel, 0x15c3, "ixgbe"), device(intel, 0x15c4, "ixgbe"),
    device(intel, 0x15c6, "ixgbe"), device(intel, 0x15c7, "ixgbe"), device(intel, 0x15c8, "ixgbe"),
    device(intel, 0x15ca, "ixgbe"), device(intel, 0x15cc, "ixgbe"), device(intel, 0x15ce, "ixgbe"),
    device(intel, 0x15e4, "ixgbe"), device(intel, 0x15e5, "ixgbe"), // X553

    // By class: NVMe (mass storage / non-volatile memory / NVM Express).
    { match_any, match_any, 0x01, 0x08, 0x02, "nvme" },
    // NVIDIA display controllers (VGA 03:00 and 3D 03:02): detected and reported.
    { nvidia, match_any, 0x03, match_any, match_any, "nvidia-gpu" },
};

bool matches(uint32_t pattern, uint32_t value) { return pattern == match_any || pattern == value; }

} // namespace

const char* match_driver(uint16_t vendor_id, uint16_t device_id, uint8_t class_code, uint8_t subclass, uint8_t prog_if)
{
    for (auto const& row : s_table) {
        if (matches(row.vendor_id, vendor_id) && matches(row.device_id, device_id) && matches(row.class_code, class_code)
            && matches(row.subclass, subclass) && matches(row.prog_if, prog_if))
            return row.driver;
    }
    return nullptr;
}

std::span<const DriverMatch> driver_table() { return s_table; }

} // namespace aisos::pci
