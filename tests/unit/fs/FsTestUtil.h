#pragma once

// Helpers shared by the file-system tests.

#include "host/MallocAllocator.h"
#include "lib/fs/FileSystem.h"
#include "tests/unit/fs/RamBlockDevice.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace aisos::fs::test {

class TestClock final : public Clock {
public:
    int64_t now() override { return m_now; }
    int64_t m_now { 1700000000 };
};

inline std::vector<uint8_t> pattern(size_t size, uint32_t seed)
{
    std::vector<uint8_t> bytes(size);
    uint32_t state = seed * 2654435761u + 1;
    for (size_t i = 0; i < size; ++i) {
        state = state * 1664525u + 1013904223u;
        bytes[i] = uint8_t(state >> 24);
    }
    return bytes;
}

inline ErrorOr<void> write_file(FileSystem& fs, std::string_view path, const std::vector<uint8_t>& content, size_t piece = 100000)
{
    auto* writer = TRY(fs.begin_write(path));
    for (size_t at = 0; at < content.size(); at += piece) {
        size_t take = std::min(piece, content.size() - at);
        auto result = writer->append({ content.data() + at, take });
        if (result.is_error()) {
            Writer::destroy(writer);
            return result.error();
        }
    }
    auto result = writer->commit();
    Writer::destroy(writer);
    return result;
}

inline ErrorOr<std::vector<uint8_t>> read_file(FileSystem& fs, std::string_view path)
{
    auto stat = TRY(fs.stat(path));
    if (stat.type != NodeType::File)
        return Error::invalid("not a file");
    std::vector<uint8_t> content(stat.size);
    size_t got = TRY(fs.read(path, 0, { content.data(), content.size() }));
    if (got != content.size())
        return Error::corrupt("short read");
    return content;
}

inline std::vector<std::string> list_names(FileSystem& fs, std::string_view path)
{
    std::vector<std::string> names;
    auto result = fs.list(path, [&](const DirectoryEntry& entry) -> ErrorOr<void> {
        names.emplace_back(entry.name);
        return {};
    });
    EXPECT_FALSE(result.is_error()) << result.error().reason();
    return names;
}

#define ASSERT_OK(expression)                                                        \
    do {                                                                             \
        auto&& _ok_result = (expression);                                            \
        ASSERT_FALSE(_ok_result.is_error()) << #expression << ": " << _ok_result.error().reason(); \
    } while (0)

#define ASSERT_ERROR(expression, expected_code)                                          \
    do {                                                                                 \
        auto&& _err_result = (expression);                                               \
        ASSERT_TRUE(_err_result.is_error()) << #expression << " succeeded";              \
        ASSERT_EQ(_err_result.error().code(), expected_code) << _err_result.error().reason(); \
    } while (0)

} // namespace aisos::fs::test
