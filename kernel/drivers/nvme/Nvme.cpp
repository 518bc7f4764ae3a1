// NVMe controller driver, polled (SPDK style): admin queue, one I/O queue
// pair per CPU that the controller grants (CPUs share queues round-robin
// beyond that), a DMA bounce buffer per I/O queue with a PRP list so any
// caller buffer works, command timeouts followed by a controller reset and
// one retry, and status codes decoded into errors.
//
// Register and command layouts: NVM Express Base Specification 1.4,
// sections 3.1 (registers), 4.2-4.6 (queues, PRPs), 5 (admin commands) and
// the NVM command set (Read 02h, Write 01h, Flush 00h, Write Zeroes 08h).

#include "kernel/drivers/nvme/Nvme.h"

#include "kernel/console/Log.h"
#include "kernel/cpu/Smp.h"
#include "kernel/cpu/Time.h"
#include "kernel/drivers/PciDriver.h"
#include "kernel/lib/Spinlock.h"
#include "kernel/mm/Dma.h"
#include "kernel/mm/Heap.h"
#include "kernel/mm/Mmio.h"

namespace aisos::nvme {

namespace {

using pci::PciConfigAccess;
using pci::PciDevice;

namespace reg {
constexpr uint32_t cap = 0x00, intms = 0x0c, cc = 0x14, csts = 0x1c, aqa = 0x24, asq = 0x28, acq = 0x30;
}
constexpr uint32_t cc_enable = 1u << 0;
constexpr uint32_t csts_ready = 1u << 0, csts_fatal = 1u << 1;

namespace opcode {
constexpr uint8_t create_io_sq = 0x01, create_io_cq = 0x05, identify = 0x06, set_features = 0x09;
constexpr uint8_t flush = 0x00, write = 0x01, read = 0x02;
}

constexpr uint16_t admin_queue_depth = 32;
constexpr uint16_t io_queue_depth = 64;
constexpr size_t bounce_size = 256 * 1024; // per I/O queue; transfers are split to fit
constexpr uint64_t command_timeout_ns = 10'000'000'000ull;
constexpr size_t max_namespaces = 16;
constexpr size_t max_io_queues = 64;

struct [[gnu::packed]] Command {
    uint32_t cdw0; // opcode | command id << 16
    uint32_t nsid;
    uint64_t reserved;
    uint64_t metadata;
    uint64_t prp1;
    uint64_t prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
static_assert(sizeof(Command) == 64);

struct [[gnu::packed]] Completion {
    uint32_t result;
    uint32_t reserved;
    uint16_t sq_head;
    uint16_t sq_id;
    uint16_t command_id;
    uint16_t status; // bit 0: phase; bits 1-15: status field
};
static_assert(sizeof(Completion) == 16);

// Status field (bits 1-15 of the last completion word): SC bits 1-8, SCT bits 9-11.
const char* describe_status(uint16_t status)
{
    uint8_t code = static_cast<uint8_t>(status >> 1);
    uint8_t type = (status >> 9) & 7;
    if (type == 0) {
        switch (code) {
        case 0x01: return "invalid command opcode";
        case 0x02: return "invalid field in command";
        case 0x04: return "data transfer error";
        case 0x06: return "internal device error";
        case 0x0b: return "invalid namespace or format";
        case 0x80: return "LBA out of range";
        case 0x81: return "capacity exceeded";
        case 0x82: return "namespace not ready";
        default: return "generic command error";
        }
    }
    if (type == 1)
        return "command specific error";
    if (type == 2) {
        switch (code) {
        case 0x80: return "write fault";
        case 0x81: return "unrecovered read error";
        case 0x86: return "access denied";
        default: return "media or data integrity error";
        }
    }
    return "path or vendor specific error";
}

class Controller;

// A submission/completion queue pair, polled.
struct QueuePair {
    uint16_t id { 0 };
    uint16_t depth { 0 };
    dma::Buffer submission;
    dma::Buffer completion;
    volatile uint32_t* sq_doorbell { nullptr };
    volatile uint32_t* cq_doorbell { nullptr };
    uint16_t sq_tail { 0 };
    uint16_t cq_head { 0 };
    uint16_t phase { 1 };
    uint16_t next_command_id { 0 };
    dma::Buffer bounce;   // I/O queues only
    dma::Buffer prp_list; // one page: up to 512 entries
    Spinlock lock;
};

class Namespace final : public block::BlockDevice {
public:
    Namespace(Controller& controller, uint32_t nsid, uint32_t block_size, uint64_t blocks)
        : m_controller(controller)
        , m_nsid(nsid)
        , m_block_size(block_size)
        , m_blocks(blocks)
    {
    }
    uint32_t block_size() const override { return m_block_size; }
    uint64_t block_count() const override { return m_blocks; }
    ErrorOr<void> read(uint64_t first_block, std::span<uint8_t> buffer) override;
    ErrorOr<void> write(uint64_t first_block, std::span<const uint8_t> buffer) override;
    ErrorOr<void> flush() override;

private:
    ErrorOr<void> check_range(uint64_t first_block, size_t bytes) const
    {
        if (bytes % m_block_size != 0)
            return Error::invalid("transfer is not a whole number of blocks");
        uint64_t count = bytes / m_block_size;
        if (first_block > m_blocks || count > m_blocks - first_block)
            return Error { ErrorCode::OutOfRange, "blocks beyond the end of the namespace" };
        return {};
    }

