// The .rpk container: layout, every header field, truncation, the hash.
#include "lib/crypto/Sha256.h"
#include "lib/rpk/Package.h"
#include "tests/unit/rpk/RpkTestSupport.h"

#include <gtest/gtest.h>

#include <string>

using namespace aisos;
using namespace aisos::rpk;
using aisos::rpk::test::bytes_of;

namespace {

// A package around a fake ELF (the container does not look inside it).
std::vector<uint8_t> make_package(std::string_view manifest = "{\"m\":1}", std::string_view elf = "\x7f" "ELF-not-really")
{
    auto size = MUST(package_size(manifest.size(), elf.size()));
    std::vector<uint8_t> out(size);
    EXPECT_EQ(MUST(write_package(bytes_of(manifest), bytes_of(elf), out)), size);
    return out;
}

void put_u32(std::vector<uint8_t>& bytes, size_t at, uint32_t value)
{
    for (int i = 0; i < 4; ++i)
        bytes[at + i] = uint8_t(value >> (8 * i));
}

void put_u64(std::vector<uint8_t>& bytes, size_t at, uint64_t value)
{
    put_u32(bytes, at, uint32_t(value));
    put_u32(bytes, at + 4, uint32_t(value >> 32));
}

// Recomputes the trailing hash, so a test reaches the check after it.
void reseal(std::vector<uint8_t>& bytes)
{
    ASSERT_GE(bytes.size(), package_hash_size);
    size_t hashed = bytes.size() - package_hash_size;
    auto digest = crypto::Sha256::hash(std::span<const uint8_t>(bytes.data(), hashed));
    std::copy(digest.begin(), digest.end(), bytes.begin() + long(hashed));
}

struct Refusal {
    ErrorCode code;
    std::string text;
};

Refusal refuse(const std::vector<uint8_t>& bytes)
{
    Diagnostic diagnostic;
    auto result = parse_package(bytes, &diagnostic);
    EXPECT_TRUE(result.is_error());
    if (!result.is_error())
        return { ErrorCode::InvalidArgument, "" };
    EXPECT_FALSE(diagnostic.empty());
    return { result.error().code(), std::string(diagnostic.view()) };
}

} // namespace

TEST(RpkPackage, LayoutIsExactlyAsDocumented)
{
    std::string_view manifest = "{\"a\":2}";
    std::string_view elf = "ELFBYTES";
    auto bytes = make_package(manifest, elf);
    ASSERT_EQ(bytes.size(), 24 + manifest.size() + elf.size() + 32);
    EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), "AISOSRPK");
    EXPECT_EQ(bytes[8], 1);
    EXPECT_EQ(bytes[9] | bytes[10] | bytes[11], 0);
    EXPECT_EQ(bytes[12], manifest.size());
    EXPECT_EQ(bytes[16], elf.size());
    for (int i = 17; i < 24; ++i)
        EXPECT_EQ(bytes[i], 0) << i;
    EXPECT_EQ(std::string(bytes.begin() + 24, bytes.begin() + 24 + long(manifest.size())), manifest);
    EXPECT_EQ(std::string(bytes.begin() + 24 + long(manifest.size()), bytes.end() - 32), elf);
    auto digest = crypto::Sha256::hash(std::span<const uint8_t>(bytes.data(), bytes.size() - 32));
    EXPECT_TRUE(std::equal(digest.begin(), digest.end(), bytes.end() - 32));
}

TEST(RpkPackage, ParsesWhatItWrote)
{
    auto bytes = make_package("{\"x\":true}", "the elf");
    auto view = MUST(parse_package(bytes));
    EXPECT_EQ(view.manifest_text(), "{\"x\":true}");
    EXPECT_EQ(std::string(view.elf.begin(), view.elf.end()), "the elf");
    EXPECT_EQ(view.manifest.data(), bytes.data() + 24);
    EXPECT_TRUE(std::equal(view.hash.begin(), view.hash.end(), bytes.end() - 32));
}

TEST(RpkPackage, SizesAtTheLimitsAreAccepted)
{
    std::string manifest(max_manifest_length, ' ');
    manifest[0] = '{';
    std::string elf(1, 'E');
    auto bytes = make_package(manifest, elf);
    auto view = MUST(parse_package(bytes));
    EXPECT_EQ(view.manifest.size(), max_manifest_length);
    EXPECT_EQ(view.elf.size(), 1u);
    EXPECT_EQ(MUST(package_size(max_manifest_length, max_elf_length)), 24 + max_manifest_length + max_elf_length + 32);
}

TEST(RpkPackage, PackageSizeRefusesLengthsOutsideTheLimits)
{
    EXPECT_TRUE(package_size(0, 10).is_error());
    EXPECT_TRUE(package_size(max_manifest_length + 1, 10).is_error());
    EXPECT_TRUE(package_size(10, 0).is_error());
    EXPECT_TRUE(package_size(10, max_elf_length + 1).is_error());
    EXPECT_TRUE(package_size(10, SIZE_MAX).is_error());
    EXPECT_EQ(MUST(package_size(1, 1)), 58u);
}

TEST(RpkPackage, WriterRefusesASmallBufferAndBadLengths)
{
    std::vector<uint8_t> out(57);
    auto manifest = bytes_of("m");
    auto elf = bytes_of("e");
    EXPECT_EQ(write_package(manifest, elf, out).error().code(), ErrorCode::Overflow);
    std::vector<uint8_t> empty;
    std::vector<uint8_t> big(1000);
    EXPECT_TRUE(write_package(empty, elf, big).is_error());
    EXPECT_TRUE(write_package(manifest, empty, big).is_error());
}

