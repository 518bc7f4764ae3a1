// virtio-net over the virtio 1.x modern PCI transport with split virtqueues
// (Virtio 1.2, sections 4.1 and 5.1), polled: no interrupts are enabled.
//
// Each queue has a fixed set of 2 KiB DMA buffers, one per descriptor, so no
// memory is allocated per packet. RX descriptors are posted once and
// recycled as frames are consumed; TX descriptors come from a free list and
// return to it when the device reports them used.

#include "kernel/console/Log.h"
#include "kernel/drivers/PciDriver.h"
#include "kernel/drivers/net/NetworkDevice.h"
#include "kernel/mm/Dma.h"
#include "kernel/mm/Heap.h"
#include "kernel/mm/Mmio.h"

#include <atomic>

namespace aisos {

namespace {

using pci::PciConfigAccess;
using pci::PciDevice;

// Device status bits (4.1.4.3).
constexpr uint8_t status_acknowledge = 1, status_driver = 2, status_driver_ok = 4, status_features_ok = 8,
                  status_failed = 128;

// Feature bits (5.1.3 and 6).
constexpr uint64_t feature_guest_csum = 1ull << 1;
constexpr uint64_t feature_mac = 1ull << 5;
constexpr uint64_t feature_mrg_rxbuf = 1ull << 15;
constexpr uint64_t feature_status = 1ull << 16;
constexpr uint64_t feature_version_1 = 1ull << 32;

// Vendor-specific PCI capability types (4.1.4).
constexpr uint8_t cap_common = 1, cap_notify = 2, cap_device = 4; // 3 (ISR) is unused: no interrupts

// Common configuration layout (4.1.4.3).
namespace common {
constexpr uint32_t device_feature_select = 0x00, device_feature = 0x04, driver_feature_select = 0x08,
                   driver_feature = 0x0c, num_queues = 0x12, device_status = 0x14, queue_select = 0x16,
                   queue_size = 0x18, queue_msix_vector = 0x1a, queue_enable = 0x1c, queue_notify_off = 0x1e,
                   queue_desc = 0x20, queue_driver = 0x28, queue_device = 0x30;
}

constexpr uint16_t descriptor_flag_write = 2; // single-buffer chains only: no NEXT flag
constexpr uint16_t used_flag_no_notify = 1;
constexpr uint8_t net_header_needs_csum = 1;
constexpr size_t net_header_size = 12; // with VERSION_1 the header always has num_buffers
constexpr size_t buffer_size = 2048;
constexpr uint16_t max_queue_size = 256;

struct [[gnu::packed]] Descriptor {
    uint64_t address;
    uint32_t length;
    uint16_t flags;
    uint16_t next;
};

struct [[gnu::packed]] NetHeader {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t header_length;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
};
static_assert(sizeof(NetHeader) == net_header_size);

inline void barrier() { asm volatile("mfence" ::: "memory"); }

// One split virtqueue: descriptor table, available ring, used ring, and a
// buffer per descriptor, all in one DMA allocation.
class Virtqueue {
public:
    ErrorOr<void> initialize(uint16_t size)
    {
        m_size = size;
        size_t descriptors = sizeof(Descriptor) * size;
        size_t available = 6 + 2 * size;
        size_t used_offset = (descriptors + available + 4095) & ~size_t(4095);
        size_t used = 6 + 8 * size;
        size_t buffers_offset = (used_offset + used + 4095) & ~size_t(4095);
        m_memory = TRY(dma::allocate(buffers_offset + buffer_size * size));
        auto* base = static_cast<uint8_t*>(m_memory.virt);
        m_descriptors = reinterpret_cast<volatile Descriptor*>(base);
        m_available = reinterpret_cast<volatile uint16_t*>(base + descriptors);
        m_used = reinterpret_cast<volatile uint8_t*>(base + used_offset);
        m_buffers = base + buffers_offset;
        m_used_offset = used_offset;
        m_buffers_bus = m_memory.bus_address + buffers_offset;
        for (uint16_t i = 0; i < size; ++i) {
            m_descriptors[i].address = m_buffers_bus + uint64_t(i) * buffer_size;
            m_descriptors[i].length = buffer_size;
            m_descriptors[i].flags = 0;
            m_descriptors[i].next = 0;
        }
        return {};
    }

    uint64_t descriptor_bus() const { return m_memory.bus_address; }
    uint64_t available_bus() const { return m_memory.bus_address + sizeof(Descriptor) * m_size; }
    uint64_t used_bus() const { return m_memory.bus_address + m_used_offset; }
    uint16_t size() const { return m_size; }
    uint8_t* buffer(uint16_t index) { return m_buffers + size_t(index) * buffer_size; }
    volatile Descriptor& descriptor(uint16_t index) { return m_descriptors[index]; }

