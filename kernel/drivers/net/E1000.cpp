// Intel 8254x (e1000) and 82574 (e1000e) Ethernet controllers, as QEMU's
// `e1000` and `e1000e` devices emulate them, with legacy descriptors and
// polling (all interrupts masked). Register facts: Intel 8254x and 82574
// software developer's manuals (sections on receive/transmit descriptor
// rings and the register summary).

#include "kernel/console/Log.h"
#include "kernel/cpu/Time.h"
#include "kernel/drivers/PciDriver.h"
#include "kernel/drivers/net/NetworkDevice.h"
#include "kernel/mm/Dma.h"
#include "kernel/mm/Heap.h"
#include "kernel/mm/Mmio.h"

namespace aisos {

namespace {

using pci::PciConfigAccess;
using pci::PciDevice;

namespace reg {
constexpr uint32_t ctrl = 0x0000, status = 0x0008, eerd = 0x0014, icr = 0x00c0, imc = 0x00d8, rctl = 0x0100,
                   tctl = 0x0400, tipg = 0x0410, rdbal = 0x2800, rdbah = 0x2804, rdlen = 0x2808, rdh = 0x2810,
                   rdt = 0x2818, tdbal = 0x3800, tdbah = 0x3804, tdlen = 0x3808, tdh = 0x3810, tdt = 0x3818,
                   mta = 0x5200, ral0 = 0x5400, rah0 = 0x5404;
}

constexpr uint32_t ctrl_reset = 1u << 26, ctrl_set_link_up = 1u << 6, ctrl_auto_speed = 1u << 5;
constexpr uint32_t status_link_up = 1u << 1;
constexpr uint32_t rctl_enable = 1u << 1, rctl_broadcast = 1u << 15, rctl_strip_crc = 1u << 26;
constexpr uint32_t tctl_enable = 1u << 1, tctl_pad_short = 1u << 3;
constexpr uint8_t rx_status_done = 1, rx_status_end_of_packet = 2;
constexpr uint8_t tx_command_end_of_packet = 1, tx_command_insert_fcs = 2, tx_command_report_status = 8;
constexpr uint8_t tx_status_done = 1;
constexpr uint32_t ring_size = 256; // descriptors; 16 bytes each, ring length a multiple of 128 bytes
constexpr size_t buffer_size = 2048;

struct [[gnu::packed]] RxDescriptor {
    uint64_t address;
    uint16_t length;
    uint16_t checksum;
    uint8_t status;
    uint8_t errors;
    uint16_t special;
};
struct [[gnu::packed]] TxDescriptor {
    uint64_t address;
    uint16_t length;
    uint8_t checksum_offset;
    uint8_t command;
    uint8_t status;
    uint8_t checksum_start;
    uint16_t special;
};
static_assert(sizeof(RxDescriptor) == 16 && sizeof(TxDescriptor) == 16);

enum class Model { E1000, E1000e };

class E1000 final : public NetworkDevice {
public:
    explicit E1000(Model model)
        : m_model(model)
    {
    }

