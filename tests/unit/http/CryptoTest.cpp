#include "lib/crypto/Base64.h"
#include "lib/crypto/Sha1.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace aisos;
using namespace aisos::crypto;

static std::string hex(const Sha1::Digest& digest)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (uint8_t b : digest) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

// FIPS 180-4 / NIST CSRC example vectors.
TEST(Sha1, NistVectors)
{
    EXPECT_EQ(hex(Sha1::hash("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
    EXPECT_EQ(hex(Sha1::hash("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    EXPECT_EQ(hex(Sha1::hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    EXPECT_EQ(hex(Sha1::hash("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")),
        "a49b2446a02c645bf419f995b67091253a04a259");
}

TEST(Sha1, MillionAInUnevenPieces)
{
    Sha1 sha;
    std::string block(997, 'a');
    size_t total = 0;
    while (total < 1000000) {
        size_t n = std::min<size_t>(block.size() - (total % 7), 1000000 - total);
        sha.update(std::string_view(block.data(), n));
        total += n;
    }
    EXPECT_EQ(hex(sha.finish()), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha1, PaddingBoundaries)
{
    // Lengths around the 55/56/64-byte padding edges against a one-shot hash of the same data fed byte by byte.
    for (size_t length : { 55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u }) {
        std::string text(length, 'x');
        Sha1 sha;
        for (char c : text)
            sha.update(std::string_view(&c, 1));
        EXPECT_EQ(hex(sha.finish()), hex(Sha1::hash(text))) << length;
    }
    // Known: 64 x 'a'.
    EXPECT_EQ(hex(Sha1::hash(std::string(64, 'a'))), "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}

static std::string encode(std::string_view input, bool url)
{
    std::vector<char> out(base64_encoded_length(input.size()) + 1);
    auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    auto result = url ? base64url_encode(bytes, out) : base64_encode(bytes, out);
    EXPECT_FALSE(result.is_error());
    return std::string(result.value());
}

static std::optional<std::string> decode(std::string_view input, bool url)
{
    std::vector<uint8_t> out(base64_decoded_max_length(input.size()) + 1);
    auto result = url ? base64url_decode(input, out) : base64_decode(input, out);
    if (result.is_error())
        return std::nullopt;
    return std::string(reinterpret_cast<char*>(out.data()), result.value());
}

// RFC 4648 §10 test vectors.
TEST(Base64, Rfc4648Vectors)
{
    const char* vectors[][3] = {
        { "", "", "" }, { "f", "Zg==", "Zg" }, { "fo", "Zm8=", "Zm8" }, { "foo", "Zm9v", "Zm9v" },
        { "foob", "Zm9vYg==", "Zm9vYg" }, { "fooba", "Zm9vYmE=", "Zm9vYmE" }, { "foobar", "Zm9vYmFy", "Zm9vYmFy" },
    };
    for (auto& v : vectors) {
        EXPECT_EQ(encode(v[0], false), v[1]);
        EXPECT_EQ(encode(v[0], true), v[2]);
        EXPECT_EQ(decode(v[1], false), std::optional<std::string>(v[0]));
        EXPECT_EQ(decode(v[2], true), std::optional<std::string>(v[0]));
        EXPECT_EQ(base64url_encoded_length(strlen(v[0])), strlen(v[2]));
    }
}

TEST(Base64, UrlAlphabetDiffers)
{
    std::string bytes = "\xfb\xff\xbf";
    EXPECT_EQ(encode(bytes, false), "+/+/");
    EXPECT_EQ(encode(bytes, true), "-_-_");
    EXPECT_EQ(decode("-_-_", true), bytes);
    EXPECT_FALSE(decode("-_-_", false));
    EXPECT_FALSE(decode("+/+/", true));
}

TEST(Base64, StrictDecoding)
{
    EXPECT_FALSE(decode("Zg=", false));    // length not a multiple of 4
    EXPECT_FALSE(decode("Zg", false));     // padding required
    EXPECT_FALSE(decode("Zh==", false));   // non-zero unused bits
    EXPECT_FALSE(decode("Zm9=", false));   // non-zero unused bits (2 bytes)
    EXPECT_FALSE(decode("Zm 9", false));   // whitespace
    EXPECT_FALSE(decode("Z===", false));   // too much padding
    EXPECT_FALSE(decode("Zg==Zg==", false)); // padding in the middle
    EXPECT_FALSE(decode("Zg==", true));    // no padding in base64url
    EXPECT_FALSE(decode("Z", true));       // impossible length
    EXPECT_FALSE(decode("Zh", true));
    EXPECT_EQ(decode("Zg", true), std::optional<std::string>("f"));
}

TEST(Base64, OutputTooSmallIsAnError)
{
    char out[3];
    uint8_t in[3] = { 1, 2, 3 };
    EXPECT_TRUE(base64_encode(in, out).is_error());
    uint8_t decoded[2];
    EXPECT_TRUE(base64_decode("AQID", decoded).is_error());
}

TEST(Base64, RoundTripAllLengths)
{
    std::string data;
    for (int i = 0; i < 300; ++i) {
        EXPECT_EQ(decode(encode(data, false), false), data);
        EXPECT_EQ(decode(encode(data, true), true), data);
        data += char(i * 37 + 11);
    }
}