    // Makes descriptor index available to the device (visible after publish()).
    void offer(uint16_t index)
    {
        m_available[2 + (m_available_index % m_size)] = index;
        ++m_available_index;
    }
    void publish()
    {
        barrier();
        m_available[1] = m_available_index;
        barrier();
    }

    bool has_used() const { return used_index() != m_last_used; }
    // Next used element: descriptor index and bytes written by the device.
    void take_used(uint16_t& index, uint32_t& length)
    {
        barrier();
        size_t slot = m_last_used % m_size;
        auto* element = reinterpret_cast<volatile uint32_t*>(m_used + 4 + 8 * slot);
        index = static_cast<uint16_t>(element[0]);
        length = element[1];
        ++m_last_used;
    }
    bool device_wants_notification() const { return !(*reinterpret_cast<volatile uint16_t*>(m_used) & used_flag_no_notify); }

private:
    uint16_t used_index() const { return *reinterpret_cast<volatile uint16_t*>(m_used + 2); }

    dma::Buffer m_memory;
    volatile Descriptor* m_descriptors { nullptr };
    volatile uint16_t* m_available { nullptr };
    volatile uint8_t* m_used { nullptr };
    uint8_t* m_buffers { nullptr };
    size_t m_used_offset { 0 };
    uint64_t m_buffers_bus { 0 };
    uint16_t m_size { 0 };
    uint16_t m_available_index { 0 };
    uint16_t m_last_used { 0 };
};

// RFC 1071 checksum over data, folded; used to finish a partial checksum the
// host left for us (VIRTIO_NET_HDR_F_NEEDS_CSUM).
uint16_t internet_checksum_finish(const uint8_t* data, size_t length, uint32_t initial)
{
    uint64_t sum = initial;
    for (size_t i = 0; i + 1 < length; i += 2)
        sum += (uint32_t(data[i]) << 8) | data[i + 1];
    if (length & 1)
        sum += uint32_t(data[length - 1]) << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

class VirtioNet final : public NetworkDevice {
public:
    ErrorOr<void> initialize(PciConfigAccess& access, const PciDevice& device)
    {
        TRY(find_capabilities(access, device));
        uint16_t command = access.read16(device.address, pci::config::command);
        access.write16(device.address, pci::config::command,
            command | pci::config::command_memory_space | pci::config::command_bus_master);

        // 3.1.1 Driver requirements: device initialization.
        write8(common::device_status, 0); // reset
        for (int i = 0; i < 100000 && read8(common::device_status) != 0; ++i)
            asm volatile("pause");
        write8(common::device_status, status_acknowledge);
        write8(common::device_status, status_acknowledge | status_driver);
        uint64_t offered = device_features();
        if (!(offered & feature_version_1))
            return fail("device does not offer VIRTIO_F_VERSION_1 (legacy-only device)");
        m_features = offered & (feature_version_1 | feature_mac | feature_status | feature_mrg_rxbuf | feature_guest_csum);
        write32(common::driver_feature_select, 0);
        write32(common::driver_feature, static_cast<uint32_t>(m_features));
        write32(common::driver_feature_select, 1);
        write32(common::driver_feature, static_cast<uint32_t>(m_features >> 32));
        write8(common::device_status, status_acknowledge | status_driver | status_features_ok);
        if (!(read8(common::device_status) & status_features_ok))
            return fail("device rejected the negotiated features");

        if (read16(common::num_queues) < 2)
            return fail("fewer than two virtqueues");
        TRY(setup_queue(0, m_rx, m_rx_notify));
        TRY(setup_queue(1, m_tx, m_tx_notify));

        if (m_features & feature_mac) {
            for (int i = 0; i < 6; ++i)
                m_mac[i] = m_device_config[i];
        } else {
            // No MAC from the device: a locally administered one.
            const uint8_t fallback[6] = { 0x02, 0xa1, 0x50, 0x50, 0x00, 0x01 };
            __builtin_memcpy(m_mac, fallback, 6);
        }

        // Every RX descriptor is posted up front; TX descriptors wait in the free list.
        for (uint16_t i = 0; i < m_rx.size(); ++i) {
            m_rx.descriptor(i).flags = descriptor_flag_write;
            m_rx.descriptor(i).length = buffer_size;
            m_rx.offer(i);
        }
        m_rx.publish();
        for (uint16_t i = 0; i < m_tx.size(); ++i)
            m_tx_free[m_tx_free_count++] = i;

        write8(common::device_status, status_acknowledge | status_driver | status_features_ok | status_driver_ok);
        notify(m_rx_notify, 0);
        return {};
    }

    const char* driver_name() const override { return "virtio-net"; }
    const uint8_t* mac() const override { return m_mac; }

    bool link_up() override
    {
        if (!(m_features & feature_status))
            return true; // without the status feature the link is assumed up (5.1.4)
        return *reinterpret_cast<volatile uint16_t*>(m_device_config + 6) & 1;
    }

    size_t poll_receive(FrameHandler handler, void* context, size_t budget) override
    {
        size_t delivered = 0;
        bool recycled = false;
        while (delivered < budget && m_rx.has_used()) {
            uint16_t index;
            uint32_t length;
            m_rx.take_used(index, length);
            if (index >= m_rx.size()) {
                ++m_counters.rx_dropped;
                continue;
            }
            uint8_t* buffer = m_rx.buffer(index);
            auto* header = reinterpret_cast<NetHeader*>(buffer);
            if (length < net_header_size || length > buffer_size || header->num_buffers > 1) {
                // A frame spread over several buffers cannot happen without
                // GSO at MTU 1500; treat one as malformed.
                ++m_counters.rx_dropped;
            } else {
                uint8_t* frame = buffer + net_header_size;
                size_t frame_length = length - net_header_size;
                if ((header->flags & net_header_needs_csum) && !complete_checksum(*header, frame, frame_length)) {
                    ++m_counters.rx_dropped;
                } else {
                    ++m_counters.rx_frames;
                    m_counters.rx_bytes += frame_length;
                    handler({ frame, frame_length }, context);
                }
                ++delivered;
            }
            m_rx.descriptor(index).length = buffer_size;
            m_rx.descriptor(index).flags = descriptor_flag_write;
            m_rx.offer(index);
            recycled = true;
        }
        if (recycled) {
            m_rx.publish();
            if (m_rx.device_wants_notification())
                notify(m_rx_notify, 0);
        }
        return delivered;
    }

    ErrorOr<void> transmit(std::span<const uint8_t> frame) override
    {
        if (frame.size() + net_header_size > buffer_size)
            return Error::invalid("frame larger than a transmit buffer");
        if (m_tx_free_count == 0)
            reclaim();
        if (m_tx_free_count == 0) {
            ++m_counters.tx_ring_full;
            return Error { ErrorCode::Busy, "transmit ring full" };
        }
        uint16_t index = m_tx_free[--m_tx_free_count];
        uint8_t* buffer = m_tx.buffer(index);
        __builtin_memset(buffer, 0, net_header_size);
        __builtin_memcpy(buffer + net_header_size, frame.data(), frame.size());
        m_tx.descriptor(index).length = static_cast<uint32_t>(net_header_size + frame.size());
        m_tx.descriptor(index).flags = 0;
        m_tx.offer(index);
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
        m_tx.publish();
        if (m_tx.device_wants_notification())
            notify(m_tx_notify, 1);
        reclaim();
    }

private:
    ErrorOr<void> fail(const char* reason)
    {
        write8(common::device_status, status_failed);
        return Error::unsupported(reason);
    }

    // Finishes a checksum the sender left partial: the 16-bit one's
    // complement sum from csum_start to the end, stored at csum_start + csum_offset.
    static bool complete_checksum(const NetHeader& header, uint8_t* frame, size_t length)
    {
        size_t start = header.csum_start;
        size_t field = start + header.csum_offset;
        if (start >= length || field + 2 > length)
            return false;
        // The field holds the pseudo-header sum already; include it as found.
        uint16_t checksum = internet_checksum_finish(frame + start, length - start, 0);
        frame[field] = static_cast<uint8_t>(checksum >> 8);
        frame[field + 1] = static_cast<uint8_t>(checksum);
        return true;
    }

    void reclaim()
    {
        while (m_tx.has_used()) {
            uint16_t index;
            uint32_t length;
            m_tx.take_used(index, length);
            if (index < m_tx.size() && m_tx_free_count < max_queue_size)
                m_tx_free[m_tx_free_count++] = index;
        }
    }

    ErrorOr<void> find_capabilities(PciConfigAccess& access, const PciDevice& device)
    {
        pci::BarSet bars = pci::read_bars(access, device.address);
        bool found_common = false, found_notify = false, found_device = false;
        ErrorOr<void> result;
        pci::for_each_capability(access, device.address, [&](uint8_t id, uint16_t offset) {
            if (id != pci::capability::vendor_specific)
                return true;
            uint8_t type = access.read8(device.address, offset + 3);
            uint8_t bar = access.read8(device.address, offset + 4);
            uint32_t region_offset = access.read32(device.address, offset + 8);
            uint32_t length = access.read32(device.address, offset + 12);
            if (bar >= bars.count || !bars.bars[bar].is_memory() || uint64_t(region_offset) + length > bars.bars[bar].size)
                return true; // unusable (I/O BAR or out of range): look for another
            if (type != cap_common && type != cap_notify && type != cap_device)
                return true;
            auto mapped = mmio::map(bars.bars[bar].address + region_offset, length ? length : 4);
            if (mapped.is_error()) {
                result = mapped.error();
                return false;
            }
            auto* base = static_cast<volatile uint8_t*>(mapped.value());
            if (type == cap_common && !found_common) {
                m_common = base;
                found_common = true;
            } else if (type == cap_notify && !found_notify) {
                m_notify = base;
                m_notify_multiplier = access.read32(device.address, offset + 16);
                found_notify = true;
            } else if (type == cap_device && !found_device) {
                m_device_config = base;
                found_device = true;
            }
            return true;
        });
        if (result.is_error())
            return result;
        if (!found_common || !found_notify || !found_device)
            return Error::unsupported("virtio modern capabilities missing (common, notify or device config)");
        return {};
    }

    ErrorOr<void> setup_queue(uint16_t queue, Virtqueue& virtqueue, volatile uint16_t*& notify_address)
    {
        write16(common::queue_select, queue);
        uint16_t size = read16(common::queue_size);
        if (size == 0)
            return fail("virtqueue not available");
        if (size > max_queue_size)
            size = max_queue_size;
        // Split-queue sizes must be powers of two.
        while (size & (size - 1))
            size &= size - 1;
        write16(common::queue_size, size);
        TRY(virtqueue.initialize(size));
        write16(common::queue_msix_vector, 0xffff); // no interrupts: polled
        write64(common::queue_desc, virtqueue.descriptor_bus());
        write64(common::queue_driver, virtqueue.available_bus());
        write64(common::queue_device, virtqueue.used_bus());
        uint16_t notify_offset = read16(common::queue_notify_off);
        notify_address = reinterpret_cast<volatile uint16_t*>(m_notify + uint64_t(notify_offset) * m_notify_multiplier);
        write16(common::queue_enable, 1);
        return {};
    }

    uint64_t device_features()
    {
        write32(common::device_feature_select, 0);
        uint64_t low = read32(common::device_feature);
        write32(common::device_feature_select, 1);
        uint64_t high = read32(common::device_feature);
        return low | (high << 32);
    }

    static void notify(volatile uint16_t* address, uint16_t queue) { *address = queue; }

    uint8_t read8(uint32_t offset) { return *(m_common + offset); }
    uint16_t read16(uint32_t offset) { return *reinterpret_cast<volatile uint16_t*>(m_common + offset); }
    uint32_t read32(uint32_t offset) { return *reinterpret_cast<volatile uint32_t*>(m_common + offset); }
    void write8(uint32_t offset, uint8_t value) { *(m_common + offset) = value; }
    void write16(uint32_t offset, uint16_t value) { *reinterpret_cast<volatile uint16_t*>(m_common + offset) = value; }
    void write32(uint32_t offset, uint32_t value) { *reinterpret_cast<volatile uint32_t*>(m_common + offset) = value; }
    void write64(uint32_t offset, uint64_t value)
    {
        write32(offset, static_cast<uint32_t>(value));
        write32(offset + 4, static_cast<uint32_t>(value >> 32));
    }

    volatile uint8_t* m_common { nullptr };
    volatile uint8_t* m_notify { nullptr };
    volatile uint8_t* m_device_config { nullptr };
    uint32_t m_notify_multiplier { 0 };
    uint64_t m_features { 0 };
    uint8_t m_mac[6] {};
    Virtqueue m_rx;
    Virtqueue m_tx;
    volatile uint16_t* m_rx_notify { nullptr };
    volatile uint16_t* m_tx_notify { nullptr };
    uint16_t m_tx_free[max_queue_size];
    uint16_t m_tx_free_count { 0 };
    bool m_tx_pending { false };
};

ErrorOr<void> probe(PciConfigAccess& access, const PciDevice& device)
{
    auto* nic = TRY(heap::create<VirtioNet>());
    auto result = nic->initialize(access, device);
    if (result.is_error()) {
        heap::destroy(nic);
        return result;
    }
    network_devices::add(nic);
    return {};
}

} // namespace

AISOS_PCI_DRIVER("virtio-net", probe);

} // namespace aisos
