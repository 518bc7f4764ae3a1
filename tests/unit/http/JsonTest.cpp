#include "host/MallocAllocator.h"
#include "lib/json/GrowableBuffer.h"
#include "lib/json/JsonDocument.h"
#include "lib/json/JsonWriter.h"
#include "lib/json/Utf8.h"

#include <gtest/gtest.h>
#include <string>

using namespace aisos;
using namespace aisos::json;

static std::string write(void (*build)(JsonWriter&), bool* complete = nullptr)
{
    MallocAllocator allocator;
    GrowableBuffer buffer(allocator);
    JsonWriter json(buffer);
    build(json);
    if (complete)
        *complete = json.complete();
    return std::string(buffer.view());
}

TEST(JsonWriter, ObjectsArraysScalars)
{
    bool complete = false;
    auto text = write([](JsonWriter& json) {
        json.begin_object();
        json.member("status", "ok");
        json.member("count", int64_t(-42));
        json.member("big", uint64_t(18446744073709551615ull));
        json.member("yes", true);
        json.key("nothing");
        json.null();
        json.key("list");
        json.begin_array();
        json.integer(1);
        json.begin_object();
        json.end_object();
        json.begin_array();
        json.end_array();
        json.number_text("0.75");
        json.end_array();
        json.end_object();
    }, &complete);
    EXPECT_EQ(text, R"({"status":"ok","count":-42,"big":18446744073709551615,"yes":true,"nothing":null,"list":[1,{},[],0.75]})");
    EXPECT_TRUE(complete);
}

TEST(JsonWriter, EscapesControlCharactersAndPassesUtf8)
{
    auto text = write([](JsonWriter& json) { json.string("a\"b\\c\n\r\t\b\f\x01\x1f\x7f é 日本 😀"); });
    EXPECT_EQ(text, "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f é 日本 😀\"");
}

