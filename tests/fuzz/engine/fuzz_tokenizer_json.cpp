// libFuzzer target: tokenizer.json loading, then encode/decode with it.
#include "engine/tokenizer/Tokenizer.h"

#include <string_view>

using namespace aisos::engine;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    // The first bytes up to a NUL are the text to encode; the rest is the JSON.
    std::string_view all(reinterpret_cast<char const*>(data), size);
    size_t split = all.find('\0');
    std::string_view text = split == std::string_view::npos ? std::string_view("Hello, world! 12 ab") : all.substr(0, split);
    std::string_view json = split == std::string_view::npos ? all : all.substr(split + 1);
    Tokenizer tokenizer;
    if (Tokenizer::load_from_json(json, tokenizer).is_error())
        return 0;
    Vector<u32> ids;
    if (tokenizer.encode(text, ids).is_error())
        return 0;
    Vector<char> decoded;
    (void)tokenizer.decode(ids.data(), ids.size(), decoded);
    return 0;
}
