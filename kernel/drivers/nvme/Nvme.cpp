// NVMe controller driver, polled (SPDK style) by default: admin queue, one
// I/O queue pair per CPU that the controller grants (CPUs share queues
// round-robin beyond that), a DMA bounce buffer per I/O queue with a PRP
// list so any caller buffer works, command timeouts followed by a controller
// reset and one retry, and status codes decoded into errors.
//
// Options (aisos.cfg): nvme_completion=msix gives every I/O completion queue
// an MSI-X vector aimed at the CPU that owns it, and a waiting CPU sleeps
// (hlt) until it fires instead of spinning; nvme_discard picks how freed
// blocks are handed back: Dataset Management with the deallocate attribute,
// or Write Zeroes with the deallocate bit, whichever ONCS says the
// controller has.
//
// Register and command layouts: NVM Express Base Specification 1.4,
// sections 3.1 (registers), 4.2-4.6 (queues, PRPs), 5 (admin commands) and
// the NVM command set (6: Read 02h, Write 01h, Flush 00h, Write Zeroes 08h,
// Dataset Management 09h).

#include "kernel/drivers/nvme/Nvme.h"

#include "kernel/BootConfig.h"
#include "kernel/arch/x86_64/Interrupts.h"
#include "kernel/console/Log.h"
#include "kernel/cpu/Smp.h"
#include "kernel/cpu/Time.h"
#include "kernel/drivers/PciDriver.h"
#include "kernel/lib/Spinlock.h"
#include "kernel/mm/Dma.h"
#include "kernel/mm/Heap.h"
#include "kernel/mm/Mmio.h"
#include "lib/pci/Msi.h"

#include <atomic>

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
constexpr uint8_t flush = 0x00, write = 0x01, read = 0x02, write_zeroes = 0x08, dataset_management = 0x09;
}
// Identify Controller ONCS (bytes 521:520) bits.
constexpr uint16_t oncs_dataset_management = 1u << 2, oncs_write_zeroes = 1u << 3;
constexpr uint32_t dsm_deallocate = 1u << 2;      // CDW11 AD
constexpr uint32_t write_zeroes_deallocate = 1u << 25; // CDW12 DEAC
constexpr uint32_t max_dsm_ranges = 256;
constexpr uint32_t max_write_zeroes_blocks = 65536; // the NLB field's range

struct [[gnu::packed]] DsmRange {
    uint32_t attributes;
    uint32_t blocks; // a count, not 0-based
    uint64_t first;
};
static_assert(sizeof(DsmRange) == 16);

enum class DiscardCommand : uint8_t { None, Deallocate, WriteZeroes };

const char* discard_command_name(DiscardCommand command)
{
    switch (command) {
    case DiscardCommand::Deallocate: return "deallocate";
    case DiscardCommand::WriteZeroes: return "write zeroes";
    case DiscardCommand::None: break;
    }
    return "none";
}