    Controller& m_controller;
    uint32_t m_nsid;
    uint32_t m_block_size;
    uint64_t m_blocks;
};

class Controller {
public:
    ErrorOr<void> initialize(PciConfigAccess& access, const PciDevice& device)
    {
        pci::BarSet bars = pci::read_bars(access, device.address);
        if (bars.count == 0 || !bars.bars[0].is_memory() || bars.bars[0].size < 0x2000)
            return Error::unsupported("BAR0 is not an NVMe register window");
        m_registers = static_cast<volatile uint8_t*>(TRY(mmio::map(bars.bars[0].address, bars.bars[0].size)));
        uint16_t command = access.read16(device.address, pci::config::command);
        access.write16(device.address, pci::config::command,
            (command | pci::config::command_memory_space | pci::config::command_bus_master) | pci::config::command_interrupt_disable);

        uint64_t cap = read64(reg::cap);
        m_max_queue_entries = static_cast<uint16_t>((cap & 0xffff) + 1);
        m_doorbell_stride = 4u << ((cap >> 32) & 0xf);
        m_ready_timeout_ns = ((cap >> 24) & 0xff) * 500'000'000ull;
        if (m_ready_timeout_ns == 0)
            m_ready_timeout_ns = 500'000'000ull;
        uint32_t min_page_shift = 12 + ((cap >> 48) & 0xf);
        if (min_page_shift > 12)
            return Error::unsupported("controller does not support 4 KiB memory pages");

        TRY(allocate_queue(m_admin, 0, admin_queue_depth));
        TRY(bring_up());
        TRY(identify());
        return {};
    }

    ErrorOr<void> transfer(uint32_t nsid, uint8_t op, uint64_t lba, uint32_t blocks, uint32_t block_size, uint8_t* data);
    ErrorOr<void> flush(uint32_t nsid)
    {
        QueuePair& queue = io_queue();
        SpinlockGuard guard(queue.lock);
        Command c {};
        c.cdw0 = opcode::flush;
        c.nsid = nsid;
        return submit_and_wait(queue, c);
    }

    const char* model() const { return m_model; }
    const char* serial() const { return m_serial; }

private:
    friend class Namespace;

    uint32_t read32(uint32_t offset) { return *reinterpret_cast<volatile uint32_t*>(m_registers + offset); }
    uint64_t read64(uint32_t offset)
    {
        return read32(offset) | (static_cast<uint64_t>(read32(offset + 4)) << 32);
    }
    void write32(uint32_t offset, uint32_t value) { *reinterpret_cast<volatile uint32_t*>(m_registers + offset) = value; }
    void write64(uint32_t offset, uint64_t value)
    {
        write32(offset, static_cast<uint32_t>(value));
        write32(offset + 4, static_cast<uint32_t>(value >> 32));
    }

    ErrorOr<void> allocate_queue(QueuePair& queue, uint16_t id, uint16_t depth)
    {
        queue.id = id;
        queue.depth = depth;
        queue.submission = TRY(dma::allocate(sizeof(Command) * depth));
        queue.completion = TRY(dma::allocate(sizeof(Completion) * depth));
        queue.sq_doorbell = reinterpret_cast<volatile uint32_t*>(m_registers + 0x1000 + (2 * id) * m_doorbell_stride);
        queue.cq_doorbell = reinterpret_cast<volatile uint32_t*>(m_registers + 0x1000 + (2 * id + 1) * m_doorbell_stride);
        reset_queue_state(queue);
        return {};
    }

