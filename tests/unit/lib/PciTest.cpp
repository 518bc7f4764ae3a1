#include "lib/pci/Pci.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <vector>

using namespace aisos;
using namespace aisos::pci;

namespace {

// A function's 4 KiB configuration space with BARs that answer sizing the
// way hardware does: writable address bits only, type bits read-only.
struct FakeFunction {
    std::array<uint8_t, 4096> space {};
    std::array<uint64_t, 6> bar_size {}; // 0 = unimplemented
    std::array<uint32_t, 6> bar_type {}; // low bits (I/O, 64-bit, prefetchable)
    uint32_t read_only_mask_status { 0 };

    uint32_t get32(uint16_t offset) const
    {
        uint32_t v;
        std::memcpy(&v, space.data() + offset, 4);
        return v;
    }
    void set32(uint16_t offset, uint32_t v) { std::memcpy(space.data() + offset, &v, 4); }
    void set16(uint16_t offset, uint16_t v) { std::memcpy(space.data() + offset, &v, 2); }
    void set8(uint16_t offset, uint8_t v) { space[offset] = v; }
};

class FakePciBus final : public PciConfigAccess {
public:
    using Key = std::tuple<uint16_t, uint8_t, uint8_t, uint8_t>;

    FakeFunction& add(PciAddress address, uint16_t vendor, uint16_t device, uint8_t class_code, uint8_t subclass, uint8_t prog_if, uint8_t header = 0)
    {
        auto& f = m_functions[key(address)];
        f.set16(config::vendor_id, vendor);
        f.set16(config::device_id, device);
        f.set8(config::revision, 0x02);
        f.set8(config::prog_if, prog_if);
        f.set8(config::subclass, subclass);
        f.set8(config::class_code, class_code);
        f.set8(config::header_type, header);
        f.set16(config::command, config::command_io_space | config::command_memory_space | config::command_bus_master);
        return f;
    }

    void set_bar(FakeFunction& f, size_t index, uint32_t type, uint64_t size, uint64_t address)
    {
        f.bar_type[index] = type;
        f.bar_size[index] = size;
        f.set32(static_cast<uint16_t>(0x10 + index * 4), static_cast<uint32_t>(address) | type);
        if (type & 4) { // 64-bit: the next slot holds the upper half
            f.bar_type[index + 1] = 0;
            f.bar_size[index + 1] = ~0ull; // marks "upper half"
            f.set32(static_cast<uint16_t>(0x10 + (index + 1) * 4), static_cast<uint32_t>(address >> 32));
        }
    }

    uint32_t read32(PciAddress address, uint16_t offset) override
    {
        EXPECT_EQ(offset % 4, 0) << "unaligned dword read";
        ++reads;
        auto it = m_functions.find(key(address));
        if (it == m_functions.end() || offset >= m_limit)
            return 0xffffffffu;
        return it->second.get32(offset);
    }

    void write32(PciAddress address, uint16_t offset, uint32_t value) override
    {
        EXPECT_EQ(offset % 4, 0) << "unaligned dword write";
        auto it = m_functions.find(key(address));
        if (it == m_functions.end() || offset >= m_limit)
            return;
        auto& f = it->second;
        if (offset >= 0x10 && offset < 0x28) {
            size_t index = (offset - 0x10) / 4;
            uint16_t command = static_cast<uint16_t>(f.get32(config::command));
            if (value == 0xffffffffu && (command & (config::command_io_space | config::command_memory_space)))
                sized_while_decoding = true;
            if (f.bar_size[index] == ~0ull) {
                // Upper half of a 64-bit BAR: the size of the lower slot decides.
                uint64_t mask = ~(f.bar_size[index - 1] - 1);
                f.set32(offset, value & static_cast<uint32_t>(mask >> 32));
            } else if (f.bar_size[index] == 0) {
                f.set32(offset, 0);
            } else {
                uint64_t mask = ~(f.bar_size[index] - 1);
                f.set32(offset, (value & static_cast<uint32_t>(mask) & ~0xfu) | f.bar_type[index]);
            }
            return;
        }
        if (offset == config::command) {
            // Status (upper half) is write-1-to-clear.
            uint32_t old = f.get32(offset);
            uint16_t status = static_cast<uint16_t>(old >> 16) & ~static_cast<uint16_t>(value >> 16);
            f.set32(offset, (uint32_t(status) << 16) | (value & 0xffff));
            return;
        }
        f.set32(offset, value);
    }

    FakeFunction& at(PciAddress address) { return m_functions.at(key(address)); }
    void limit_to_256_bytes() { m_limit = 256; }