TEST(JsonWriter, InvalidUtf8BecomesReplacementCharacter)
{
    auto text = write([](JsonWriter& json) { json.string("x\xff" "y\xc3"); });
    EXPECT_EQ(text, "\"x\xEF\xBF\xBDy\xEF\xBF\xBD\"");
    // Surrogates encoded in UTF-8 (CESU) and overlongs are not UTF-8 either.
    auto text2 = write([](JsonWriter& json) { json.string("\xed\xa0\x80|\xc0\xaf"); });
    EXPECT_EQ(text2, "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(JsonWriter, MisuseFailsWithoutCrashing)
{
    bool complete = true;
    write([](JsonWriter& json) {
        json.begin_object();
        json.string("value without key");
    }, &complete);
    EXPECT_FALSE(complete);
    write([](JsonWriter& json) {
        json.begin_array();
        json.end_object();
    }, &complete);
    EXPECT_FALSE(complete);
    write([](JsonWriter& json) {
        json.integer(1);
        json.integer(2);
    }, &complete);
    EXPECT_FALSE(complete);
    write([](JsonWriter& json) {
        for (int i = 0; i < 100; ++i)
            json.begin_array();
    }, &complete);
    EXPECT_FALSE(complete);
    write([](JsonWriter& json) { json.number_text("01"); }, &complete);
    EXPECT_FALSE(complete);
    write([](JsonWriter& json) { json.number_text("1e"); }, &complete);
    EXPECT_FALSE(complete);
}

TEST(GrowableBuffer, LimitAndAllocationFailureAreSticky)
{
    MallocAllocator allocator;
    GrowableBuffer limited(allocator, 10);
    EXPECT_TRUE(limited.append(std::string_view("0123456789")));
    EXPECT_FALSE(limited.append(std::string_view("x")));
    EXPECT_TRUE(limited.failed());
    EXPECT_EQ(limited.size(), 10u);

    GrowableBuffer buffer(allocator);
    allocator.fail_after(0);
    EXPECT_FALSE(buffer.append(std::string_view("abc")));
    EXPECT_TRUE(buffer.failed());
    EXPECT_EQ(buffer.error().code(), ErrorCode::OutOfMemory);
    allocator.never_fail();
}

TEST(Utf8, ValidatorAcrossPieces)
{
    std::string text = "aé日😀";
    for (size_t split = 0; split <= text.size(); ++split) {
        Utf8Validator validator;
        EXPECT_TRUE(validator.feed(std::string_view(text).substr(0, split)));
        EXPECT_TRUE(validator.feed(std::string_view(text).substr(split)));
        EXPECT_TRUE(validator.complete());
    }
    Utf8Validator open;
    EXPECT_TRUE(open.feed("\xe6\x97"));
    EXPECT_FALSE(open.complete());
    // Fails at the first impossible byte, not only at the end.
    Utf8Validator early;
    EXPECT_FALSE(early.feed("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"));
    EXPECT_FALSE(is_valid_utf8(std::string_view("\xf4\x90\x80\x80"))); // above U+10FFFF
    EXPECT_FALSE(is_valid_utf8(std::string_view("\xe0\x80\xaf")));     // overlong
    EXPECT_FALSE(is_valid_utf8(std::string_view("\xf5")));
    EXPECT_TRUE(is_valid_utf8(std::string_view("\xf4\x8f\xbf\xbf")));  // U+10FFFF
    EXPECT_TRUE(is_valid_utf8(std::string_view("\xef\xbf\xbf")));
}

class JsonParse : public ::testing::Test {
protected:
    MallocAllocator allocator;
    ErrorOr<JsonDocument> parse(std::string_view text, const JsonLimits& limits = {}) { return JsonDocument::parse(allocator, text, limits); }
    bool valid(std::string_view text, const JsonLimits& limits = {}) { return !parse(text, limits).is_error(); }
};

TEST_F(JsonParse, LoginBody)
{
    auto document = parse(R"( {"user": "admin", "password": "p\u00e4ss\"w", "n": -12, "f": 0.5, "ok": true, "none": null, "list": [1, [2], {"a": 3}]} )");
    ASSERT_FALSE(document.is_error());
    auto root = document.value().root();
    ASSERT_TRUE(root.is_object());
    EXPECT_EQ(root.size(), 7u);
    EXPECT_EQ(root.get("user").as_string(), std::optional<std::string_view>("admin"));
    EXPECT_EQ(root.get("password").as_string(), std::optional<std::string_view>("päss\"w"));
    EXPECT_EQ(root.get("n").as_integer(), std::optional<int64_t>(-12));
    EXPECT_FALSE(root.get("f").as_integer());
    EXPECT_EQ(root.get("f").number_text(), "0.5");
    EXPECT_EQ(root.get("ok").as_bool(), std::optional<bool>(true));
    EXPECT_TRUE(root.get("none").is_null());
    EXPECT_TRUE(root.get("absent").is_missing());
    EXPECT_FALSE(root.get("user").as_integer());
    auto list = root.get("list");
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(list.at(0).as_integer(), std::optional<int64_t>(1));
    EXPECT_EQ(list.at(1).at(0).as_integer(), std::optional<int64_t>(2));
    EXPECT_EQ(list.at(2).get("a").as_integer(), std::optional<int64_t>(3));
    EXPECT_TRUE(list.at(3).is_missing());
    std::vector<std::string> keys;
    for (auto it = root.begin(); it != root.end(); ++it)
        keys.push_back(std::string(it.key()));
    EXPECT_EQ(keys, (std::vector<std::string> { "user", "password", "n", "f", "ok", "none", "list" }));
    EXPECT_EQ(allocator.live_allocations(), 2);
}

TEST_F(JsonParse, EscapesAndSurrogatePairs)
{
    auto document = parse(R"(["\ud83d\ude00", "\u0041\/\b\f\n\r\t", "\u0000x"])");
    ASSERT_FALSE(document.is_error());
    auto root = document.value().root();
    EXPECT_EQ(root.at(0).as_string(), std::optional<std::string_view>("😀"));
    EXPECT_EQ(root.at(1).as_string(), std::optional<std::string_view>("A/\b\f\n\r\t"));
    EXPECT_EQ(root.at(2).as_string(), std::optional<std::string_view>(std::string_view("\0x", 2)));
    EXPECT_FALSE(valid(R"(["\ud83d"])"));        // lone high surrogate
    EXPECT_FALSE(valid(R"(["\ude00"])"));        // lone low surrogate
    EXPECT_FALSE(valid(R"(["\ud83d\u0041"])"));  // high + non-low
    EXPECT_FALSE(valid(R"(["\ud83dx"])"));
    EXPECT_FALSE(valid(R"(["\u12"])"));
    EXPECT_FALSE(valid(R"(["\x41"])"));
    EXPECT_FALSE(valid(R"(["\uZZZZ"])"));
}

TEST_F(JsonParse, RejectsWhatTheGrammarDoesNot)
{
    const char* bad[] = {
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{'a':1}", "[01]", "[1.]", "[.5]", "[1e]", "[-]", "[+1]",
        "NaN", "[Infinity]", "tru", "nul", "[true false]", "{\"a\" 1}", "{1:2}", "[1] x", "// c\n1",
        "\"tab\there\"", "\"line\nbreak\"", "\xef\xbb\xbf{}", "[\"\xff\"]", "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]", "{\"a\":}", "[,1]",
    };
    for (auto* text : bad)
        EXPECT_FALSE(valid(text)) << text;
    const char* good[] = { "0", "-0", "1e5", "-1.25E-3", "\"\"", "[]", "{}", "null", " [ 1 , 2 ] ", "{\"\":0}", "[\"é日😀\"]" };
    for (auto* text : good)
        EXPECT_TRUE(valid(text)) << text;
}

TEST_F(JsonParse, IntegersAtTheEdges)
{
    auto document = parse("[9223372036854775807, -9223372036854775808, 9223372036854775808, 123456789012345678901234, 1e2]");
    ASSERT_FALSE(document.is_error());
    auto root = document.value().root();
    EXPECT_EQ(root.at(0).as_integer(), std::optional<int64_t>(INT64_MAX));
    EXPECT_EQ(root.at(1).as_integer(), std::optional<int64_t>(INT64_MIN));
    EXPECT_FALSE(root.at(2).as_integer());
    EXPECT_FALSE(root.at(3).as_integer());
    EXPECT_EQ(root.at(3).number_text(), "123456789012345678901234");
    EXPECT_FALSE(root.at(4).as_integer());
}

TEST_F(JsonParse, LimitsAreEnforced)
{
    JsonLimits limits;
    limits.max_depth = 4;
    EXPECT_TRUE(valid("[[[[1]]]]", limits));
    EXPECT_FALSE(valid("[[[[[1]]]]]", limits));
    // Deep nesting far beyond any limit never overflows the stack.
    std::string deep(100000, '[');
    EXPECT_FALSE(valid(deep));
    limits = {};
    limits.max_values = 3;
    EXPECT_TRUE(valid("[1,2]", limits));
    EXPECT_FALSE(valid("[1,2,3]", limits));
    EXPECT_FALSE(valid("{\"a\":1,\"b\":2}", limits)); // keys count
    limits = {};
    limits.max_size = 5;
    EXPECT_FALSE(valid("[1, 2]", limits));
    limits = {};
    limits.max_string_length = 3;
    EXPECT_TRUE(valid("[\"abc\"]", limits));
    EXPECT_FALSE(valid("[\"abcd\"]", limits));
    size_t offset = 0;
    EXPECT_TRUE(JsonDocument::validate("[1, x]", {}, &offset).is_error());
    EXPECT_EQ(offset, 4u);
}

TEST_F(JsonParse, AllocationFailureIsAnError)
{
    for (long n = 0; n < 2; ++n) {
        allocator.fail_after(n);
        auto document = parse("{\"a\": [1, 2, \"x\"]}");
        EXPECT_TRUE(document.is_error());
        EXPECT_EQ(document.error().code(), ErrorCode::OutOfMemory);
    }
    allocator.never_fail();
    EXPECT_EQ(allocator.live_allocations(), 0);
}

TEST_F(JsonParse, WriterOutputParsesBack)
{
    GrowableBuffer buffer(allocator);
    JsonWriter json(buffer);
    json.begin_object();
    json.member("text", std::string_view("ctl\x01\x1f \"q\" \\ é"));
    json.end_object();
    auto document = parse(buffer.view());
    ASSERT_FALSE(document.is_error());
    EXPECT_EQ(document.value().root().get("text").as_string(), std::optional<std::string_view>(std::string_view("ctl\x01\x1f \"q\" \\ é")));
}
