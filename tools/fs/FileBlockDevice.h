#pragma once

// A BlockDevice over a host file (a disk image), for the host tools.
// flush() is fsync(), so the durability contract holds on the host too;
// discard() punches a hole, so a freshly formatted image stays sparse.

#include "lib/block/BlockDevice.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

namespace aisos::tools {

class FileBlockDevice final : public block::BlockDevice {
public:
    static constexpr uint32_t kBlockSize = 512;

    // Opens an image; its size must be a multiple of 512 bytes.
    static ErrorOr<FileBlockDevice> open(const char* path)
    {
        int fd = ::open(path, O_RDWR);
        if (fd < 0)
            return Error::not_found("cannot open the image");
        struct stat info;
        if (fstat(fd, &info) != 0 || info.st_size % kBlockSize != 0) {
            ::close(fd);
            return Error::invalid("image size is not a multiple of 512 bytes");
        }
        return FileBlockDevice(fd, uint64_t(info.st_size) / kBlockSize);
    }
    FileBlockDevice(FileBlockDevice&& other)
        : m_fd(other.m_fd)
        , m_blocks(other.m_blocks)
    {
        other.m_fd = -1;
    }
    ~FileBlockDevice()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }

    uint32_t block_size() const override { return kBlockSize; }
    uint64_t block_count() const override { return m_blocks; }
    ErrorOr<void> read(uint64_t first, std::span<uint8_t> buffer) override
    {
        TRY(check(first, buffer.size()));
        size_t done = 0;
        while (done < buffer.size()) {
            ssize_t got = ::pread(m_fd, buffer.data() + done, buffer.size() - done, off_t(first * kBlockSize + done));
            if (got <= 0)
                return Error { ErrorCode::IoError, "image read failed" };
            done += size_t(got);
        }
        return {};
    }
    ErrorOr<void> write(uint64_t first, std::span<const uint8_t> buffer) override
    {
        TRY(check(first, buffer.size()));
        size_t done = 0;
        while (done < buffer.size()) {
            ssize_t put = ::pwrite(m_fd, buffer.data() + done, buffer.size() - done, off_t(first * kBlockSize + done));
            if (put <= 0)
                return Error { ErrorCode::IoError, "image write failed" };
            done += size_t(put);
        }
        return {};
    }
    ErrorOr<void> discard(uint64_t first, uint64_t count) override
    {
        if (first > m_blocks || count > m_blocks - first)
            return Error { ErrorCode::OutOfRange, "discard outside the image" };
        if (count && ::fallocate(m_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off_t(first * kBlockSize), off_t(count * kBlockSize)) != 0)
            return Error::unsupported("the image's file system cannot punch holes"); // a hint: mkfs goes on
        return {};
    }
    ErrorOr<void> flush() override
    {
        if (::fsync(m_fd) != 0)
            return Error { ErrorCode::IoError, "image fsync failed" };
        return {};
    }

private:
    FileBlockDevice(int fd, uint64_t blocks)
        : m_fd(fd)
        , m_blocks(blocks)
    {
    }
    ErrorOr<void> check(uint64_t first, size_t bytes) const
    {
        if (bytes % kBlockSize != 0 || first > m_blocks || bytes / kBlockSize > m_blocks - first)
            return Error { ErrorCode::OutOfRange, "access outside the image" };
        return {};
    }

    int m_fd;
    uint64_t m_blocks;
};

} // namespace aisos::tools