    bool sized_while_decoding { false };
    size_t reads { 0 };

private:
    static Key key(PciAddress a) { return { a.segment, a.bus, a.device, a.function }; }
    std::map<Key, FakeFunction> m_functions;
    uint16_t m_limit { 4096 };
};

void add_capability(FakeFunction& f, uint8_t offset, uint8_t id, uint8_t next)
{
    f.set16(config::status, static_cast<uint16_t>(f.get32(config::command) >> 16) | config::status_capabilities_list);
    if (f.space[config::capabilities_pointer] == 0)
        f.set8(config::capabilities_pointer, offset);
    f.set8(offset, id);
    f.set8(offset + 1, next);
}

// QEMU q35-like machine with an NVIDIA GPU behind a root port.
void build_machine(FakePciBus& bus)
{
    bus.add({ 0, 0, 0, 0 }, 0x8086, 0x29c0, 0x06, 0x00, 0x00);
    auto& vga = bus.add({ 0, 0, 1, 0 }, 0x1234, 0x1111, 0x03, 0x00, 0x00);
    bus.set_bar(vga, 0, 0x8, 16 << 20, 0xfd000000);
    bus.set_bar(vga, 2, 0x0, 4096, 0xfebd0000);

    auto& net = bus.add({ 0, 0, 2, 0 }, 0x1af4, 0x1000, 0x02, 0x00, 0x00);
    net.set16(config::subsystem_vendor_id, 0x1af4);
    net.set16(config::subsystem_id, 0x0001);
    bus.set_bar(net, 0, 0x1, 32, 0xc040);
    bus.set_bar(net, 1, 0x0, 4096, 0xfebd1000);
    bus.set_bar(net, 4, 0xc, 16384, 0xfe000000);
    add_capability(net, 0x98, capability::msix, 0x84);
    net.set16(0x98 + 2, 2); // 3 entries
    net.set32(0x98 + 4, 0x00000001); // table in BAR1 at 0
    net.set32(0x98 + 8, 0x00000801); // PBA in BAR1 at 0x800
    add_capability(net, 0x84, capability::vendor_specific, 0x00);

    auto& nvme = bus.add({ 0, 0, 3, 0 }, 0x1b36, 0x0010, 0x01, 0x08, 0x02);
    bus.set_bar(nvme, 0, 0x4, 16384, 0x1'0000'0000ull + 0x4000);
    add_capability(nvme, 0x40, capability::msix, 0x80);
    nvme.set16(0x40 + 2, 64); // 65 entries
    nvme.set32(0x40 + 4, 0x00002000);
    nvme.set32(0x40 + 8, 0x00003000);
    add_capability(nvme, 0x80, capability::pci_express, 0x60);
    add_capability(nvme, 0x60, capability::power_management, 0x00);
    nvme.set32(0x100, (0x148u << 20) | (1u << 16) | extended_capability::advanced_error_reporting);
    nvme.set32(0x148, (0x000u << 20) | (1u << 16) | extended_capability::device_serial_number);

    auto& e1000e = bus.add({ 0, 0, 0x19, 0 }, 0x8086, 0x10d3, 0x02, 0x00, 0x00);
    add_capability(e1000e, 0xd0, capability::msi, 0x00);
    e1000e.set16(0xd0 + 2, 0x0000); // 32-bit, one vector, no masking

    auto& port = bus.add({ 0, 0, 0x1c, 0 }, 0x8086, 0x2a40, 0x06, 0x04, 0x00, config::header_bridge);
    port.set8(config::primary_bus, 0);
    port.set8(config::secondary_bus, 1);
    port.set8(config::subordinate_bus, 1);

    auto& gpu = bus.add({ 0, 1, 0, 0 }, 0x10de, 0x26b9, 0x03, 0x02, 0x00);
    gpu.set16(config::subsystem_vendor_id, 0x10de);
    gpu.set16(config::subsystem_id, 0x1851);
    bus.set_bar(gpu, 0, 0x0, 16 << 20, 0xfa000000);
    bus.set_bar(gpu, 1, 0xc, 64ull << 30, 0x40'0000'0000ull);
    bus.set_bar(gpu, 3, 0xc, 32 << 20, 0x41'0000'0000ull);
    bus.set_bar(gpu, 5, 0x1, 128, 0xe000);
    add_capability(gpu, 0x68, capability::msi, 0x00);
    gpu.set16(0x68 + 2, (1u << 7) | (1u << 8) | (2u << 1)); // 64-bit, per-vector masking, 4 vectors
    gpu.set32(0x68 + 16, 0xf);                              // all vectors masked
    // Its HDMI audio function: not ours to drive.
    gpu.set8(config::header_type, config::header_multifunction);
    bus.add({ 0, 1, 0, 1 }, 0x10de, 0x22ba, 0x04, 0x03, 0x00);

    bus.add({ 0, 0, 0x1f, 0 }, 0x8086, 0x2918, 0x06, 0x01, 0x00, config::header_multifunction);
    bus.add({ 0, 0, 0x1f, 2 }, 0x8086, 0x2922, 0x01, 0x06, 0x01);
    bus.add({ 0, 0, 0x1f, 3 }, 0x8086, 0x2930, 0x0c, 0x05, 0x00);
}

std::string text(PciAddress address)
{
    char buffer[pci_address_text_size];
    address.format(buffer, sizeof(buffer));
    return buffer;
}

} // namespace

