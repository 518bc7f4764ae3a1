#include "lib/net/Checksum.h"
#include "lib/net/SipHash.h"
#include "NetTestHarness.h"

#include <gtest/gtest.h>

using namespace aisos::net;
using namespace aisos::net::test;

TEST(Checksum, Rfc1071Example)
{
    // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
    uint8_t data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    EXPECT_EQ(internet_checksum(data), static_cast<uint16_t>(~0xddf2));
}

TEST(Checksum, KnownIpv4Header)
{
    // A classic example header whose checksum field is b861.
    uint8_t header[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
    EXPECT_EQ(internet_checksum(header), 0xb861);
    header[10] = 0xb8;
    header[11] = 0x61;
    EXPECT_EQ(internet_checksum(header), 0);
}

TEST(Checksum, MatchesReferenceForEveryLengthAndSplit)
{
    uint64_t seed = 7;
    for (size_t length = 0; length < 300; ++length) {
        Bytes data(length);
        for (auto& byte : data)
            byte = static_cast<uint8_t>(test_random(&seed));
        uint16_t expected = reference_checksum(data);
        EXPECT_EQ(internet_checksum(data), expected) << length;
        // Any split into three pieces, odd boundaries included.
        for (size_t a = 0; a <= length; a += 7) {
            size_t b = a + (length - a) / 3;
            ChecksumAccumulator sum;
            sum.add(std::span<const uint8_t>(data).subspan(0, a));
            sum.add(std::span<const uint8_t>(data).subspan(a, b - a));
            sum.add(std::span<const uint8_t>(data).subspan(b));
            EXPECT_EQ(sum.finish(), expected) << length << " split " << a << "," << b;
        }
    }
}

TEST(Checksum, PseudoHeaderMatchesReference)
{
    Bytes segment = { 1, 2, 3, 4, 5, 6, 7 };
    ChecksumAccumulator sum;
    add_pseudo_header(sum, stack_ip.value, remote_ip.value, 6, static_cast<uint16_t>(segment.size()));
    sum.add(segment);
    EXPECT_EQ(sum.finish(), reference_checksum(segment, pseudo_sum(stack_ip, remote_ip, 6, segment.size())));
}

TEST(SipHash, ReferenceVectors)
{
    // SipHash-2-4 paper, appendix A: key 00..0f, messages 00..(n-1).
    SipKey key { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
    uint8_t message[15];
    for (int i = 0; i < 15; ++i)
        message[i] = static_cast<uint8_t>(i);
    EXPECT_EQ(siphash24(key, { message, 0 }), 0x726fdb47dd0e0e31ull);
    EXPECT_EQ(siphash24(key, { message, 15 }), 0xa129ca6149be45e5ull);
}
