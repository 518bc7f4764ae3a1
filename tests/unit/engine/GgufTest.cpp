#include "GgufBuilder.h"
#include "engine/format/Gguf.h"

#include <gtest/gtest.h>

using namespace aisos;
using namespace aisos::engine;
using aisos::engine::test::GgufBuilder;

namespace {

std::vector<uint8_t> floats(size_t n, float start = 0)
{
    std::vector<uint8_t> out(n * 4);
    for (size_t i = 0; i < n; ++i) {
        float v = start + static_cast<float>(i);
        std::memcpy(out.data() + 4 * i, &v, 4);
    }
    return out;
}

GgufBuilder good_builder()
{
    GgufBuilder b;
    b.add_string("general.architecture", "llama");
    b.add_u32("llama.block_count", 2);
    b.add_i32("some.negative", -5);
    b.add_f32("llama.rope.freq_base", 10000.0f);
    b.add_bool("tokenizer.ggml.add_bos_token", true);
    b.add_u64("big", 1ull << 40);
    b.add_string_array("tokenizer.ggml.tokens", { "a", "b", "" , "\xE2\x96\x81x" });
    b.add_array<float>("tokenizer.ggml.scores", 6, { 0.5f, -1.0f, 0.0f, 2.0f });
    b.add_array<int32_t>("tokenizer.ggml.token_type", 5, { 1, 1, 3, 6 });
    // A nested array: array of arrays of u8.
    std::vector<uint8_t> nested;
    GgufBuilder::put(nested, uint32_t(9));
    GgufBuilder::put(nested, uint64_t(2));
    for (int i = 0; i < 2; ++i) {
        GgufBuilder::put(nested, uint32_t(0));
        GgufBuilder::put(nested, uint64_t(3));
        nested.insert(nested.end(), { 1, 2, 3 });
    }
    b.add_raw("nested", 9, nested);
    b.add_tensor("q", { 32, 1 }, 8, std::vector<uint8_t>(34, 1));
    // Last, and a multiple of the alignment: the file ends where its data does.
    b.add_tensor("w", { 4, 2 }, 0, floats(8));
    return b;
}

} // namespace

TEST(Gguf, ParsesMetadataAndTensors)
{
    auto bytes = good_builder().build();
    auto result = GgufFile::parse(bytes.data(), bytes.size());
    ASSERT_FALSE(result.is_error()) << result.error().reason();
    auto& file = result.value();
    EXPECT_EQ(file.version(), 3u);
    EXPECT_EQ(*file.get_string("general.architecture"), "llama");
    EXPECT_EQ(*file.get_uint("llama.block_count"), 2u);
    EXPECT_EQ(*file.get_int("some.negative"), -5);
    EXPECT_FALSE(file.get_uint("some.negative").has_value());
    EXPECT_FLOAT_EQ(static_cast<float>(*file.get_float("llama.rope.freq_base")), 10000.0f);
    EXPECT_TRUE(*file.get_bool("tokenizer.ggml.add_bos_token"));
    EXPECT_EQ(*file.get_uint("big"), 1ull << 40);
    auto tokens = file.get_string_array("tokenizer.ggml.tokens");
    ASSERT_TRUE(tokens.has_value());
    ASSERT_EQ(tokens->size(), 4u);
    EXPECT_EQ(tokens->next(), "a");
    EXPECT_EQ(tokens->next(), "b");
    EXPECT_EQ(tokens->next(), "");
    EXPECT_EQ(tokens->next(), "\xE2\x96\x81x");
    auto const* scores = file.get_array("tokenizer.ggml.scores", GgufValueType::F32);
    ASSERT_NE(scores, nullptr);
    EXPECT_FLOAT_EQ(static_cast<float>(gguf_array_number(*scores, 3)), 2.0f);
    auto const* types = file.get_array("tokenizer.ggml.token_type", GgufValueType::I32);
    ASSERT_NE(types, nullptr);
    EXPECT_EQ(gguf_array_int(*types, 2), 3);
    EXPECT_EQ(file.find("nested")->length, 2u);
    ASSERT_EQ(file.tensors().size(), 2u);
    auto const* w = file.find_tensor("w");
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->shape[0], 4u);
    EXPECT_EQ(w->shape[1], 2u);
    EXPECT_EQ(w->bytes, 32u);
    float third;
    std::memcpy(&third, w->data + 8, 4);
    EXPECT_EQ(third, 2.0f);
    EXPECT_EQ(file.find_tensor("q")->type, TensorType::Q8_0);
    EXPECT_EQ(file.find_tensor("missing"), nullptr);
}

TEST(Gguf, VersionTwoAndCustomAlignment)
{
    GgufBuilder b(2);
    b.set_alignment(64);
    b.add_u32("general.alignment", 64);
    b.add_tensor("a", { 3 }, 0, floats(3));
    b.add_tensor("b", { 5 }, 0, floats(5, 10));
    auto bytes = b.build();
    auto result = GgufFile::parse(bytes.data(), bytes.size());
    ASSERT_FALSE(result.is_error()) << result.error().reason();
    EXPECT_EQ(result.value().alignment(), 64u);
    float v;
    std::memcpy(&v, result.value().find_tensor("b")->data, 4);
    EXPECT_EQ(v, 10.0f);
}