TEST(Pci, FormatsAddresses)
{
    EXPECT_EQ(text({ 0, 0, 0x1f, 3 }), "00:1f.3");
    EXPECT_EQ(text({ 0, 0xab, 2, 0 }), "ab:02.0");
    EXPECT_EQ(text({ 1, 2, 3, 4 }), "0001:02:03.4");
    EXPECT_EQ(text({ 0xffff, 0xff, 0x1f, 7 }), "ffff:ff:1f.7");
    char small[4];
    EXPECT_EQ((PciAddress { 0, 0x12, 3, 4 }).format(small, sizeof(small)), 3u);
    EXPECT_STREQ(small, "12:");
    EXPECT_EQ((PciAddress {}).format(small, 0), 0u);
}

TEST(Pci, EnumeratesAQ35LikeMachine)
{
    FakePciBus bus;
    build_machine(bus);
    PciDeviceList list;
    enumerate(bus, { 0, 0, 255 }, BusScan::FollowBridges, list);
    std::vector<std::string> found;
    for (size_t i = 0; i < list.count; ++i)
        found.push_back(text(list.devices[i].address));
    std::vector<std::string> expected { "00:00.0", "00:01.0", "00:02.0", "00:03.0", "00:19.0", "00:1c.0", "00:1f.0", "00:1f.2", "00:1f.3", "01:00.0", "01:00.1" };
    EXPECT_EQ(found, expected);
    EXPECT_EQ(list.dropped, 0u);

    auto const& net = list.devices[2];
    EXPECT_EQ(net.vendor_id, 0x1af4);
    EXPECT_EQ(net.device_id, 0x1000);
    EXPECT_EQ(net.class_code, 0x02);
    EXPECT_EQ(net.revision, 0x02);
    EXPECT_EQ(net.subsystem_vendor_id, 0x1af4);
    EXPECT_EQ(net.subsystem_id, 0x0001);
    auto const& port = list.devices[5];
    EXPECT_EQ(port.header_type, config::header_bridge);
    EXPECT_EQ(port.secondary_bus, 1);
    EXPECT_TRUE(list.devices[6].multifunction);
    EXPECT_EQ(list.devices[9].subsystem_id, 0x1851);

    // A device on bus 5 that no bridge leads to: only the brute-force scan sees it.
    bus.add({ 0, 5, 0, 0 }, 0x8086, 0x1521, 0x02, 0x00, 0x00);
    PciDeviceList follow, all;
    enumerate(bus, { 0, 0, 255 }, BusScan::FollowBridges, follow);
    enumerate(bus, { 0, 0, 255 }, BusScan::AllBuses, all);
    EXPECT_EQ(follow.count, 11u);
    EXPECT_EQ(all.count, 12u);
    // The segment's bus range bounds both scans.
    PciDeviceList bounded;
    enumerate(bus, { 0, 0, 0 }, BusScan::FollowBridges, bounded);
    EXPECT_EQ(bounded.count, 9u);
}

