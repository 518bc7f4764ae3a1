#pragma once

// A BlockDevice in memory for file-system tests: records every write,
// discard and flush (for CrashMonkey-style replay) and injects
// read/write/flush errors. A discarded block reads back as kDiscardedByte
// everywhere, so discarding anything still in use fails checksums or
// content checks.

#include "lib/block/BlockDevice.h"

#include <cstring>
#include <vector>

namespace aisos::fs::test {

class RamBlockDevice final : public block::BlockDevice {
public:
    struct Operation {
        enum class Kind { Write, Flush, Discard } kind;
        uint64_t block;
        std::vector<uint8_t> data;
        uint64_t count { 0 }; // Discard: blocks
    };
    static constexpr uint8_t kDiscardedByte = 0xdb;

    RamBlockDevice(uint32_t block_size, uint64_t block_count)
        : m_block_size(block_size)
        , m_bytes(size_t(block_size) * block_count)
    {
    }
    RamBlockDevice(uint32_t block_size, std::vector<uint8_t> image)
        : m_block_size(block_size)
        , m_bytes(std::move(image))
    {
    }

    uint32_t block_size() const override { return m_block_size; }
    uint64_t block_count() const override { return m_bytes.size() / m_block_size; }

    ErrorOr<void> read(uint64_t first, std::span<uint8_t> buffer) override
    {
        TRY(check(first, buffer.size()));
        ++m_reads;
        if (m_fail_reads)
            return Error { ErrorCode::IoError, "injected read error" };
        std::memcpy(buffer.data(), m_bytes.data() + first * m_block_size, buffer.size());
        return {};
    }
    ErrorOr<void> write(uint64_t first, std::span<const uint8_t> buffer) override
    {
        TRY(check(first, buffer.size()));
        if (m_fail_writes_after >= 0 && m_writes >= uint64_t(m_fail_writes_after))
            return Error { ErrorCode::IoError, "injected write error" };
        ++m_writes;
        m_bytes_written += buffer.size();
        std::memcpy(m_bytes.data() + first * m_block_size, buffer.data(), buffer.size());
        if (m_recording)
            m_log.push_back({ Operation::Kind::Write, first, std::vector<uint8_t>(buffer.begin(), buffer.end()) });
        return {};
    }
    ErrorOr<void> discard(uint64_t first, uint64_t count) override
    {
        if (first > block_count() || count > block_count() - first)
            return Error { ErrorCode::OutOfRange, "discard outside the device" };
        ++m_discards;
        m_discarded_blocks += count;
        std::memset(m_bytes.data() + first * m_block_size, kDiscardedByte, count * m_block_size);
        if (m_recording)
            m_log.push_back({ Operation::Kind::Discard, first, {}, count });
        return {};
    }
    ErrorOr<void> flush() override
    {
        if (m_fail_flush)
            return Error { ErrorCode::IoError, "injected flush error" };
        ++m_flushes;
        if (m_recording)
            m_log.push_back({ Operation::Kind::Flush, 0, {} });
        return {};
    }

    void start_recording()
    {
        m_log.clear();
        m_recording = true;
    }
    std::vector<Operation> stop_recording()
    {
        m_recording = false;
        return std::move(m_log);
    }

    std::vector<uint8_t>& bytes() { return m_bytes; }
    void fail_writes_after(long count) { m_fail_writes_after = count; }
    void fail_flush(bool fail) { m_fail_flush = fail; }
    void fail_reads(bool fail) { m_fail_reads = fail; }
    uint64_t writes() const { return m_writes; }
    uint64_t flushes() const { return m_flushes; }
    uint64_t reads() const { return m_reads; }
    uint64_t bytes_written() const { return m_bytes_written; }
    uint64_t discards() const { return m_discards; }
    uint64_t discarded_blocks() const { return m_discarded_blocks; }

private:
    ErrorOr<void> check(uint64_t first, size_t bytes) const
    {
        if (bytes % m_block_size != 0 || first > block_count() || bytes / m_block_size > block_count() - first)
            return Error { ErrorCode::OutOfRange, "access outside the device" };
        return {};
    }

    uint32_t m_block_size;
    std::vector<uint8_t> m_bytes;
    std::vector<Operation> m_log;
    bool m_recording { false };
    long m_fail_writes_after { -1 };
    bool m_fail_flush { false };
    bool m_fail_reads { false };
    uint64_t m_writes { 0 };
    uint64_t m_flushes { 0 };
    uint64_t m_reads { 0 };
    uint64_t m_bytes_written { 0 };
    uint64_t m_discards { 0 };
    uint64_t m_discarded_blocks { 0 };
};

} // namespace aisos::fs::test