TEST(RpkPackage, EveryMagicByteMatters)
{
    auto good = make_package();
    for (size_t i = 0; i < 8; ++i) {
        auto bytes = good;
        bytes[i] ^= 0x20;
        auto refusal = refuse(bytes);
        EXPECT_EQ(refusal.code, ErrorCode::Corrupt) << i;
        EXPECT_EQ(refusal.text, "not an aiSOS package (bad magic)") << i;
    }
}

TEST(RpkPackage, OtherFormatVersionsAreUnsupported)
{
    for (uint32_t version : { 0u, 2u, 0x100u, 0xffffffffu }) {
        auto bytes = make_package();
        put_u32(bytes, 8, version);
        reseal(bytes);
        auto refusal = refuse(bytes);
        EXPECT_EQ(refusal.code, ErrorCode::Unsupported) << version;
        EXPECT_EQ(refusal.text, "unsupported package format version " + std::to_string(version));
    }
}

TEST(RpkPackage, ManifestLengthField)
{
    auto good = make_package();
    auto bytes = good;
    put_u32(bytes, 12, 0);
    EXPECT_EQ(refuse(bytes).text, "manifest length 0");

    bytes = good;
    put_u32(bytes, 12, max_manifest_length + 1);
    EXPECT_EQ(refuse(bytes).text, "manifest length 65537 exceeds the limit of 65536 bytes");

    bytes = good;
    put_u32(bytes, 12, 0xffffffffu);
    EXPECT_EQ(refuse(bytes).code, ErrorCode::Corrupt);

    // One more or one less than the truth: the total no longer matches.
    for (int delta : { -1, 1 }) {
        bytes = good;
        put_u32(bytes, 12, uint32_t(int(good[12]) + delta));
        auto refusal = refuse(bytes);
        EXPECT_EQ(refusal.code, ErrorCode::Corrupt);
        EXPECT_TRUE(refusal.text.starts_with(delta > 0 ? "package is truncated" : "package has 1 trailing bytes")) << refusal.text;
    }
}

TEST(RpkPackage, ElfLengthField)
{
    auto good = make_package();
    auto bytes = good;
    put_u64(bytes, 16, 0);
    EXPECT_EQ(refuse(bytes).text, "ELF length 0");

    bytes = good;
    put_u64(bytes, 16, max_elf_length + 1);
    EXPECT_EQ(refuse(bytes).text, "ELF length 268435457 exceeds the limit of 268435456 bytes");

    // Lengths that would overflow 24 + M + E + 32 if added unchecked.
    for (uint64_t length : { ~0ull, ~0ull - 24, ~0ull - 55, 1ull << 63 }) {
        bytes = good;
        put_u64(bytes, 16, length);
        auto refusal = refuse(bytes);
        EXPECT_EQ(refusal.code, ErrorCode::Corrupt) << length;
        EXPECT_TRUE(refusal.text.starts_with("ELF length")) << refusal.text;
    }
    for (uint32_t manifest : { 0xffffffffu, 0xffffffe8u }) {
        bytes = good;
        put_u32(bytes, 12, manifest);
        put_u64(bytes, 16, ~0ull);
        EXPECT_EQ(refuse(bytes).code, ErrorCode::Corrupt);
    }
}

TEST(RpkPackage, EveryTruncationIsRefused)
{
    auto good = make_package("{\"name\":\"x\"}", "0123456789abcdef");
    for (size_t length = 0; length < good.size(); ++length) {
        // A copy of exactly `length` bytes, so ASan catches any read past it.
        std::vector<uint8_t> prefix(good.begin(), good.begin() + long(length));
        auto refusal = refuse(prefix);
        EXPECT_EQ(refusal.code, ErrorCode::Corrupt) << length;
        if (length < 24)
            EXPECT_TRUE(refusal.text.starts_with("package is shorter than its 24-byte header")) << refusal.text;
        else
            EXPECT_TRUE(refusal.text.starts_with("package is truncated")) << refusal.text;
    }
}

TEST(RpkPackage, TrailingBytesAreRefused)
{
    auto bytes = make_package();
    bytes.push_back(0);
    EXPECT_EQ(refuse(bytes).text, "package has 1 trailing bytes after its hash");
}

TEST(RpkPackage, AnyChangedByteAfterTheHeaderFailsTheHash)
{
    auto good = make_package("{\"k\":\"v\"}", "ELF body");
    for (size_t i = 24; i < good.size(); ++i) {
        for (uint8_t flip : { uint8_t(0x01), uint8_t(0x80) }) {
            auto bytes = good;
            bytes[i] ^= flip;
            auto refusal = refuse(bytes);
            EXPECT_EQ(refusal.code, ErrorCode::Corrupt) << i;
            EXPECT_EQ(refusal.text, "package hash mismatch") << i;
        }
    }
}

TEST(RpkPackage, HeaderFieldsAreCoveredByTheHash)
{
    // Swap manifest and ELF lengths of equal total: the layout is plausible,
    // only the hash tells.
    auto good = make_package("{\"a\":1}", "ELFELF");
    auto bytes = good;
    put_u32(bytes, 12, 6);
    put_u64(bytes, 16, 7);
    EXPECT_EQ(refuse(bytes).text, "package hash mismatch");
}

TEST(RpkPackage, NullDiagnosticIsFine)
{
    auto bytes = make_package();
    bytes[30] ^= 1;
    auto result = parse_package(bytes);
    ASSERT_TRUE(result.is_error());
    EXPECT_STREQ(result.error().reason(), "package hash mismatch");
    EXPECT_TRUE(parse_package({}).is_error());
}
