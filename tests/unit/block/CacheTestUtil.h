#pragma once

// A block device that logs every call (for ordering checks) over the
// file-system tests' RAM device with fault injection.

#include "lib/block/BlockCache.h"
#include "tests/unit/fs/FsTestUtil.h" // ASSERT_OK, ASSERT_ERROR
#include "tests/unit/fs/RamBlockDevice.h"

#include <vector>

namespace aisos::block::test {

using fs::test::RamBlockDevice;

class LoggingDevice final : public BlockDevice {
public:
    struct Call {
        enum class Kind { Read, Write, Flush, Discard } kind;
        uint64_t first;
        uint64_t count; // device blocks
        bool operator==(const Call&) const = default;
    };

    explicit LoggingDevice(RamBlockDevice& inner)
        : m_inner(inner)
    {
    }

    uint32_t block_size() const override { return m_inner.block_size(); }
    uint64_t block_count() const override { return m_inner.block_count(); }
    ErrorOr<void> read(uint64_t first, std::span<uint8_t> buffer) override
    {
        m_calls.push_back({ Call::Kind::Read, first, buffer.size() / block_size() });
        return m_inner.read(first, buffer);
    }
    ErrorOr<void> write(uint64_t first, std::span<const uint8_t> buffer) override
    {
        m_calls.push_back({ Call::Kind::Write, first, buffer.size() / block_size() });
        return m_inner.write(first, buffer);
    }
    ErrorOr<void> flush() override
    {
        m_calls.push_back({ Call::Kind::Flush, 0, 0 });
        return m_inner.flush();
    }
    ErrorOr<void> discard(uint64_t first, uint64_t count) override
    {
        m_calls.push_back({ Call::Kind::Discard, first, count });
        return m_inner.discard(first, count);
    }

    std::vector<Call>& calls() { return m_calls; }
    size_t count(Call::Kind kind) const
    {
        size_t n = 0;
        for (auto& call : m_calls)
            n += call.kind == kind ? 1 : 0;
        return n;
    }

private:
    RamBlockDevice& m_inner;
    std::vector<Call> m_calls;
};

} // namespace aisos::block::test