TEST(Pci, BridgeLoopsEndAndCapacityIsKept)
{
    FakePciBus bus;
    auto& a = bus.add({ 0, 0, 1, 0 }, 0x8086, 0x2a40, 0x06, 0x04, 0x00, config::header_bridge);
    a.set8(config::secondary_bus, 0); // points at its own bus
    auto& b = bus.add({ 0, 0, 2, 0 }, 0x8086, 0x2a40, 0x06, 0x04, 0x00, config::header_bridge);
    b.set8(config::secondary_bus, 3);
    auto& c = bus.add({ 0, 3, 0, 0 }, 0x8086, 0x2a40, 0x06, 0x04, 0x00, config::header_bridge);
    c.set8(config::secondary_bus, 0); // back to the root
    PciDeviceList list;
    enumerate(bus, { 0, 0, 255 }, BusScan::FollowBridges, list);
    EXPECT_EQ(list.count, 3u);

    FakePciBus crowded;
    for (uint8_t b2 = 0; b2 < 10; ++b2)
        for (uint8_t d = 0; d < 32; ++d)
            crowded.add({ 0, b2, d, 0 }, 0x8086, 0x100e, 0x02, 0x00, 0x00);
    PciDeviceList full;
    enumerate(crowded, { 0, 0, 255 }, BusScan::AllBuses, full);
    EXPECT_EQ(full.count, max_devices);
    EXPECT_EQ(full.dropped, 320 - max_devices);
    // Empty or inverted ranges do nothing.
    PciDeviceList none;
    enumerate(crowded, { 0, 20, 10 }, BusScan::AllBuses, none);
    EXPECT_EQ(none.count, 0u);
    EXPECT_TRUE(read_device(crowded, { 0, 200, 0, 0 }).is_error());
}

TEST(Pci, SizesBarsAndRestoresState)
{
    FakePciBus bus;
    build_machine(bus);
    PciAddress gpu { 0, 1, 0, 0 };
    uint16_t command_before = bus.read16(gpu, config::command);
    auto bars = read_bars(bus, gpu);
    EXPECT_FALSE(bus.sized_while_decoding);
    EXPECT_EQ(bus.read16(gpu, config::command), command_before);
    ASSERT_EQ(bars.count, 6u);
    EXPECT_EQ(bars.bars[0].kind, BarKind::Memory32);
    EXPECT_EQ(bars.bars[0].address, 0xfa000000u);
    EXPECT_EQ(bars.bars[0].size, 16u << 20);
    EXPECT_FALSE(bars.bars[0].prefetchable);
    EXPECT_EQ(bars.bars[1].kind, BarKind::Memory64);
    EXPECT_TRUE(bars.bars[1].prefetchable);
    EXPECT_EQ(bars.bars[1].address, 0x40'0000'0000ull);
    EXPECT_EQ(bars.bars[1].size, 64ull << 30);
    EXPECT_EQ(bars.bars[2].kind, BarKind::None); // upper half
    EXPECT_EQ(bars.bars[3].size, 32u << 20);
    EXPECT_EQ(bars.bars[5].kind, BarKind::Io);
    EXPECT_EQ(bars.bars[5].address, 0xe000u);
    EXPECT_EQ(bars.bars[5].size, 128u);
    // Every BAR holds its firmware value again.
    EXPECT_EQ(bus.read32(gpu, 0x10), 0xfa000000u);
    EXPECT_EQ(bus.read32(gpu, 0x14), 0x0000000cu);
    EXPECT_EQ(bus.read32(gpu, 0x18), 0x40u);

    auto net = read_bars(bus, { 0, 0, 2, 0 });
    EXPECT_EQ(net.bars[0].kind, BarKind::Io);
    EXPECT_EQ(net.bars[0].size, 32u);
    EXPECT_EQ(net.bars[1].kind, BarKind::Memory32);
    EXPECT_EQ(net.bars[1].size, 4096u);
    EXPECT_EQ(net.bars[2].kind, BarKind::None);
    EXPECT_EQ(net.bars[4].kind, BarKind::Memory64);
    EXPECT_EQ(net.bars[4].size, 16384u);

    // A bridge has two BAR slots; a 64-bit BAR in the last slot is invalid.
    auto bridge = read_bars(bus, { 0, 0, 0x1c, 0 });
    EXPECT_EQ(bridge.count, 2u);
    auto& odd = bus.add({ 0, 2, 0, 0 }, 0x1234, 0x5678, 0xff, 0, 0);
    odd.set32(0x24, 0x4); // 64-bit type in BAR5
    odd.bar_type[5] = 0x4;
    odd.bar_size[5] = 4096;
    auto odd_bars = read_bars(bus, { 0, 2, 0, 0 });
    EXPECT_EQ(odd_bars.bars[5].kind, BarKind::Invalid);
    EXPECT_EQ(decode_bar(bus, { 0, 2, 0, 0 }, 5).kind, BarKind::Invalid);
    EXPECT_EQ(decode_bar(bus, { 0, 2, 0, 0 }, 9).kind, BarKind::None);
    // Nothing at the address: no BARs.
    EXPECT_EQ(read_bars(bus, { 0, 9, 9, 0 }).count, 0u);
}

