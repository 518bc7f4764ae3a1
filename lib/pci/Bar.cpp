#include "lib/pci/Bar.h"

namespace aisos::pci {

namespace {

constexpr uint32_t bar_io = 1u << 0;
constexpr uint32_t bar_type_mask = 3u << 1;
constexpr uint32_t bar_type_64 = 2u << 1;
constexpr uint32_t bar_type_reserved = 3u << 1; // "1M" memory type in PCI 2.x, reserved since 3.0
constexpr uint32_t bar_prefetchable = 1u << 3;

uint16_t bar_offset(size_t index) { return static_cast<uint16_t>(config::bar0 + index * 4); }

size_t bar_count(PciConfigAccess& access, PciAddress address)
{
    uint8_t header = access.read8(address, config::header_type) & config::header_type_mask;
    if (header == config::header_general)
        return 6;
    if (header == config::header_bridge)
        return 2;
    return 0;
}

} // namespace

Bar decode_bar(PciConfigAccess& access, PciAddress address, size_t index)
{
    Bar bar;
    if (index >= max_bars)
        return bar;
    uint32_t low = access.read32(address, bar_offset(index));
    if (low & bar_io) {
        bar.kind = BarKind::Io;
        bar.address = low & ~3u;
        return bar;
    }
    bar.prefetchable = low & bar_prefetchable;
    bar.address = low & ~0xfu;
    uint32_t type = low & bar_type_mask;
    if (type == bar_type_64) {
        if (index + 1 >= max_bars) {
            bar.kind = BarKind::Invalid;
            return bar;
        }
        bar.kind = BarKind::Memory64;
        bar.address |= uint64_t(access.read32(address, bar_offset(index + 1))) << 32;
    } else if (type == bar_type_reserved) {
        bar.kind = BarKind::Invalid;
    } else {
        bar.kind = BarKind::Memory32;
    }
    return bar;
}

BarSet read_bars(PciConfigAccess& access, PciAddress address)
{
    BarSet set;
    set.count = bar_count(access, address);
    if (set.count == 0)
        return set;

    uint16_t command = access.read16(address, config::command);
    access.write16(address, config::command, command & ~(config::command_io_space | config::command_memory_space));

    for (size_t index = 0; index < set.count; ++index) {
        uint16_t offset = bar_offset(index);
        uint32_t original = access.read32(address, offset);
        access.write32(address, offset, 0xffffffffu);
        uint32_t sized = access.read32(address, offset);
        access.write32(address, offset, original);

        Bar bar = decode_bar(access, address, index);
        if (bar.kind == BarKind::Memory64 && index + 1 >= set.count)
            bar.kind = BarKind::Invalid; // a bridge has only two BAR slots
        if (bar.kind == BarKind::Io) {
            uint32_t mask = sized & ~3u;
            if (mask == 0) {
                bar = {};
            } else {
                // 16-bit I/O decoders leave the upper half zero.
                if ((mask & 0xffff0000u) == 0)
                    mask |= 0xffff0000u;
                bar.size = uint64_t(~mask) + 1;
            }
        } else if (bar.kind == BarKind::Memory32) {
            uint32_t mask = sized & ~0xfu;
            if (mask == 0)
                bar = {};
            else
                bar.size = uint64_t(~mask) + 1;
        } else if (bar.kind == BarKind::Memory64) {
            uint16_t high_offset = bar_offset(index + 1);
            uint32_t original_high = access.read32(address, high_offset);
            access.write32(address, high_offset, 0xffffffffu);
            uint32_t sized_high = access.read32(address, high_offset);
            access.write32(address, high_offset, original_high);
            uint64_t mask = (uint64_t(sized_high) << 32) | (sized & ~0xfu);
            if (mask == 0)
                bar = {};
            else
                bar.size = ~mask + 1;
            set.bars[index] = bar;
            ++index; // the upper half stays BarKind::None
            continue;
        }
        set.bars[index] = bar;
    }

    access.write16(address, config::command, command);
    return set;
}

} // namespace aisos::pci
