#include "engine/format/Safetensors.h"

#include <cstring>
#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace aisos;
using namespace aisos::engine;

static std::vector<uint8_t> make_file(std::string const& header, std::vector<uint8_t> const& data)
{
    std::vector<uint8_t> out(8);
    uint64_t length = header.size();
    std::memcpy(out.data(), &length, 8);
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

static std::vector<uint8_t> data_bytes(size_t n)
{
    std::vector<uint8_t> data(n);
    for (size_t i = 0; i < n; ++i)
        data[i] = static_cast<uint8_t>(i);
    return data;
}

TEST(Safetensors, ParsesTensors)
{
    std::string header = R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]},"c":{"dtype":"F16","shape":[],"data_offsets":[32,34]}}  )";
    auto file = make_file(header, data_bytes(34));
    auto result = SafetensorsFile::parse(file.data(), file.size());
    ASSERT_FALSE(result.is_error()) << result.error().reason();
    auto& st = result.value();
    ASSERT_EQ(st.tensors().size(), 3u);
    auto const* a = st.find_tensor("a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->type, TensorType::F32);
    EXPECT_EQ(a->shape[0], 3u); // innermost first
    EXPECT_EQ(a->shape[1], 2u);
    EXPECT_EQ(a->data[0], 0);
    auto const* b = st.find_tensor("b");
    EXPECT_EQ(b->type, TensorType::BF16);
    EXPECT_EQ(b->data[0], 24);
    EXPECT_EQ(st.find_tensor("c")->element_count(), 1u);
}

TEST(Safetensors, RejectsBadFiles)
{
    struct Case {
        std::string header;
        size_t data;
    };
    Case cases[] = {
        { R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", 8 },
        { R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8 },
        { R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4 },
        { R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8 },
        { R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8 },
        { R"({"a":{"dtype":"F32","shape":[1,1,1,1,1],"data_offsets":[0,4]}})", 4 },
        { R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", 4 },
        { R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4 },
        { R"({"a":[1,2]})", 4 },
        { R"([1,2])", 4 },
        { R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})", 4 },
        { R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4 },
    };
    for (auto const& c : cases) {
        auto file = make_file(c.header, data_bytes(c.data));
        EXPECT_TRUE(SafetensorsFile::parse(file.data(), file.size()).is_error()) << c.header;
    }
    std::vector<uint8_t> short_file = { 1, 2, 3 };
    EXPECT_TRUE(SafetensorsFile::parse(short_file.data(), short_file.size()).is_error());
    std::vector<uint8_t> huge_header(16, 0xFF);
    auto result = SafetensorsFile::parse(huge_header.data(), huge_header.size());
    ASSERT_TRUE(result.is_error());
    EXPECT_STREQ(result.error().reason(), "safetensors header length is absurd");
}

TEST(Safetensors, EveryTruncationFails)
{
    std::string header = R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})";
    auto file = make_file(header, data_bytes(24));
    ASSERT_FALSE(SafetensorsFile::parse(file.data(), file.size()).is_error());
    for (size_t n = 0; n < file.size(); ++n)
        EXPECT_TRUE(SafetensorsFile::parse(file.data(), n).is_error()) << n;
}