    static void reset_queue_state(QueuePair& queue)
    {
        queue.sq_tail = 0;
        queue.cq_head = 0;
        queue.phase = 1;
        __builtin_memset(queue.completion.virt, 0, queue.completion.size);
    }

    ErrorOr<void> wait_ready(bool ready)
    {
        uint64_t deadline = time::uptime_ns() + m_ready_timeout_ns;
        while (((read32(reg::csts) & csts_ready) != 0) != ready) {
            if (read32(reg::csts) & csts_fatal)
                return Error { ErrorCode::IoError, "controller fatal status" };
            if (time::uptime_ns() > deadline)
                return Error { ErrorCode::Timeout, "controller did not change ready state in time" };
            time::busy_wait_us(100);
        }
        return {};
    }

    // Disable, program the admin queue, enable (section 7.6.1), then (again)
    // create the I/O queues. Used at start and after a command timeout.
    ErrorOr<void> bring_up()
    {
        write32(reg::cc, read32(reg::cc) & ~cc_enable);
        TRY(wait_ready(false));
        reset_queue_state(m_admin);
        write32(reg::intms, 0xffffffff);
        write32(reg::aqa, (uint32_t(admin_queue_depth - 1) << 16) | (admin_queue_depth - 1));
        write64(reg::asq, m_admin.submission.bus_address);
        write64(reg::acq, m_admin.completion.bus_address);
        // NVM command set, 4 KiB pages, round robin, 64-byte SQ and 16-byte CQ entries.
        write32(reg::cc, (6u << 16) | (4u << 20) | cc_enable);
        TRY(wait_ready(true));
        for (size_t i = 0; i < m_io_queue_count; ++i) {
            reset_queue_state(*m_io_queues[i]);
            TRY(create_io_queue(*m_io_queues[i]));
        }
        return {};
    }

    ErrorOr<void> create_io_queue(QueuePair& queue)
    {
        Command cq {};
        cq.cdw0 = opcode::create_io_cq;
        cq.prp1 = queue.completion.bus_address;
        cq.cdw10 = (uint32_t(queue.depth - 1) << 16) | queue.id;
        cq.cdw11 = 1; // physically contiguous, interrupts off
        TRY(admin(cq));
        Command sq {};
        sq.cdw0 = opcode::create_io_sq;
        sq.prp1 = queue.submission.bus_address;
        sq.cdw10 = (uint32_t(queue.depth - 1) << 16) | queue.id;
        sq.cdw11 = (uint32_t(queue.id) << 16) | 1; // completion queue id, contiguous
        TRY(admin(sq));
        return {};
    }

    ErrorOr<void> admin(Command& command, uint32_t* result = nullptr)
    {
        SpinlockGuard guard(m_admin.lock);
        return submit_and_wait(m_admin, command, result);
    }

    // Posts one command and polls for its completion. The queue lock is held.
    ErrorOr<void> submit_and_wait(QueuePair& queue, Command& command, uint32_t* result = nullptr)
    {
        uint16_t id = queue.next_command_id++;
        command.cdw0 = (command.cdw0 & 0xffff) | (uint32_t(id) << 16);
        auto* slots = static_cast<Command*>(queue.submission.virt);
        slots[queue.sq_tail] = command;
        queue.sq_tail = static_cast<uint16_t>((queue.sq_tail + 1) % queue.depth);
        asm volatile("mfence" ::: "memory");
        *queue.sq_doorbell = queue.sq_tail;

        auto* completions = static_cast<volatile Completion*>(queue.completion.virt);
        uint64_t deadline = time::uptime_ns() + command_timeout_ns;
        for (;;) {
            volatile Completion& entry = completions[queue.cq_head];
            if ((entry.status & 1) == queue.phase) {
                asm volatile("" ::: "memory");
                uint16_t status = entry.status;
                uint16_t completed_id = entry.command_id;
                uint32_t value = entry.result;
                queue.cq_head = static_cast<uint16_t>((queue.cq_head + 1) % queue.depth);
                if (queue.cq_head == 0)
                    queue.phase ^= 1;
                *queue.cq_doorbell = queue.cq_head;
                if (completed_id != id)
                    continue; // a stale completion from before a reset
                if (status >> 1) {
                    log::warn("nvme: command {:#x} failed: {} (status {:#x})", command.cdw0 & 0xff,
                        describe_status(status), status >> 1);
                    return Error { ErrorCode::IoError, describe_status(status) };
                }
                if (result)
                    *result = value;
                return {};
            }
            if (time::uptime_ns() > deadline)
                return Error { ErrorCode::Timeout, "NVMe command timed out" };
            asm volatile("pause");
        }
    }