TEST(Pci, CommandWritesLeaveStatusBitsAlone)
{
    FakePciBus bus;
    build_machine(bus);
    PciAddress e1000e { 0, 0, 0x19, 0 };
    auto& f = bus.at(e1000e);
    f.set16(config::status, 0xf910); // error bits set (RW1C) + capabilities
    bus.write16(e1000e, config::command, 0x0006);
    EXPECT_EQ(bus.read16(e1000e, config::status), 0xf910);
    EXPECT_EQ(bus.read16(e1000e, config::command), 0x0006);
    bus.write8(e1000e, config::command, 0x07);
    EXPECT_EQ(bus.read16(e1000e, config::status), 0xf910);
    bus.write8(e1000e, config::interrupt_line, 11);
    EXPECT_EQ(bus.read8(e1000e, config::interrupt_line), 11);
    EXPECT_EQ(bus.read8(e1000e, config::interrupt_pin), 0);
}

TEST(Pci, WalksCapabilities)
{
    FakePciBus bus;
    build_machine(bus);
    PciAddress nvme { 0, 0, 3, 0 };
    EXPECT_EQ(find_capability(bus, nvme, capability::msix), 0x40);
    EXPECT_EQ(find_capability(bus, nvme, capability::pci_express), 0x80);
    EXPECT_EQ(find_capability(bus, nvme, capability::power_management), 0x60);
    EXPECT_FALSE(find_capability(bus, nvme, capability::msi).has_value());
    std::vector<uint8_t> ids;
    for_each_capability(bus, nvme, [&](uint8_t id, uint16_t) {
        ids.push_back(id);
        return true;
    });
    EXPECT_EQ(ids, (std::vector<uint8_t> { capability::msix, capability::pci_express, capability::power_management }));
    EXPECT_EQ(find_extended_capability(bus, nvme, extended_capability::advanced_error_reporting), 0x100);
    EXPECT_EQ(find_extended_capability(bus, nvme, extended_capability::device_serial_number), 0x148);
    EXPECT_FALSE(find_extended_capability(bus, nvme, extended_capability::sr_iov).has_value());

    // No capabilities-list bit: nothing, even with a pointer set.
    PciAddress host { 0, 0, 0, 0 };
    bus.at(host).set8(config::capabilities_pointer, 0x40);
    EXPECT_FALSE(find_capability(bus, host, capability::msi).has_value());
    EXPECT_FALSE(find_extended_capability(bus, host, extended_capability::advanced_error_reporting).has_value());

    // A list that loops on itself ends.
    auto& looping = bus.at({ 0, 0, 0x19, 0 });
    looping.set8(0xd0 + 1, 0xd0);
    EXPECT_FALSE(find_capability(bus, { 0, 0, 0x19, 0 }, capability::msix).has_value());
    size_t visits = 0;
    for_each_capability(bus, { 0, 0, 0x19, 0 }, [&](uint8_t, uint16_t) { return ++visits < 1000; });
    EXPECT_EQ(visits, 48u);
    // A pointer into the header is rejected.
    looping.set8(config::capabilities_pointer, 0x20);
    EXPECT_EQ(first_capability(bus, { 0, 0, 0x19, 0 }), 0);
    // Extended loop and conventional (256-byte) access.
    bus.at(nvme).set32(0x148, (0x100u << 20) | extended_capability::device_serial_number);
    EXPECT_FALSE(find_extended_capability(bus, nvme, extended_capability::sr_iov).has_value());
    bus.limit_to_256_bytes();
    EXPECT_FALSE(find_extended_capability(bus, nvme, extended_capability::advanced_error_reporting).has_value());
}