std::atomic<uint64_t> s_interrupts { 0 };
std::atomic<uint64_t> s_discard_commands { 0 };
std::atomic<uint64_t> s_resets { 0 };

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
    int interrupt_vector { -1 }; // MSI-X mode: the CPU vector its completions raise
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
    ErrorOr<void> discard(uint64_t first_block, uint64_t count) override;

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

        if (boot_settings().nvme_completion == config::NvmeCompletion::Msix)
            m_msix_table = map_msix_table(access, device, bars);
        m_access = &access;
        m_address = device.address;

        TRY(allocate_queue(m_admin, 0, admin_queue_depth));
        TRY(bring_up());
        TRY(identify());
        return {};
    }

    ErrorOr<void> transfer(uint32_t nsid, uint8_t op, uint64_t lba, uint32_t blocks, uint32_t block_size, uint8_t* data);
    ErrorOr<void> discard(uint32_t nsid, uint64_t lba, uint64_t blocks);
    ErrorOr<void> flush(uint32_t nsid)
    {
        QueuePair& queue = io_queue();
        bool may_sleep = cpu::interrupts_enabled();
        SpinlockGuard guard(queue.lock);
        Command c {};
        c.cdw0 = opcode::flush;
        c.nsid = nsid;
        return submit_with_reset(queue, c, may_sleep);
    }

    const char* model() const { return m_model; }
    const char* serial() const { return m_serial; }
    bool uses_interrupts() const { return m_io_queue_count > 0 && m_io_queues[0]->interrupt_vector >= 0; }
    DiscardCommand discard_command() const { return m_discard; }

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
        if (queue.interrupt_vector >= 0)
            cq.cdw11 = (uint32_t(queue.id) << 16) | 2 | 1; // MSI-X entry = queue id, interrupts on, contiguous
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
        return submit_and_wait(m_admin, command, false, result);
    }

    // Posts one command and waits for its completion: polling, or with
    // may_sleep (the caller ran with interrupts on) on a queue with an
    // MSI-X vector, halting until an interrupt. The queue lock is held.
    ErrorOr<void> submit_and_wait(QueuePair& queue, Command& command, bool may_sleep, uint32_t* result = nullptr)
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
            if (may_sleep && queue.interrupt_vector >= 0) {
                // Interrupts are off here (the queue lock's guard), so a
                // completion between this check and the hlt still wakes it:
                // sti takes effect only after the next instruction. The
                // CPU's timer tick bounds the wait should an interrupt go
                // missing.
                if ((completions[queue.cq_head].status & 1) != queue.phase)
                    asm volatile("sti; hlt; cli" ::: "memory");
            } else {
                asm volatile("pause");
            }
        }
    }

    // submit_and_wait, and on a timeout a controller reset and one retry.
    ErrorOr<void> submit_with_reset(QueuePair& queue, Command& command, bool may_sleep)
    {
        auto result = submit_and_wait(queue, command, may_sleep);
        if (result.is_error() && result.error().code() == ErrorCode::Timeout) {
            log::error("nvme: command timed out; resetting the controller and retrying once");
            s_resets.fetch_add(1, std::memory_order_relaxed);
            queue.lock.unlock();
            auto reset = bring_up();
            queue.lock.lock();
            if (reset.is_error())
                return reset.error();
            result = submit_and_wait(queue, command, may_sleep);
        }
        return result;
    }

    static void completion_interrupt(InterruptFrame&, void*) { s_interrupts.fetch_add(1, std::memory_order_relaxed); }

    // The MSI-X table, mapped uncached, or nullptr (then the queues are polled).
    volatile uint32_t* map_msix_table(PciConfigAccess& access, const PciDevice& device, const pci::BarSet& bars)
    {
        auto capability = pci::read_msix_capability(access, device.address);
        if (capability.is_error()) {
            log::warn("nvme: nvme_completion=msix but the controller has no MSI-X ({}); polling", capability.error().reason());
            return nullptr;
        }
        auto const& cap = capability.value();
        if (cap.table_bar >= bars.count || !bars.bars[cap.table_bar].is_memory()
            || cap.table_offset + uint64_t(cap.table_size) * pci::msix_entry_size > bars.bars[cap.table_bar].size) {
            log::warn("nvme: the MSI-X table is not inside a memory BAR; polling");
            return nullptr;
        }
        auto mapped = mmio::map(bars.bars[cap.table_bar].address + cap.table_offset, uint64_t(cap.table_size) * pci::msix_entry_size);
        if (mapped.is_error()) {
            log::warn("nvme: cannot map the MSI-X table ({}); polling", mapped.error().reason());
            return nullptr;
        }
        m_msix_entries = cap.table_size;
        return static_cast<volatile uint32_t*>(mapped.value());
    }

    // MSI-X mode: entry `queue.id` (entry 0 stays masked: the admin queue is
    // polled) raises a fresh vector on the CPU that uses the queue. Every
    // CPU needs a queue of its own, or a waiter could sleep through another
    // CPU's interrupt until its timer tick.
    ErrorOr<void> route_interrupts(QueuePair* const* queues, size_t count, uint32_t cpus)
    {
        if (!m_msix_table)
            return {};
        if (count < cpus || count >= m_msix_entries) {
            log::warn("nvme: {} I/O queues and {} MSI-X entries for {} CPUs; polling", count, m_msix_entries, cpus);
            return {};
        }
        for (size_t i = 0; i < count; ++i) {
            smp::PerCpu* cpu = smp::cpu(static_cast<uint32_t>(i));
            if (!cpu)
                return Error::not_found("no CPU for an NVMe queue");
            int vector = interrupts::allocate_device_vector(completion_interrupt, queues[i]);
            if (vector < 0)
                return Error { ErrorCode::NoSpace, "no free interrupt vector for NVMe" };
            auto message = TRY(pci::msi_message(cpu->apic_id, static_cast<uint8_t>(vector)));
            TRY(pci::write_msix_entry(m_msix_table, m_msix_entries, queues[i]->id, message, pci::VectorMask::Unmasked));
            queues[i]->interrupt_vector = vector;
        }
        TRY(pci::set_msix_state(*m_access, m_address, pci::MsixState::Enabled));
        return {};
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
        uint16_t oncs = uint16_t(data[520] | (data[521] << 8));
        m_discard = choose_discard(oncs);
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
        QueuePair* queues[max_io_queues] {};
        for (uint32_t i = 0; i < granted; ++i) {
            queues[i] = TRY(heap::create<QueuePair>());
            TRY(allocate_queue(*queues[i], static_cast<uint16_t>(i + 1), depth));
            queues[i]->bounce = TRY(dma::allocate(bounce_size));
            queues[i]->prp_list = TRY(dma::allocate(4096));
        }
        TRY(route_interrupts(queues, granted, smp::online_count()));
        for (uint32_t i = 0; i < granted; ++i) {
            TRY(create_io_queue(*queues[i]));
            m_io_queues[m_io_queue_count++] = queues[i];
        }
        log::info("nvme: {}: {} I/O queues, completions {}, discard by {}", m_model, m_io_queue_count,
            uses_interrupts() ? "by MSI-X interrupt" : "polled", discard_command_name(m_discard));

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
            add_namespace({ m_model, m_serial, nsid, blocks << block_shift, ns, uses_interrupts(), discard_command_name(m_discard) });
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

    // What nvme_discard asks for, limited to what ONCS says the controller has.
    static DiscardCommand choose_discard(uint16_t oncs)
    {
        bool dsm = oncs & oncs_dataset_management;
        bool zeroes = oncs & oncs_write_zeroes;
        switch (boot_settings().nvme_discard) {
        case config::NvmeDiscard::Off: return DiscardCommand::None;
        case config::NvmeDiscard::Deallocate: return dsm ? DiscardCommand::Deallocate : DiscardCommand::None;
        case config::NvmeDiscard::WriteZeroes: return zeroes ? DiscardCommand::WriteZeroes : DiscardCommand::None;
        case config::NvmeDiscard::Auto: break;
        }
        return dsm ? DiscardCommand::Deallocate : zeroes ? DiscardCommand::WriteZeroes : DiscardCommand::None;
    }

    static void add_namespace(const NamespaceInfo&);

    volatile uint8_t* m_registers { nullptr };
    uint32_t m_doorbell_stride { 4 };
    uint16_t m_max_queue_entries { 2 };
    uint64_t m_ready_timeout_ns { 0 };
    uint32_t m_max_transfer { 4096 };
    QueuePair m_admin;
    QueuePair* m_io_queues[max_io_queues] {};
    size_t m_io_queue_count { 0 };
    DiscardCommand m_discard { DiscardCommand::None };
    PciConfigAccess* m_access { nullptr };
    pci::PciAddress m_address {};
    volatile uint32_t* m_msix_table { nullptr };
    uint16_t m_msix_entries { 0 };
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
    bool may_sleep = cpu::interrupts_enabled();
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
        TRY(submit_with_reset(queue, c, may_sleep));
        if (op == opcode::read)
            __builtin_memcpy(data, queue.bounce.virt, bytes);
        data += bytes;
        lba += count;
        blocks -= count;
    }
    return {};
}

