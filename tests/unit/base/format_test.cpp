#include "lib/base/Format.h"

#include <gtest/gtest.h>
#include <string>

using namespace aisos;

template<typename... Args>
static std::string fmt(std::string_view f, const Args&... args)
{
    char buffer[256];
    return std::string(format_to(buffer, sizeof(buffer), f, args...));
}

TEST(Format, Integers)
{
    EXPECT_EQ(fmt("{} {} {}", 0, -42, 18446744073709551615ull), "0 -42 18446744073709551615");
    EXPECT_EQ(fmt("{}", INT64_MIN), "-9223372036854775808");
    EXPECT_EQ(fmt("{:x} {:X} {:#x} {:b}", 255, 255, 255, 5), "ff FF 0xff 101");
    EXPECT_EQ(fmt("{:08x}", 0xbeefu), "0000beef");
    EXPECT_EQ(fmt("{:#018x}", 0xffffffff80000000ull), "0xffffffff80000000");
    EXPECT_EQ(fmt("{:#06x}", 0x1fu), "0x001f");
    EXPECT_EQ(fmt("{:05}", -42), "-0042");
    EXPECT_EQ(fmt("{:>6}|{:<6}|", 42, 42), "    42|42    |");
}

TEST(Format, TextAndOthers)
{
    EXPECT_EQ(fmt("{} {} {}", "abc", std::string_view("xy"), 'z'), "abc xy z");
    EXPECT_EQ(fmt("{:>5}|{:<5}|{:*>5}", "ab", "ab", "ab"), "   ab|ab   |***ab");
    EXPECT_EQ(fmt("{} {}", true, false), "true false");
    EXPECT_EQ(fmt("{}", (void*)0x1000), "0x1000");
    EXPECT_EQ(fmt("{}", (const char*)nullptr), "(null)");
    EXPECT_EQ(fmt("{{}} {}", 1), "{} 1");
}

TEST(Format, MissingArgumentsAndBrokenFields)
{
    EXPECT_EQ(fmt("a {} b {}", 1), "a 1 b {?}");
    EXPECT_EQ(fmt("unterminated {", 1), "unterminated {");
    EXPECT_EQ(fmt("extra", 1, 2), "extra");
}

TEST(Format, TruncatesSafely)
{
    char buffer[8];
    BufferSink sink(buffer, sizeof(buffer));
    format(sink, "0123456789 {}", 12345);
    EXPECT_TRUE(sink.truncated());
    EXPECT_EQ(std::string(sink.view()), "0123456");
    EXPECT_EQ(buffer[7], 0);
}