    ErrorOr<void> initialize(PciConfigAccess& access, const PciDevice& device)
    {
        pci::BarSet bars = pci::read_bars(access, device.address);
        if (bars.count == 0 || !bars.bars[0].is_memory() || bars.bars[0].size < 0x20000)
            return Error::unsupported("BAR0 is not the register window");
        m_registers = static_cast<volatile uint8_t*>(TRY(mmio::map(bars.bars[0].address, 0x20000)));
        uint16_t command = access.read16(device.address, pci::config::command);
        access.write16(device.address, pci::config::command,
            command | pci::config::command_memory_space | pci::config::command_bus_master);

        write(reg::imc, 0xffffffff);
        write(reg::ctrl, read(reg::ctrl) | ctrl_reset);
        time::busy_wait_us(1000);
        for (int i = 0; i < 1000 && (read(reg::ctrl) & ctrl_reset); ++i)
            time::busy_wait_us(100);
        write(reg::imc, 0xffffffff); // reset re-enables nothing, but be sure
        (void)read(reg::icr);
        write(reg::ctrl, read(reg::ctrl) | ctrl_set_link_up | ctrl_auto_speed);

        TRY(read_mac());
        for (uint32_t i = 0; i < 128; ++i)
            write(reg::mta + i * 4, 0);

        m_rx_memory = TRY(dma::allocate(sizeof(RxDescriptor) * ring_size + buffer_size * ring_size));
        m_tx_memory = TRY(dma::allocate(sizeof(TxDescriptor) * ring_size + buffer_size * ring_size));
        m_rx = static_cast<volatile RxDescriptor*>(m_rx_memory.virt);
        m_tx = static_cast<volatile TxDescriptor*>(m_tx_memory.virt);
        uint64_t rx_buffers = m_rx_memory.bus_address + sizeof(RxDescriptor) * ring_size;
        uint64_t tx_buffers = m_tx_memory.bus_address + sizeof(TxDescriptor) * ring_size;
        for (uint32_t i = 0; i < ring_size; ++i) {
            m_rx[i].address = rx_buffers + uint64_t(i) * buffer_size;
            m_rx[i].status = 0;
            m_tx[i].address = tx_buffers + uint64_t(i) * buffer_size;
            m_tx[i].status = tx_status_done; // free
        }

        write(reg::rdbal, static_cast<uint32_t>(m_rx_memory.bus_address));
        write(reg::rdbah, static_cast<uint32_t>(m_rx_memory.bus_address >> 32));
        write(reg::rdlen, ring_size * sizeof(RxDescriptor));
        write(reg::rdh, 0);
        write(reg::rdt, ring_size - 1);
        write(reg::rctl, rctl_enable | rctl_broadcast | rctl_strip_crc); // 2048-byte buffers (BSIZE 00)

        write(reg::tdbal, static_cast<uint32_t>(m_tx_memory.bus_address));
        write(reg::tdbah, static_cast<uint32_t>(m_tx_memory.bus_address >> 32));
        write(reg::tdlen, ring_size * sizeof(TxDescriptor));
        write(reg::tdh, 0);
        write(reg::tdt, 0);
        uint32_t collision_distance = m_model == Model::E1000 ? 0x40 : 0x3f;
        write(reg::tctl, tctl_enable | tctl_pad_short | (0x0f << 4) | (collision_distance << 12));
        write(reg::tipg, 10 | (8 << 10) | (6 << 20));
        return {};
    }

    const char* driver_name() const override { return m_model == Model::E1000 ? "e1000" : "e1000e"; }
    const uint8_t* mac() const override { return m_mac; }
    bool link_up() override { return read(reg::status) & status_link_up; }

    size_t poll_receive(FrameHandler handler, void* context, size_t budget) override
    {
        size_t delivered = 0;
        uint32_t last_consumed = ring_size; // none
        while (delivered < budget) {
            volatile RxDescriptor& descriptor = m_rx[m_rx_next];
            if (!(descriptor.status & rx_status_done))
                break;
            asm volatile("" ::: "memory");
            uint16_t length = descriptor.length;
            if (!(descriptor.status & rx_status_end_of_packet) || descriptor.errors || length > buffer_size) {
                // Frames spanning buffers (jumbo) or with errors are dropped.
                ++m_counters.rx_dropped;
            } else {
                auto* frame = static_cast<uint8_t*>(m_rx_memory.virt) + sizeof(RxDescriptor) * ring_size
                    + size_t(m_rx_next) * buffer_size;
                ++m_counters.rx_frames;
                m_counters.rx_bytes += length;
                handler({ frame, length }, context);
            }
            descriptor.status = 0;
            last_consumed = m_rx_next;
            m_rx_next = (m_rx_next + 1) % ring_size;
            ++delivered;
        }
        // The tail is the last descriptor software owns; handing back up to it.
        if (last_consumed != ring_size)
            write(reg::rdt, last_consumed);
        return delivered;
    }

