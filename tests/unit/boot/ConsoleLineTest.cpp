#include "boot/Console.h"

#include <gtest/gtest.h>

#include <string>

using namespace aisos::boot;

namespace {

std::string ascii(const Line& line)
{
    char text[300];
    line.copy_ascii(text, sizeof(text));
    return text;
}

template<typename... Parts>
std::string format(Parts... parts)
{
    Line line;
    (line.append(parts), ...);
    return ascii(line);
}

} // namespace

TEST(ConsoleLine, FormatsNumbers)
{
    EXPECT_EQ(format(Hex { 0 }), "0x0");
    EXPECT_EQ(format(Hex { 0x7f77d014 }), "0x7f77d014");
    EXPECT_EQ(format(Hex { 0xffffffff80000000ull }), "0xffffffff80000000");
    EXPECT_EQ(format(Decimal { 0 }), "0");
    EXPECT_EQ(format(Decimal { 18446744073709551615ull }), "18446744073709551615");
    EXPECT_EQ(format("a", Decimal { 12 }, "b", u"\\aisos"), "a12b\\aisos");
}

TEST(ConsoleLine, PicksAReadableSizeUnit)
{
    EXPECT_EQ(format(Size { 694 }), "694 bytes");
    EXPECT_EQ(format(Size { 16383 }), "16383 bytes");
    EXPECT_EQ(format(Size { 16384 }), "16 KiB");
    EXPECT_EQ(format(Size { 256000 }), "250 KiB");
    EXPECT_EQ(format(Size { 60000000 }), "57 MiB");
}

TEST(ConsoleLine, CutsOverlongLinesInsteadOfOverrunning)
{
    Line line;
    for (int i = 0; i < 100; ++i)
        line.append("0123456789");
    std::string text = ascii(line);
    EXPECT_EQ(text.size(), 253u); // capacity 256 minus room for "\r\n" and NUL
    EXPECT_EQ(text.substr(0, 10), "0123456789");
}

TEST(ConsoleLine, NonAsciiBecomesQuestionMark)
{
    EXPECT_EQ(format(u"caf\u00e9"), "caf?");
}
