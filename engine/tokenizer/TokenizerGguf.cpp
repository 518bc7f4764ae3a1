// Tokenizer from GGUF metadata (tokenizer.ggml.*), following llama.cpp's
// interpretation of the keys.

#include "engine/format/Gguf.h"
#include "engine/tokenizer/Tokenizer.h"

namespace aisos::engine {

static constexpr u64 s_max_vocab = 1 << 22;

ErrorOr<void> Tokenizer::load_from_gguf(GgufFile const& gguf, Tokenizer& t)
{
    auto model = gguf.get_string("tokenizer.ggml.model");
    if (!model)
        return Error::corrupt("GGUF has no tokenizer.ggml.model");
    if (*model == "gpt2") {
        t.m_kind = TokenizerKind::ByteLevelBpe;
        t.m_priority = MergePriority::Rank;
        auto pre = gguf.get_string("tokenizer.ggml.pre").value_or("default");
        if (pre == "default" || pre == "gpt2" || pre == "gpt-2") {
            t.m_pre = { PreTokenizerRegex::Gpt2, false };
        } else if (pre == "smollm") {
            t.m_pre = { PreTokenizerRegex::Gpt2, true };
        } else if (pre == "llama3" || pre == "llama-bpe" || pre == "llama-v3") {
            t.m_pre = { PreTokenizerRegex::Llama3, false };
            t.m_ignore_merges = true;
        } else if (pre == "qwen2") {
            t.m_pre = { PreTokenizerRegex::Qwen2, false };
        } else {
            return Error::unsupported("unsupported tokenizer.ggml.pre (known: default, gpt2, smollm, llama-bpe, qwen2)");
        }
    } else if (*model == "llama") {
        t.m_kind = TokenizerKind::SentencePieceBpe;
        t.m_priority = MergePriority::Score;
        t.m_replace_spaces = true;
        t.m_byte_fallback = true;
        bool add_space_prefix = gguf.get_bool("tokenizer.ggml.add_space_prefix").value_or(true);
        t.m_space_prefix = add_space_prefix ? SpacePrefix::EveryPiece : SpacePrefix::None;
        t.m_strip_leading_space = add_space_prefix;
    } else {
        return Error::unsupported("unsupported tokenizer.ggml.model (need gpt2 or llama)");
    }

    auto tokens = gguf.get_string_array("tokenizer.ggml.tokens");
    if (!tokens || tokens->size() == 0)
        return Error::corrupt("GGUF has no tokenizer.ggml.tokens");
    u64 count = tokens->size();
    if (count > s_max_vocab)
        return Error::corrupt("GGUF vocabulary is absurdly large");
    auto const* scores = gguf.get_array("tokenizer.ggml.scores", GgufValueType::F32);
    if (scores && scores->length != count)
        return Error::corrupt("tokenizer.ggml.scores has a different length than the tokens");
    auto const* types = gguf.get_array("tokenizer.ggml.token_type", GgufValueType::I32);
    if (types && (types->length != count || !gguf_is_integer_type(types->element_type)))
        return Error::corrupt("tokenizer.ggml.token_type has a different length than the tokens");
    TRY(t.m_tokens.try_reserve(count));
    TRY(t.m_token_ids.try_reserve(count));
    auto walker = *tokens;
    for (u64 i = 0; i < count; ++i) {
        std::string_view text = walker.next();
        float score = scores ? static_cast<float>(gguf_array_number(*scores, i)) : 0.0f;
        i64 raw_type = types ? gguf_array_int(*types, i) : 1;
        TokenKind kind = (raw_type >= 1 && raw_type <= 6) ? static_cast<TokenKind>(raw_type) : TokenKind::Normal;
        TRY(t.add_token(text, score, kind));
    }

    if (t.m_kind == TokenizerKind::ByteLevelBpe) {
        auto merges = gguf.get_string_array("tokenizer.ggml.merges");
        if (!merges)
            return Error::corrupt("GGUF gpt2 tokenizer has no tokenizer.ggml.merges");
        TRY(t.m_merges.try_reserve(merges->size()));
        auto merge_walker = *merges;
        for (u64 i = 0; i < merges->size(); ++i) {
            std::string_view merge = merge_walker.next();
            size_t space = merge.find(' ', 1);
            if (space == std::string_view::npos)
                return Error::corrupt("GGUF merge is not two tokens separated by a space");
            TRY(t.add_merge(merge.substr(0, space), merge.substr(space + 1), static_cast<u32>(i)));
        }
    }

    auto token_id = [&](char const* key) -> ErrorOr<std::optional<u32>> {
        auto value = gguf.get_int(key);
        if (!value)
            return std::optional<u32> {};
        if (*value == -1)
            return std::optional<u32> {};
        if (*value < 0 || static_cast<u64>(*value) >= count)
            return Error::corrupt("GGUF special token id is outside the vocabulary");
        return std::optional<u32>(static_cast<u32>(*value));
    };
    t.m_bos = TRY(token_id("tokenizer.ggml.bos_token_id"));
    t.m_eos = TRY(token_id("tokenizer.ggml.eos_token_id"));
    t.m_unknown = TRY(token_id("tokenizer.ggml.unknown_token_id"));
    auto eot = TRY(token_id("tokenizer.ggml.eot_token_id"));
    TRY(t.finish_setup());
    if (eot)
        TRY(t.add_end_of_generation(*eot));
    bool add_bos = gguf.get_bool("tokenizer.ggml.add_bos_token").value_or(t.m_kind == TokenizerKind::SentencePieceBpe);
    if (add_bos && t.m_bos)
        TRY(t.set_prefix_tokens(&*t.m_bos, 1));
    return {};
}

} // namespace aisos::engine