    ErrorOr<void> transmit(std::span<const uint8_t> frame) override
    {
        if (frame.size() > buffer_size)
            return Error::invalid("frame larger than a transmit buffer");
        volatile TxDescriptor& descriptor = m_tx[m_tx_tail];
        uint32_t next = (m_tx_tail + 1) % ring_size;
        // One slot stays empty so that head == tail always means "ring empty".
        if (!(descriptor.status & tx_status_done) || next == m_tx_hardware_head()) {
            ++m_counters.tx_ring_full;
            return Error { ErrorCode::Busy, "transmit ring full" };
        }
        auto* buffer = static_cast<uint8_t*>(m_tx_memory.virt) + sizeof(TxDescriptor) * ring_size
            + size_t(m_tx_tail) * buffer_size;
        __builtin_memcpy(buffer, frame.data(), frame.size());
        descriptor.length = static_cast<uint16_t>(frame.size());
        descriptor.command = tx_command_end_of_packet | tx_command_insert_fcs | tx_command_report_status;
        descriptor.status = 0;
        m_tx_tail = next;
        m_tx_pending = true;
        ++m_counters.tx_frames;
        m_counters.tx_bytes += frame.size();
        return {};
    }

    void flush_transmit() override
    {
        if (!m_tx_pending)
            return;
        m_tx_pending = false;
        asm volatile("mfence" ::: "memory");
        write(reg::tdt, m_tx_tail);
    }

private:
    uint32_t m_tx_hardware_head() { return read(reg::tdh); }

    ErrorOr<void> read_mac()
    {
        uint32_t high = read(reg::rah0);
        if (high & (1u << 31)) { // address valid: firmware (or QEMU) loaded it
            uint32_t low = read(reg::ral0);
            for (int i = 0; i < 4; ++i)
                m_mac[i] = static_cast<uint8_t>(low >> (8 * i));
            m_mac[4] = static_cast<uint8_t>(high);
            m_mac[5] = static_cast<uint8_t>(high >> 8);
            return {};
        }
        // From the EEPROM, words 0-2. The start/done bits and address shift
        // differ between the 8254x and the 82574.
        uint32_t done = m_model == Model::E1000 ? (1u << 4) : (1u << 1);
        uint32_t shift = m_model == Model::E1000 ? 8 : 2;
        for (uint32_t word = 0; word < 3; ++word) {
            write(reg::eerd, 1u | (word << shift));
            uint32_t value = 0;
            int spins = 0;
            while (!((value = read(reg::eerd)) & done)) {
                if (++spins > 100000)
                    return Error { ErrorCode::Timeout, "EEPROM read timed out" };
            }
            m_mac[word * 2] = static_cast<uint8_t>(value >> 16);
            m_mac[word * 2 + 1] = static_cast<uint8_t>(value >> 24);
        }
        write(reg::ral0, uint32_t(m_mac[0]) | uint32_t(m_mac[1]) << 8 | uint32_t(m_mac[2]) << 16 | uint32_t(m_mac[3]) << 24);
        write(reg::rah0, uint32_t(m_mac[4]) | uint32_t(m_mac[5]) << 8 | (1u << 31));
        return {};
    }

    uint32_t read(uint32_t offset) { return *reinterpret_cast<volatile uint32_t*>(m_registers + offset); }
    void write(uint32_t offset, uint32_t value) { *reinterpret_cast<volatile uint32_t*>(m_registers + offset) = value; }

    Model m_model;
    volatile uint8_t* m_registers { nullptr };
    uint8_t m_mac[6] {};
    dma::Buffer m_rx_memory;
    dma::Buffer m_tx_memory;
    volatile RxDescriptor* m_rx { nullptr };
    volatile TxDescriptor* m_tx { nullptr };
    uint32_t m_rx_next { 0 };
    uint32_t m_tx_tail { 0 };
    bool m_tx_pending { false };
};

template<Model model>
ErrorOr<void> probe(PciConfigAccess& access, const PciDevice& device)
{
    auto* nic = TRY(heap::create<E1000>(model));
    auto result = nic->initialize(access, device);
    if (result.is_error()) {
        heap::destroy(nic);
        return result;
    }
    network_devices::add(nic);
    return {};
}

} // namespace

AISOS_PCI_DRIVER("e1000", probe<Model::E1000>);
AISOS_PCI_DRIVER("e1000e", probe<Model::E1000e>);

} // namespace aisos
