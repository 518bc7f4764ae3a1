// libFuzzer target: the strict JSON parser as used for HF config.json, plus
// the typed lookups the model loader makes.
#include "engine/format/Json.h"

using namespace aisos::engine;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    auto doc = JsonDocument::parse(std::string_view(reinterpret_cast<char const*>(data), size));
    if (doc.is_error())
        return 0;
    auto const& d = doc.value();
    auto const& root = d.root();
    (void)d.get_integer(root, "hidden_size");
    (void)d.get_number(root, "rms_norm_eps");
    (void)d.get_string(root, "model_type");
    (void)d.get_bool(root, "tie_word_embeddings");
    if (auto const* list = d.get(root, "architectures"); list && list->is_array()) {
        for (u32 i = 0; i < list->count; ++i)
            (void)d.element(*list, i).string.size();
    }
    if (root.is_object()) {
        for (u32 i = 0; i < root.count; ++i)
            (void)d.member_key(root, i).size();
    }
    return 0;
}