    ErrorOr<void> identify()
    {
        auto page = TRY(dma::allocate(4096));
        Command c {};
        c.cdw0 = opcode::identify;
        c.prp1 = page.bus_address;
        c.cdw10 = 1; // CNS 01h: controller
        TRY(admin(c));
        auto* data = static_cast<const uint8_t*>(page.virt);
        copy_trimmed(m_serial, data + 4, 20);
        copy_trimmed(m_model, data + 24, 40);
        uint8_t mdts = data[77];
        m_max_transfer = mdts ? (4096u << mdts) : bounce_size;
        if (m_max_transfer > bounce_size)
            m_max_transfer = bounce_size;
        uint32_t namespace_count = data[516] | (data[517] << 8) | (data[518] << 16) | (uint32_t(data[519]) << 24);

        // I/O queues: ask for one per CPU; use what the controller grants.
        uint32_t wanted = smp::online_count();
        if (wanted > max_io_queues)
            wanted = max_io_queues;
        Command features {};
        features.cdw0 = opcode::set_features;
        features.cdw10 = 0x07; // number of queues
        features.cdw11 = ((wanted - 1) << 16) | (wanted - 1);
        uint32_t granted_raw = 0;
        TRY(admin(features, &granted_raw));
        uint32_t granted = ((granted_raw & 0xffff) < (granted_raw >> 16) ? (granted_raw & 0xffff) : (granted_raw >> 16)) + 1;
        if (granted > wanted)
            granted = wanted;
        uint16_t depth = io_queue_depth < m_max_queue_entries ? io_queue_depth : m_max_queue_entries;
        for (uint32_t i = 0; i < granted; ++i) {
            auto* queue = TRY(heap::create<QueuePair>());
            TRY(allocate_queue(*queue, static_cast<uint16_t>(i + 1), depth));
            queue->bounce = TRY(dma::allocate(bounce_size));
            queue->prp_list = TRY(dma::allocate(4096));
            TRY(create_io_queue(*queue));
            m_io_queues[m_io_queue_count++] = queue;
        }

        // Namespaces: the active namespace list (CNS 02h, up to 1024 ids),
        // then CNS 00h for each of them.
        auto list_page = TRY(dma::allocate(4096));
        Command list {};
        list.cdw0 = opcode::identify;
        list.prp1 = list_page.bus_address;
        list.cdw10 = 2;
        TRY(admin(list));
        auto* active = static_cast<const uint32_t*>(list_page.virt);
        for (size_t index = 0; index < 1024 && active[index] != 0; ++index) {
            uint32_t nsid = active[index];
            if (nsid > namespace_count)
                break;
            __builtin_memset(page.virt, 0, 4096);
            Command n {};
            n.cdw0 = opcode::identify;
            n.nsid = nsid;
            n.prp1 = page.bus_address;
            n.cdw10 = 0;
            if (admin(n).is_error())
                continue;
            uint64_t blocks;
            __builtin_memcpy(&blocks, data, 8);
            if (blocks == 0)
                continue; // inactive
            uint8_t format = data[26] & 0xf;
            uint32_t lba_format;
            __builtin_memcpy(&lba_format, data + 128 + 4 * format, 4);
            uint32_t block_shift = (lba_format >> 16) & 0xff;
            if (block_shift < 9 || block_shift > 16 || (lba_format & 0xffff) != 0) {
                log::warn("nvme: namespace {} has an unsupported format (block 2^{}, metadata {})", nsid, block_shift,
                    lba_format & 0xffff);
                continue;
            }
            auto* ns = TRY(heap::create<Namespace>(*this, nsid, 1u << block_shift, blocks));
            add_namespace({ m_model, m_serial, nsid, blocks << block_shift, ns });
        }
        dma::free(list_page);
        dma::free(page);
        return {};
    }

    static void copy_trimmed(char* destination, const uint8_t* source, size_t length)
    {
        size_t end = length;
        while (end > 0 && (source[end - 1] == ' ' || source[end - 1] == 0))
            --end;
        for (size_t i = 0; i < end; ++i)
            destination[i] = (source[i] >= 0x20 && source[i] < 0x7f) ? static_cast<char>(source[i]) : '?';
        destination[end] = 0;
    }

