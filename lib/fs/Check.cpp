// Consistency check (the core of fsck, also run by a full mount): walk
// everything reachable from the root, verify each metadata block, claim
// every block exactly once, and compare the claims with the free map.

#include "lib/fs/Internals.h"

namespace aisos::fs {

namespace {

struct Claims {
    uint64_t* words;
    uint64_t data_start;
    uint64_t block_count;
    CheckReport* report;
};

ErrorOr<void> claim_blocks(void* context, uint64_t start, uint64_t count)
{
    auto& claims = *static_cast<Claims*>(context);
    claims.report->bad_block = start;
    if (start < claims.data_start || start >= claims.block_count || count > claims.block_count - start)
        return Error::corrupt("pointer outside the data area");
    for (uint64_t block = start; block < start + count; ++block) {
        uint64_t bit = uint64_t(1) << (block % 64);
        if (claims.words[block / 64] & bit) {
            claims.report->bad_block = block;
            return Error::corrupt("block owned twice");
        }
        claims.words[block / 64] |= bit;
    }
    return {};
}

}

ErrorOr<void> FileSystem::check_directory(uint64_t pointer, uint32_t depth, CheckReport& report, void* claim_context)
{
    if (depth > kMaxDepth)
        return Error::corrupt("directory tree too deep");
    Array<Record> entries(m_allocator);
    Array<uint64_t> chain(m_allocator);
    TRY(load_directory(pointer, entries, &chain, claim_blocks, claim_context));
    report.metadata_blocks += chain.size();
    chain.clear();
    for (auto& entry : entries) {
        if (entry.type == NodeType::Directory) {
            ++report.directories;
            TRY(check_directory(entry.pointer, depth + 1, report, claim_context));
            continue;
        }
        ++report.files;
        report.file_bytes += entry.size;
        Array<ExtentRecord> extents(m_allocator);
        TRY(load_extents(entry.pointer, entry.size, extents, &chain, claim_blocks, claim_context));
        report.metadata_blocks += chain.size();
        chain.clear();
    }
    return {};
}

ErrorOr<void> FileSystem::check(CheckReport& report)
{
    report = {};
    report.generation = m_super.generation;
    report.total_blocks = m_super.block_count;
    report.directories = 1;
    size_t bytes = m_bitmap_words * 8;
    auto* words = static_cast<uint64_t*>(TRY(m_allocator.allocate(bytes, 64)));
    __builtin_memset(words, 0, bytes);
    for (uint64_t block = 0; block < m_super.data_start; ++block)
        words[block / 64] |= uint64_t(1) << (block % 64);
    Claims claims { words, m_super.data_start, m_super.block_count, &report };

    auto result = [&]() -> ErrorOr<void> {
        TRY(check_directory(m_super.root, 0, report, &claims));
        for (uint64_t word = 0; word < m_bitmap_words; ++word) {
            uint64_t difference = words[word] ^ m_committed[word];
            if (difference) {
                uint64_t block = word * 64 + uint64_t(__builtin_ctzll(difference));
                report.bad_block = block;
                if (words[word] & (uint64_t(1) << (block % 64)))
                    return Error::corrupt("free map marks a reachable block as free");
                return Error::corrupt("free map marks an unreachable block as used");
            }
            report.used_blocks += uint64_t(__builtin_popcountll(words[word]));
        }
        if (report.used_blocks != m_super.used_blocks)
            return Error::corrupt("superblock used-block count is wrong");
        report.bad_block = 0;
        return {};
    }();
    m_allocator.free(words);
    return result;
}

ErrorOr<void> fsck(block::BlockDevice& device, Allocator& allocator, CheckReport& report)
{
    auto* fs = TRY(FileSystem::mount(device, allocator, nullptr, MountCheck::SuperblockOnly));
    auto result = fs->check(report);
    FileSystem::unmount(fs);
    return result;
}

} // namespace aisos::fs