TEST(Pci, MsiMessagesForX86)
{
    auto message = MUST(msi_message(3, 0x41));
    EXPECT_EQ(message.address, 0xfee03000u);
    EXPECT_EQ(message.data, 0x41u);
    EXPECT_EQ(MUST(msi_message(255, 254)).address, 0xfeeff000u);
    EXPECT_EQ(msi_message(0, 31).error().code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(msi_message(0, 255).error().code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(msi_message(256, 0x40).error().code(), ErrorCode::Unsupported);
}

TEST(Pci, ProgramsMsi)
{
    FakePciBus bus;
    build_machine(bus);
    PciAddress gpu { 0, 1, 0, 0 };
    auto capability = MUST(read_msi_capability(bus, gpu));
    EXPECT_TRUE(capability.is_64bit);
    EXPECT_TRUE(capability.per_vector_masking);
    EXPECT_EQ(capability.vectors_supported, 4u);
    MUST(enable_msi(bus, gpu, { 0xfee01000, 0x45 }));
    EXPECT_EQ(bus.read32(gpu, 0x68 + 4), 0xfee01000u);
    EXPECT_EQ(bus.read32(gpu, 0x68 + 8), 0u);
    EXPECT_EQ(bus.read16(gpu, 0x68 + 12), 0x45u);
    EXPECT_EQ(bus.read32(gpu, 0x68 + 16), 0xeu); // vector 0 unmasked, others untouched
    uint16_t control = bus.read16(gpu, 0x68 + 2);
    EXPECT_TRUE(control & 1);
    EXPECT_EQ(control & 0x70, 0); // one vector enabled
    EXPECT_TRUE(bus.read16(gpu, config::command) & config::command_interrupt_disable);
    disable_msi(bus, gpu);
    EXPECT_FALSE(bus.read16(gpu, 0x68 + 2) & 1);

    PciAddress e1000e { 0, 0, 0x19, 0 };
    MUST(enable_msi(bus, e1000e, { 0xfee00000, 0x50 }));
    EXPECT_EQ(bus.read32(e1000e, 0xd0 + 4), 0xfee00000u);
    EXPECT_EQ(bus.read16(e1000e, 0xd0 + 8), 0x50u);
    EXPECT_TRUE(bus.read16(e1000e, 0xd0 + 2) & 1);
    EXPECT_EQ(enable_msi(bus, e1000e, { 0x1'fee00000ull, 0x50 }).error().code(), ErrorCode::Unsupported);
    EXPECT_EQ(enable_msi(bus, { 0, 0, 2, 0 }, { 0xfee00000, 0x50 }).error().code(), ErrorCode::NotFound);
}

TEST(Pci, ProgramsMsix)
{
    FakePciBus bus;
    build_machine(bus);
    PciAddress nvme { 0, 0, 3, 0 };
    auto capability = MUST(read_msix_capability(bus, nvme));
    EXPECT_EQ(capability.offset, 0x40);
    EXPECT_EQ(capability.table_size, 65u);
    EXPECT_EQ(capability.table_bar, 0u);
    EXPECT_EQ(capability.table_offset, 0x2000u);
    EXPECT_EQ(capability.pba_offset, 0x3000u);
    auto net = MUST(read_msix_capability(bus, { 0, 0, 2, 0 }));
    EXPECT_EQ(net.table_size, 3u);
    EXPECT_EQ(net.table_bar, 1u);
    EXPECT_EQ(net.pba_offset, 0x800u);

    MUST(set_msix_state(bus, nvme, MsixState::EnabledMasked));
    EXPECT_EQ(bus.read16(nvme, 0x42) & 0xc000, 0xc000);
    EXPECT_EQ(bus.read16(nvme, 0x42) & 0x7ff, 64); // table size bits untouched
    MUST(set_msix_state(bus, nvme, MsixState::Enabled));
    EXPECT_EQ(bus.read16(nvme, 0x42) & 0xc000, 0x8000);
    EXPECT_TRUE(bus.read16(nvme, config::command) & config::command_interrupt_disable);
    MUST(set_msix_state(bus, nvme, MsixState::Disabled));
    EXPECT_EQ(bus.read16(nvme, 0x42) & 0xc000, 0);

    std::vector<uint32_t> table(65 * 4, 0);
    for (size_t i = 0; i < 65; ++i)
        table[i * 4 + 3] = 1; // masked at reset
    MUST(write_msix_entry(table.data(), 65, 7, { 0xfee02000, 0x60 }, VectorMask::Unmasked));
    EXPECT_EQ(table[7 * 4 + 0], 0xfee02000u);
    EXPECT_EQ(table[7 * 4 + 1], 0u);
    EXPECT_EQ(table[7 * 4 + 2], 0x60u);
    EXPECT_EQ(table[7 * 4 + 3], 0u);
    EXPECT_EQ(table[6 * 4 + 3], 1u);
    MUST(write_msix_entry(table.data(), 65, 64, { 0xfee00000, 0x61 }, VectorMask::Masked));
    EXPECT_EQ(table[64 * 4 + 3], 1u);
    EXPECT_EQ(write_msix_entry(table.data(), 65, 65, { 0xfee00000, 0x61 }, VectorMask::Masked).error().code(), ErrorCode::OutOfRange);
    EXPECT_TRUE(write_msix_entry(nullptr, 65, 0, { 0xfee00000, 0x61 }, VectorMask::Masked).is_error());

    // A table BIR of 6 or 7 does not exist.
    bus.at(nvme).set32(0x44, 0x2006);
    EXPECT_EQ(read_msix_capability(bus, nvme).error().code(), ErrorCode::Corrupt);
    EXPECT_EQ(read_msix_capability(bus, { 0, 0, 0x19, 0 }).error().code(), ErrorCode::NotFound);
}

TEST(Pci, MatchesDrivers)
{
    auto driver = [](uint16_t v, uint16_t d, uint8_t c, uint8_t s, uint8_t p) {
        const char* name = match_driver(v, d, c, s, p);
        return std::string(name ? name : "-");
    };
    EXPECT_EQ(driver(0x1b36, 0x0010, 0x01, 0x08, 0x02), "nvme");  // QEMU NVMe
    EXPECT_EQ(driver(0x144d, 0xa808, 0x01, 0x08, 0x02), "nvme");  // any vendor's NVMe
    EXPECT_EQ(driver(0x144d, 0xa808, 0x01, 0x08, 0x01), "-");     // NVMHCI, not NVMe
    EXPECT_EQ(driver(0x1af4, 0x1000, 0x02, 0x00, 0x00), "virtio-net");
    EXPECT_EQ(driver(0x1af4, 0x1041, 0x02, 0x00, 0x00), "virtio-net");
    EXPECT_EQ(driver(0x1af4, 0x1001, 0x01, 0x00, 0x00), "-");     // virtio-blk
    EXPECT_EQ(driver(0x8086, 0x100e, 0x02, 0x00, 0x00), "e1000");
    EXPECT_EQ(driver(0x8086, 0x100f, 0x02, 0x00, 0x00), "e1000");
    EXPECT_EQ(driver(0x8086, 0x10d3, 0x02, 0x00, 0x00), "e1000e");
    EXPECT_EQ(driver(0x8086, 0x105e, 0x02, 0x00, 0x00), "e1000e"); // 82571EB
    EXPECT_EQ(driver(0x8086, 0x153a, 0x02, 0x00, 0x00), "e1000e"); // I217-LM
    EXPECT_EQ(driver(0x8086, 0x15b8, 0x02, 0x00, 0x00), "e1000e"); // I219-V
    EXPECT_EQ(driver(0x8086, 0x1521, 0x02, 0x00, 0x00), "igb");    // I350
    EXPECT_EQ(driver(0x8086, 0x1563, 0x02, 0x00, 0x00), "ixgbe");  // X550-T2
    EXPECT_EQ(driver(0x8086, 0x15ad, 0x02, 0x00, 0x00), "ixgbe");
    EXPECT_EQ(driver(0x8086, 0x15c8, 0x02, 0x00, 0x00), "ixgbe");
    EXPECT_EQ(driver(0x10de, 0x26b9, 0x03, 0x02, 0x00), "nvidia-gpu");
    EXPECT_EQ(driver(0x10de, 0x2684, 0x03, 0x00, 0x00), "nvidia-gpu");
    EXPECT_EQ(driver(0x10de, 0x22ba, 0x04, 0x03, 0x00), "-");       // the GPU's audio function
    EXPECT_EQ(driver(0x1002, 0x744c, 0x03, 0x00, 0x00), "-");       // not NVIDIA
    EXPECT_EQ(driver(0x8086, 0x29c0, 0x06, 0x00, 0x00), "-");       // q35 host bridge
    EXPECT_EQ(driver(0x8086, 0x2918, 0x06, 0x01, 0x00), "-");       // ICH9 LPC
    EXPECT_EQ(driver(0x8086, 0x2922, 0x01, 0x06, 0x01), "-");       // ICH9 AHCI
    EXPECT_EQ(driver(0x1234, 0x1111, 0x03, 0x00, 0x00), "-");       // QEMU VGA
    // Every row names a driver, and the class rows come after all exact rows.
    bool seen_class_row = false;
    for (auto const& row : driver_table()) {
        ASSERT_NE(row.driver, nullptr);
        if (row.device_id == match_any)
            seen_class_row = true;
        else
            EXPECT_FALSE(seen_class_row) << "exact row after a class row";
    }
    FakePciBus bus;
    build_machine(bus);
    auto device = MUST(read_device(bus, { 0, 1, 0, 0 }));
    EXPECT_STREQ(match_driver(device), "nvidia-gpu");
}

TEST(Pci, DecodesNvidiaBoot0)
{
    struct Case {
        uint32_t boot0;
        NvidiaArchitecture architecture;
        const char* chip;
    };
    const Case cases[] = {
        { 0x172000a1, NvidiaArchitecture::Ampere, "GA102" },
        { 0x170000a1, NvidiaArchitecture::Ampere, "GA100" },
        { 0x192000a1, NvidiaArchitecture::Ada, "AD102" },
        { 0x194000a1, NvidiaArchitecture::Ada, "AD104" },
        { 0x180000a1, NvidiaArchitecture::Hopper, "GH100" },
        { 0x164000a1, NvidiaArchitecture::Turing, "TU104" },
        { 0x168000a1, NvidiaArchitecture::Turing, "TU116" },
        { 0x140000a1, NvidiaArchitecture::Volta, "GV100" },
        { 0x132000a1, NvidiaArchitecture::Pascal, "GP102" },
        { 0x124000a1, NvidiaArchitecture::Maxwell, "GM204" },
        { 0x0e4000a1, NvidiaArchitecture::Kepler, "GK104" },
        { 0x0c0000a3, NvidiaArchitecture::Fermi, "GF100" },
        { 0x1a0000a1, NvidiaArchitecture::Blackwell, "GB100" },
        { 0x1b2000a1, NvidiaArchitecture::Blackwell, nullptr },
        { 0x050000a2, NvidiaArchitecture::Tesla, nullptr },
        { 0x1f0000a1, NvidiaArchitecture::Unknown, nullptr },
    };
    for (auto const& c : cases) {
        auto chip = MUST(decode_pmc_boot0(c.boot0));
        EXPECT_EQ(chip.architecture, c.architecture) << std::hex << c.boot0;
        EXPECT_EQ(chip.chipset, (c.boot0 >> 20) & 0x1ff);
        EXPECT_EQ(chip.revision, c.boot0 & 0xff);
        if (c.chip)
            EXPECT_STREQ(chip.chip_name, c.chip) << std::hex << c.boot0;
        else
            EXPECT_EQ(chip.chip_name, nullptr) << std::hex << c.boot0;
    }
    auto ga102 = MUST(decode_pmc_boot0(0x172000a1));
    EXPECT_EQ(ga102.implementation, 2u);
    EXPECT_STREQ(ga102.architecture_name, "Ampere");
    EXPECT_STREQ(MUST(decode_pmc_boot0(0x1b2000a1)).architecture_name, "Blackwell");
    EXPECT_STREQ(MUST(decode_pmc_boot0(0x1f0000a1)).architecture_name, "unknown");
    EXPECT_EQ(decode_pmc_boot0(0xffffffff).error().code(), ErrorCode::Corrupt);
    EXPECT_EQ(decode_pmc_boot0(0).error().code(), ErrorCode::Corrupt);
    EXPECT_EQ(decode_pmc_boot0(0x20004000).error().code(), ErrorCode::Unsupported); // NV04-era layout
    EXPECT_EQ(decode_pmc_boot0(0x04000000).error().code(), ErrorCode::Unsupported);

    EXPECT_STREQ(nvidia_product_name(0x26b9), "L40S");
    EXPECT_STREQ(nvidia_product_name(0x27b8), "L4");
    EXPECT_STREQ(nvidia_product_name(0x2330), "H100 SXM5 80GB");
    EXPECT_STREQ(nvidia_product_name(0x20b0), "A100 SXM4 40GB");
    EXPECT_STREQ(nvidia_product_name(0x1eb8), "Tesla T4");
    EXPECT_STREQ(nvidia_product_name(0x2684), "GeForce RTX 4090");
    EXPECT_STREQ(nvidia_product_name(0x2230), "RTX A6000");
    EXPECT_EQ(nvidia_product_name(0x0001), nullptr);
}

TEST(Pci, IdentifiesASyntheticGpuEndToEnd)
{
    // What the kernel does: enumerate, match, size BAR0, map it, read
    // PMC_BOOT_0, decode. The "mapping" here is a host array.
    FakePciBus bus;
    build_machine(bus);
    PciDeviceList list;
    enumerate(bus, { 0, 0, 255 }, BusScan::FollowBridges, list);
    const PciDevice* gpu = nullptr;
    for (size_t i = 0; i < list.count; ++i)
        if (match_driver(list.devices[i]) && std::string(match_driver(list.devices[i])) == "nvidia-gpu")
            gpu = &list.devices[i];
    ASSERT_NE(gpu, nullptr);
    auto bars = read_bars(bus, gpu->address);
    ASSERT_TRUE(bars.bars[0].is_memory());
    std::vector<uint32_t> bar0(bars.bars[0].size / 4, 0);
    bar0[nvidia_pmc_boot_0 / 4] = 0x192000a1; // an AD102 (the L40S's chip), stepping A1
    auto chip = MUST(decode_pmc_boot0(bar0[0]));
    EXPECT_STREQ(chip.chip_name, "AD102");
    EXPECT_STREQ(chip.architecture_name, "Ada Lovelace");
    EXPECT_STREQ(nvidia_product_name(gpu->device_id), "L40S");
}