    QueuePair& io_queue() { return *m_io_queues[smp::current_cpu_index() % m_io_queue_count]; }

    static void add_namespace(const NamespaceInfo&);

    volatile uint8_t* m_registers { nullptr };
    uint32_t m_doorbell_stride { 4 };
    uint16_t m_max_queue_entries { 2 };
    uint64_t m_ready_timeout_ns { 0 };
    uint32_t m_max_transfer { 4096 };
    QueuePair m_admin;
    QueuePair* m_io_queues[max_io_queues] {};
    size_t m_io_queue_count { 0 };
    char m_model[41] {};
    char m_serial[21] {};
};

NamespaceInfo s_namespaces[max_namespaces];
size_t s_namespace_count = 0;

void Controller::add_namespace(const NamespaceInfo& info)
{
    if (s_namespace_count == max_namespaces)
        return;
    s_namespaces[s_namespace_count++] = info;
    log::contract("nvme {} {} MiB", info.model, info.size_bytes >> 20);
}

// Moves data through the queue's bounce buffer in pieces of at most
// m_max_transfer bytes; PRP1 is the first page, PRP2 the second page or
// the PRP list (section 4.3).
ErrorOr<void> Controller::transfer(uint32_t nsid, uint8_t op, uint64_t lba, uint32_t blocks, uint32_t block_size, uint8_t* data)
{
    QueuePair& queue = io_queue();
    SpinlockGuard guard(queue.lock);
    uint32_t blocks_per_piece = m_max_transfer / block_size;
    while (blocks > 0) {
        uint32_t count = blocks < blocks_per_piece ? blocks : blocks_per_piece;
        size_t bytes = size_t(count) * block_size;
        if (op == opcode::write)
            __builtin_memcpy(queue.bounce.virt, data, bytes);
        Command c {};
        c.cdw0 = op;
        c.nsid = nsid;
        c.prp1 = queue.bounce.bus_address;
        size_t pages = (bytes + 4095) / 4096;
        if (pages == 2) {
            c.prp2 = queue.bounce.bus_address + 4096;
        } else if (pages > 2) {
            auto* list = static_cast<uint64_t*>(queue.prp_list.virt);
            for (size_t i = 1; i < pages; ++i)
                list[i - 1] = queue.bounce.bus_address + i * 4096;
            c.prp2 = queue.prp_list.bus_address;
        }
        c.cdw10 = static_cast<uint32_t>(lba);
        c.cdw11 = static_cast<uint32_t>(lba >> 32);
        c.cdw12 = count - 1;
        auto result = submit_and_wait(queue, c);
        if (result.is_error() && result.error().code() == ErrorCode::Timeout) {
            log::error("nvme: command timed out; resetting the controller and retrying once");
            queue.lock.unlock();
            auto reset = bring_up();
            queue.lock.lock();
            if (reset.is_error())
                return reset.error();
            result = submit_and_wait(queue, c);
        }
        if (result.is_error())
            return result.error();
        if (op == opcode::read)
            __builtin_memcpy(data, queue.bounce.virt, bytes);
        data += bytes;
        lba += count;
        blocks -= count;
    }
    return {};
}

ErrorOr<void> Namespace::read(uint64_t first_block, std::span<uint8_t> buffer)
{
    TRY(check_range(first_block, buffer.size()));
    return m_controller.transfer(m_nsid, opcode::read, first_block, static_cast<uint32_t>(buffer.size() / m_block_size),
        m_block_size, buffer.data());
}

ErrorOr<void> Namespace::write(uint64_t first_block, std::span<const uint8_t> buffer)
{
    TRY(check_range(first_block, buffer.size()));
    return m_controller.transfer(m_nsid, opcode::write, first_block, static_cast<uint32_t>(buffer.size() / m_block_size),
        m_block_size, const_cast<uint8_t*>(buffer.data()));
}

ErrorOr<void> Namespace::flush() { return m_controller.flush(m_nsid); }

ErrorOr<void> probe(PciConfigAccess& access, const PciDevice& device)
{
    auto* controller = TRY(heap::create<Controller>());
    auto result = controller->initialize(access, device);
    if (result.is_error()) {
        heap::destroy(controller);
        return result;
    }
    return {};
}

} // namespace

std::span<const NamespaceInfo> namespaces() { return { s_namespaces, s_namespace_count }; }

AISOS_PCI_DRIVER("nvme", probe);

} // namespace aisos::nvme
