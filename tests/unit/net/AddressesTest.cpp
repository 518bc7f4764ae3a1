#include "lib/net/Addresses.h"

#include <gtest/gtest.h>

using namespace aisos::net;

TEST(Ipv4Address, ParsesDottedDecimal)
{
    auto address = parse_ipv4("10.0.2.15");
    ASSERT_FALSE(address.is_error());
    EXPECT_EQ(address.value(), Ipv4Address::from_octets(10, 0, 2, 15));
    EXPECT_EQ(address.value().value, 0x0a00020fu);
    EXPECT_EQ(parse_ipv4("255.255.255.255").value(), Ipv4Address::broadcast());
    EXPECT_EQ(parse_ipv4("0.0.0.0").value(), Ipv4Address::any());
}

TEST(Ipv4Address, RejectsMalformedText)
{
    for (const char* text : { "", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "1..2.3", "01.2.3.4", "1.2.3.-4", "1.2.3.4.", "a.b.c.d", "1.2.3.1000", "1,2,3,4" }) {
        auto result = parse_ipv4(text);
        EXPECT_TRUE(result.is_error()) << text;
        if (result.is_error()) {
            EXPECT_EQ(result.error().code(), aisos::ErrorCode::InvalidArgument);
        }
    }
}

TEST(Ipv4Address, FormatsAndRoundTrips)
{
    char buffer[16];
    EXPECT_EQ(format_ipv4(Ipv4Address::from_octets(192, 168, 100, 254), buffer, sizeof(buffer)), "192.168.100.254");
    EXPECT_EQ(format_ipv4(Ipv4Address::broadcast(), buffer, sizeof(buffer)), "255.255.255.255");
    EXPECT_EQ(parse_ipv4(format_ipv4(Ipv4Address { 0x01020304 }, buffer, sizeof(buffer))).value().value, 0x01020304u);
    char small[8];
    auto truncated = format_ipv4(Ipv4Address::broadcast(), small, sizeof(small));
    EXPECT_LT(truncated.size(), sizeof(small));
}

TEST(Ipv4Address, PrefixMasks)
{
    EXPECT_EQ(prefix_mask(0), 0u);
    EXPECT_EQ(prefix_mask(8), 0xff000000u);
    EXPECT_EQ(prefix_mask(24), 0xffffff00u);
    EXPECT_EQ(prefix_mask(32), 0xffffffffu);
    EXPECT_EQ(prefix_mask(40), 0xffffffffu);
}

TEST(MacAddress, FormatsAndParses)
{
    MacAddress mac { { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef } };
    char buffer[18];
    EXPECT_EQ(format_mac(mac, buffer, sizeof(buffer)), "52:54:00:ab:cd:ef");
    EXPECT_EQ(parse_mac("52:54:00:AB:cd:ef").value(), mac);
    EXPECT_EQ(parse_mac("52-54-00-ab-cd-ef").value(), mac);
    EXPECT_TRUE(parse_mac("52:54:00:ab:cd").is_error());
    EXPECT_TRUE(parse_mac("52:54:00:ab:cd:eg").is_error());
    EXPECT_TRUE(parse_mac("52:54:00:ab:cd:ef:").is_error());
    EXPECT_TRUE(MacAddress::broadcast().is_broadcast());
    EXPECT_TRUE(MacAddress::broadcast().is_group());
    EXPECT_TRUE((MacAddress { { 0x01, 0x00, 0x5e, 0, 0, 1 } }).is_group());
    EXPECT_FALSE(mac.is_group());
}
