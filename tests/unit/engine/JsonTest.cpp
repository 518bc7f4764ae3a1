#include "engine/format/Json.h"

#include <gtest/gtest.h>
#include <string>

using namespace aisos::engine;

TEST(Json, ParsesValues)
{
    std::string text = R"( {"a": [1, -2.5e3, 0.125, true, false, null], "s": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "o": {}, "e": [], "big": 12345678901234567890} )";
    auto result = JsonDocument::parse(text);
    ASSERT_FALSE(result.is_error()) << result.error().reason();
    auto& doc = result.value();
    auto const& root = doc.root();
    ASSERT_TRUE(root.is_object());
    auto const* a = doc.get(root, "a");
    ASSERT_TRUE(a && a->is_array());
    ASSERT_EQ(a->count, 6u);
    EXPECT_TRUE(doc.element(*a, 0).is_integer);
    EXPECT_EQ(doc.element(*a, 0).integer, 1);
    EXPECT_EQ(doc.element(*a, 1).number, -2500.0);
    EXPECT_FALSE(doc.element(*a, 1).is_integer);
    EXPECT_EQ(doc.element(*a, 2).number, 0.125);
    EXPECT_TRUE(doc.element(*a, 3).boolean);
    EXPECT_TRUE(doc.element(*a, 5).is_null());
    EXPECT_EQ(*doc.get_string(root, "s"), "x\"\\/\b\f\n\r\t\xC3\xA9\xF0\x9F\x98\x80");
    EXPECT_EQ(doc.get(root, "o")->count, 0u);
    EXPECT_EQ(doc.get(root, "e")->count, 0u);
    EXPECT_FALSE(doc.get(root, "big")->is_integer); // beyond int64
    EXPECT_NEAR(doc.get(root, "big")->number, 1.2345678901234567e19, 1e5);
    EXPECT_EQ(doc.get(root, "missing"), nullptr);
}

TEST(Json, NumbersConvertExactlyWhereTheyCan)
{
    auto result = JsonDocument::parse("[1e-05, 1e-6, 10000.0, 0.1, -0, 3.14159, 1E2]");
    ASSERT_FALSE(result.is_error());
    auto& doc = result.value();
    EXPECT_EQ(doc.element(doc.root(), 0).number, 1e-05);
    EXPECT_EQ(doc.element(doc.root(), 1).number, 1e-6);
    EXPECT_EQ(doc.element(doc.root(), 2).number, 10000.0);
    EXPECT_EQ(doc.element(doc.root(), 3).number, 0.1);
    EXPECT_EQ(doc.element(doc.root(), 5).number, 3.14159);
    EXPECT_EQ(doc.element(doc.root(), 6).number, 100.0);
}

TEST(Json, RejectsMalformedInput)
{
    char const* bad[] = {
        "", "   ", "[1,]", "{\"a\":1,}", "[01]", "[1.]", "[.5]", "[1e]", "[-]", "{\"a\" 1}", "{1:2}", "[1 2]",
        "\"unterminated", "\"bad escape \\q\"", "\"\\u12\"", "\"ctl \x01\"", "\"\xC3\x28\"", "\"\xE0\x80\x80\"",
        "[1] x", "tru", "nul", "[", "{", "{\"a\":", "\"\\", "[\"\xED\xA0\x80\"]",
    };
    for (auto const* text : bad) {
        auto result = JsonDocument::parse(text);
        EXPECT_TRUE(result.is_error()) << "accepted: " << text;
    }
}

TEST(Json, DepthAndSizeLimits)
{
    std::string deep(100, '[');
    deep += std::string(100, ']');
    EXPECT_TRUE(JsonDocument::parse(deep).is_error());
    JsonLimits limits;
    limits.max_depth = 200;
    EXPECT_FALSE(JsonDocument::parse(deep, limits).is_error());
    limits.max_input_bytes = 10;
    EXPECT_TRUE(JsonDocument::parse("[1,2,3,4,5,6]", limits).is_error());
    JsonLimits few;
    few.max_nodes = 3;
    EXPECT_TRUE(JsonDocument::parse("[1,2,3,4]", few).is_error());
}

TEST(Json, LoneSurrogateBecomesReplacementCharacter)
{
    auto result = JsonDocument::parse("\"a\\ud800b\"");
    ASSERT_FALSE(result.is_error());
    EXPECT_EQ(result.value().root().string, "a\xEF\xBF\xBD" "b");
}

TEST(Json, TruncationsOfAValidDocumentFail)
{
    std::string text = R"({"model": {"vocab": {"a": 0, "b": 1}, "merges": [["a", "b"], "a b"]}, "x": [1.5, true, null, "\u00e9"]})";
    ASSERT_FALSE(JsonDocument::parse(text).is_error());
    for (size_t n = 0; n < text.size(); ++n)
        EXPECT_TRUE(JsonDocument::parse(text.substr(0, n)).is_error()) << n;
}
