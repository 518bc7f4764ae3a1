// The initrd archive (lib/initrd): the writer is tools/make_initrd.py; the
// layout is rebuilt here byte by byte so every field can be broken.

#include "lib/crypto/Sha256.h"
#include "lib/initrd/Initrd.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace aisos;

namespace {

void put_le(std::vector<uint8_t>& out, uint64_t value, size_t width)
{
    for (size_t i = 0; i < width; ++i)
        out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void pad(std::vector<uint8_t>& out)
{
    while (out.size() % 8 != 0)
        out.push_back(0);
}

struct File {
    std::string path;
    std::string data;
};

std::vector<uint8_t> body(const std::vector<File>& files, uint32_t version = 1)
{
    std::vector<uint8_t> out = { 'A', 'I', 'S', 'O', 'S', 'I', 'R', 'D' };
    put_le(out, version, 4);
    put_le(out, files.size(), 4);
    for (const File& file : files) {
        put_le(out, file.path.size(), 2);
        put_le(out, 0, 2);
        put_le(out, 0, 4);
        put_le(out, file.data.size(), 8);
        out.insert(out.end(), file.path.begin(), file.path.end());
        pad(out);
        out.insert(out.end(), file.data.begin(), file.data.end());
        pad(out);
    }
    return out;
}

std::vector<uint8_t> sealed(std::vector<uint8_t> bytes)
{
    auto digest = crypto::Sha256::hash(bytes);
    bytes.insert(bytes.end(), digest.begin(), digest.end());
    return bytes;
}

} // namespace

TEST(Initrd, ParsesEntriesInOrder)
{
    auto bytes = sealed(body({ { "models/tiny.gguf", "GGUF1234567" }, { "system/pkg/llm.rpk", "" }, { "a", "x" } }));
    auto archive = initrd::Archive::parse(bytes);
    ASSERT_FALSE(archive.is_error()) << archive.error().reason();
    ASSERT_EQ(archive.value().count(), 3u);
    EXPECT_EQ(archive.value().entry(0).path, "models/tiny.gguf");
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(archive.value().entry(0).data.data()), archive.value().entry(0).data.size()), "GGUF1234567");
    EXPECT_EQ(archive.value().entry(1).data.size(), 0u);
    EXPECT_EQ(archive.value().entry(2).path, "a");
}

TEST(Initrd, RefusesBadArchives)
{
    auto expect_refused = [](const std::vector<uint8_t>& bytes, const char* why) {
        auto archive = initrd::Archive::parse(bytes);
        EXPECT_TRUE(archive.is_error()) << why;
    };
    expect_refused({}, "empty");
    auto good = body({ { "models/m.gguf", "data" } });
    auto wrong_magic = good;
    wrong_magic[0] = 'X';
    expect_refused(sealed(wrong_magic), "magic");
    expect_refused(sealed(body({ { "a", "b" } }, 2)), "version");
    auto flipped = sealed(good);
    flipped[20] ^= 1;
    expect_refused(flipped, "hash");
    expect_refused(sealed(body({ { "../etc", "x" } })), "dot-dot");
    expect_refused(sealed(body({ { "a//b", "x" } })), "empty segment");
    expect_refused(sealed(body({ { "/abs", "x" } })), "absolute path (empty first segment)");
    expect_refused(sealed(body({ { "a", "x" }, { "a", "y" } })), "duplicate");
    auto trailing = good;
    trailing.insert(trailing.end(), 8, 0);
    expect_refused(sealed(trailing), "trailing bytes");
    auto too_long = good;
    too_long[16 + 8] = 0xff; // data length far past the end
    expect_refused(sealed(too_long), "data length");
    auto many = good;
    many[12] = 65;
    expect_refused(sealed(many), "entry count");
    // Every truncation of a valid archive is refused, never read past the end.
    auto whole = sealed(good);
    for (size_t length = 0; length < whole.size(); ++length)
        expect_refused(std::vector<uint8_t>(whole.begin(), whole.begin() + length), "truncated");
}