TEST(Gguf, EveryTruncationIsAnErrorNotACrash)
{
    auto bytes = good_builder().build();
    for (size_t size = 0; size < bytes.size(); ++size) {
        std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<long>(size));
        auto result = GgufFile::parse(prefix.data(), prefix.size());
        EXPECT_TRUE(result.is_error()) << "prefix of " << size << " bytes parsed";
    }
}

TEST(Gguf, EverySingleByteCorruptionIsHandled)
{
    // Not every flip is detectable (it may hit tensor data), but none may crash.
    auto bytes = good_builder().build();
    for (size_t i = 0; i < bytes.size(); ++i) {
        auto copy = bytes;
        copy[i] ^= 0xFF;
        auto result = GgufFile::parse(copy.data(), copy.size());
        (void)result;
    }
}

static Error parse_error(GgufBuilder const& b)
{
    auto bytes = b.build();
    auto result = GgufFile::parse(bytes.data(), bytes.size());
    EXPECT_TRUE(result.is_error());
    return result.is_error() ? result.error() : Error::invalid("parsed");
}

TEST(Gguf, RejectsBadInput)
{
    {
        auto bytes = good_builder().build();
        bytes[0] = 'X';
        auto result = GgufFile::parse(bytes.data(), bytes.size());
        ASSERT_TRUE(result.is_error());
        EXPECT_STREQ(result.error().reason(), "not a GGUF file (bad magic)");
    }
    EXPECT_EQ(parse_error(GgufBuilder(1)).code(), ErrorCode::Unsupported);
    {
        GgufBuilder b;
        b.add_tensor("x", { 4 }, 99, floats(4)); // unknown type
        EXPECT_EQ(parse_error(b).code(), ErrorCode::Unsupported);
    }
    {
        GgufBuilder b;
        b.add_tensor("x", { 33 }, 8, std::vector<uint8_t>(68)); // Q8_0 row of 33
        EXPECT_EQ(parse_error(b).code(), ErrorCode::Corrupt);
    }
    {
        GgufBuilder b;
        b.add_tensor("x", {}, 0, floats(1)); // zero dimensions
        parse_error(b);
    }
    {
        GgufBuilder b;
        b.add_tensor("x", { 1, 1, 1, 1, 1 }, 0, floats(1)); // five dimensions
        parse_error(b);
    }
    {
        GgufBuilder b;
        b.add_tensor("x", { 0 }, 0, {});
        parse_error(b);
    }
    {
        GgufBuilder b;
        b.add_tensor("x", { 4 }, 0, floats(4));
        b.add_tensor("x", { 4 }, 0, floats(4));
        EXPECT_STREQ(parse_error(b).reason(), "GGUF tensor name appears twice");
    }
    {
        GgufBuilder b;
        b.add_tensor("x", { 1ull << 30, 1ull << 20 }, 0, floats(4)); // data far past the end
        parse_error(b);
    }
    {
        GgufBuilder b;
        b.add_u32("general.alignment", 3);
        EXPECT_STREQ(parse_error(b).reason(), "general.alignment is not a power of two");
    }
    {
        GgufBuilder b;
        b.add_raw("bad.type", 13, { 0, 0, 0, 0 });
        parse_error(b);
    }
    {
        // Array claiming 2^60 strings.
        std::vector<uint8_t> bytes;
        GgufBuilder::put(bytes, uint32_t(8));
        GgufBuilder::put(bytes, uint64_t(1) << 60);
        GgufBuilder b;
        b.add_raw("huge", 9, bytes);
        EXPECT_STREQ(parse_error(b).reason(), "GGUF array count is larger than the file");
    }
    {
        // Arrays nested deeper than the limit.
        std::vector<uint8_t> bytes;
        for (int i = 0; i < 8; ++i) {
            GgufBuilder::put(bytes, uint32_t(9));
            GgufBuilder::put(bytes, uint64_t(1));
        }
        GgufBuilder::put(bytes, uint32_t(0));
        GgufBuilder::put(bytes, uint64_t(0));
        GgufBuilder b;
        b.add_raw("deep", 9, std::vector<uint8_t>(bytes.begin() + 12, bytes.end()));
        // The first level's header is the value's own type prefix.
        std::vector<uint8_t> value(bytes.begin(), bytes.end());
        GgufBuilder c;
        c.add_raw("deep", 9, std::vector<uint8_t>(value.begin(), value.end()));
        parse_error(c);
    }
    {
        // Absurd tensor and metadata counts in the header.
        std::vector<uint8_t> bytes = { 'G', 'G', 'U', 'F' };
        GgufBuilder::put(bytes, uint32_t(3));
        GgufBuilder::put(bytes, uint64_t(1) << 50);
        GgufBuilder::put(bytes, uint64_t(0));
        auto result = GgufFile::parse(bytes.data(), bytes.size());
        ASSERT_TRUE(result.is_error());
        EXPECT_STREQ(result.error().reason(), "GGUF tensor count is absurd");
    }
}
