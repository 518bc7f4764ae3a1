// libFuzzer target: GGUF parsing, then the tokenizer loader over the result.
#include "engine/format/Gguf.h"
#include "engine/tokenizer/Tokenizer.h"

using namespace aisos::engine;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    auto file = GgufFile::parse(data, size);
    if (file.is_error())
        return 0;
    for (auto const& tensor : file.value().tensors())
        (void)tensor.bytes;
    Tokenizer tokenizer;
    if (!Tokenizer::load_from_gguf(file.value(), tokenizer).is_error()) {
        Vector<u32> ids;
        (void)tokenizer.encode("Hello world 123 <|im_start|> \xC3\xA9", ids);
        Vector<char> text;
        (void)tokenizer.decode(ids.data(), ids.size(), text);
    }
    return 0;
}