// Deallocate (Dataset Management, up to 256 ranges of up to 2^32 - 1 blocks
// per command, the range list in the bounce buffer) or Write Zeroes with
// DEAC (up to 65536 blocks per command).
ErrorOr<void> Controller::discard(uint32_t nsid, uint64_t lba, uint64_t blocks)
{
    if (m_discard == DiscardCommand::None)
        return {};
    QueuePair& queue = io_queue();
    bool may_sleep = cpu::interrupts_enabled();
    SpinlockGuard guard(queue.lock);
    while (blocks > 0) {
        Command c {};
        c.nsid = nsid;
        uint64_t covered = 0;
        if (m_discard == DiscardCommand::Deallocate) {
            auto* ranges = static_cast<DsmRange*>(queue.bounce.virt);
            uint32_t count = 0;
            while (count < max_dsm_ranges && covered < blocks) {
                uint64_t take = blocks - covered < 0xffffffffull ? blocks - covered : 0xffffffffull;
                ranges[count++] = { 0, static_cast<uint32_t>(take), lba + covered };
                covered += take;
            }
            c.cdw0 = opcode::dataset_management;
            c.prp1 = queue.bounce.bus_address; // 256 ranges fill exactly one page
            c.cdw10 = count - 1;
            c.cdw11 = dsm_deallocate;
        } else {
            covered = blocks < max_write_zeroes_blocks ? blocks : max_write_zeroes_blocks;
            c.cdw0 = opcode::write_zeroes;
            c.cdw10 = static_cast<uint32_t>(lba);
            c.cdw11 = static_cast<uint32_t>(lba >> 32);
            c.cdw12 = static_cast<uint32_t>(covered - 1) | write_zeroes_deallocate;
        }
        TRY(submit_with_reset(queue, c, may_sleep));
        s_discard_commands.fetch_add(1, std::memory_order_relaxed);
        lba += covered;
        blocks -= covered;
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

ErrorOr<void> Namespace::discard(uint64_t first_block, uint64_t count)
{
    if (first_block > m_blocks || count > m_blocks - first_block)
        return Error { ErrorCode::OutOfRange, "blocks beyond the end of the namespace" };
    return m_controller.discard(m_nsid, first_block, count);
}

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

Statistics statistics()
{
    return { s_interrupts.load(std::memory_order_relaxed), s_discard_commands.load(std::memory_order_relaxed),
        s_resets.load(std::memory_order_relaxed) };
}

AISOS_PCI_DRIVER("nvme", probe);

} // namespace aisos::nvme
