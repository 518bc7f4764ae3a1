// Tokenizer from an HF tokenizer.json: model BPE (vocab, merges in either
// encoding, byte_fallback, ignore_merges), added_tokens, the normalizer /
// pre_tokenizer / decoder components our model families use (Unicode
// normalizers NFC/NFKC/NFD/NFKD included), and the BOS
// prefix from a TemplateProcessing post-processor.

#include "engine/format/Json.h"
#include "engine/tokenizer/Tokenizer.h"

namespace aisos::engine {

namespace {

constexpr u64 s_max_vocab = 1 << 22;
constexpr std::string_view s_metaspace = "\xE2\x96\x81";

// The regexes HF tokenizer.json files spell out in Split pre-tokenizers.
constexpr std::string_view s_llama3_regex = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view s_qwen2_regex = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view s_gpt2_regex = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

struct Components {
    bool byte_level { false };
    bool byte_level_regex { false };
    PreTokenizerRegex split_regex { PreTokenizerRegex::None };
    bool split_digits { false };
    bool prepend_metaspace { false };
    bool replace_space { false };
    SpacePrefix metaspace_prefix { SpacePrefix::None };
    bool metaspace { false };
    bool metaspace_split { false };
    bool strip_leading_space { false };
    NormalizationForm normalization { NormalizationForm::None };
    bool normalize_after_spaces { false };
};

// Two Unicode normalizers in a row: compatibility if either is, composed
// if the second composes (NFC after NFKD is NFKC, NFD after NFC is NFD).
NormalizationForm combine_forms(NormalizationForm first, NormalizationForm second)
{
    if (first == NormalizationForm::None)
        return second;
    bool compatibility = first == NormalizationForm::Nfkc || first == NormalizationForm::Nfkd || second == NormalizationForm::Nfkc || second == NormalizationForm::Nfkd;
    bool composed = second == NormalizationForm::Nfc || second == NormalizationForm::Nfkc;
    if (compatibility)
        return composed ? NormalizationForm::Nfkc : NormalizationForm::Nfkd;
    return composed ? NormalizationForm::Nfc : NormalizationForm::Nfd;
}

ErrorOr<void> read_normalizer(JsonDocument const& doc, JsonValue const& n, Components& c, u32 depth)
{
    if (n.is_null())
        return {};
    if (!n.is_object() || depth > 4)
        return Error::invalid("tokenizer.json normalizer is malformed");
    auto type = doc.get_string(n, "type").value_or("");
    if (type == "Sequence") {
        auto const* list = doc.get(n, "normalizers");
        if (!list || !list->is_array())
            return Error::invalid("tokenizer.json Sequence normalizer has no list");
        for (u32 i = 0; i < list->count; ++i)
            TRY(read_normalizer(doc, doc.element(*list, i), c, depth + 1));
        return {};
    }
    if (type == "Prepend") {
        if (doc.get_string(n, "prepend").value_or("") != s_metaspace)
            return Error::unsupported("tokenizer.json Prepend normalizer must prepend \"\xE2\x96\x81\"");
        c.prepend_metaspace = true;
        return {};
    }
    if (type == "Replace") {
        auto const* pattern = doc.get(n, "pattern");
        auto from = pattern ? doc.get_string(*pattern, "String") : std::nullopt;
        if (!from || *from != " " || doc.get_string(n, "content").value_or("") != s_metaspace)
            return Error::unsupported("tokenizer.json Replace normalizer other than \" \" -> \"\xE2\x96\x81\"");
        c.replace_space = true;
        return {};
    }
    NormalizationForm form = NormalizationForm::None;
    if (type == "NFC")
        form = NormalizationForm::Nfc;
    else if (type == "NFKC")
        form = NormalizationForm::Nfkc;
    else if (type == "NFD")
        form = NormalizationForm::Nfd;
    else if (type == "NFKD")
        form = NormalizationForm::Nfkd;
    if (form != NormalizationForm::None) {
        // Only compatibility forms change spaces (NBSP -> " "), so only
        // then does it matter whether Prepend/Replace ran first.
        if ((c.prepend_metaspace || c.replace_space) && (form == NormalizationForm::Nfkc || form == NormalizationForm::Nfkd))
            c.normalize_after_spaces = true;
        c.normalization = combine_forms(c.normalization, form);
        return {};
    }
    return Error::unsupported("tokenizer.json normalizer type is not supported");
}

ErrorOr<void> read_pre_tokenizer(JsonDocument const& doc, JsonValue const& p, Components& c, u32 depth)
{
    if (p.is_null())
        return {};
    if (!p.is_object() || depth > 4)
        return Error::invalid("tokenizer.json pre_tokenizer is malformed");
    auto type = doc.get_string(p, "type").value_or("");
    if (type == "Sequence") {
        auto const* list = doc.get(p, "pretokenizers");
        if (!list || !list->is_array())
            return Error::invalid("tokenizer.json Sequence pre_tokenizer has no list");
        for (u32 i = 0; i < list->count; ++i)
            TRY(read_pre_tokenizer(doc, doc.element(*list, i), c, depth + 1));
        return {};
    }
    if (type == "ByteLevel") {
        c.byte_level = true;
        c.byte_level_regex = doc.get_bool(p, "use_regex").value_or(true);
        if (doc.get_bool(p, "add_prefix_space").value_or(false))
            return Error::unsupported("tokenizer.json ByteLevel add_prefix_space is not supported");
        return {};
    }
    if (type == "Digits") {
        if (!doc.get_bool(p, "individual_digits").value_or(false))
            return Error::unsupported("tokenizer.json Digits pre_tokenizer without individual_digits");
        c.split_digits = true;
        return {};
    }
    if (type == "Split") {
        auto const* pattern = doc.get(p, "pattern");
        auto regex = pattern ? doc.get_string(*pattern, "Regex") : std::nullopt;
        if (!regex)
            return Error::unsupported("tokenizer.json Split pre_tokenizer without a Regex pattern");
        if (*regex == s_llama3_regex)
            c.split_regex = PreTokenizerRegex::Llama3;
        else if (*regex == s_qwen2_regex)
            c.split_regex = PreTokenizerRegex::Qwen2;
        else if (*regex == s_gpt2_regex)
            c.split_regex = PreTokenizerRegex::Gpt2;
        else
            return Error::unsupported("tokenizer.json Split regex is not one of GPT-2, Llama-3 or Qwen2");
        return {};
    }
    if (type == "Metaspace") {
        if (doc.get_string(p, "replacement").value_or(s_metaspace) != s_metaspace)
            return Error::unsupported("tokenizer.json Metaspace replacement must be \"\xE2\x96\x81\"");
        c.metaspace = true;
        auto scheme = doc.get_string(p, "prepend_scheme");
        if (scheme) {
            c.metaspace_prefix = *scheme == "always" ? SpacePrefix::EveryPiece : *scheme == "first" ? SpacePrefix::FirstPiece : SpacePrefix::None;
        } else {
            c.metaspace_prefix = doc.get_bool(p, "add_prefix_space").value_or(true) ? SpacePrefix::EveryPiece : SpacePrefix::None;
        }
        c.metaspace_split = doc.get_bool(p, "split").value_or(true);
        return {};
    }
    return Error::unsupported("tokenizer.json pre_tokenizer type is not supported");
}

void read_decoder(JsonDocument const& doc, JsonValue const& d, Components& c, u32 depth)
{
    if (!d.is_object() || depth > 4)
        return;
    auto type = doc.get_string(d, "type").value_or("");
    if (type == "Sequence") {
        if (auto const* list = doc.get(d, "decoders"); list && list->is_array()) {
            for (u32 i = 0; i < list->count; ++i)
                read_decoder(doc, doc.element(*list, i), c, depth + 1);
        }
    } else if (type == "Strip") {
        if (doc.get_string(d, "content").value_or("") == " " && doc.get_integer(d, "start").value_or(0) >= 1)
            c.strip_leading_space = true;
    } else if (type == "Metaspace") {
        auto scheme = doc.get_string(d, "prepend_scheme");
        bool prefix = scheme ? *scheme != "never" : doc.get_bool(d, "add_prefix_space").value_or(true);
        if (prefix)
            c.strip_leading_space = true;
    }
}

JsonValue const* find_template_processing(JsonDocument const& doc, JsonValue const& p, u32 depth)
{
    if (!p.is_object() || depth > 4)
        return nullptr;
    auto type = doc.get_string(p, "type").value_or("");
    if (type == "TemplateProcessing")
        return &p;
    if (type == "Sequence") {
        if (auto const* list = doc.get(p, "processors"); list && list->is_array()) {
            for (u32 i = 0; i < list->count; ++i) {
                if (auto const* found = find_template_processing(doc, doc.element(*list, i), depth + 1))
                    return found;
            }
        }
    }
    return nullptr;
}

} // namespace

ErrorOr<void> Tokenizer::load_from_json(std::string_view text, Tokenizer& t)
{
    auto doc = TRY(JsonDocument::parse(text));
    auto const& root = doc.root();
    if (!root.is_object())
        return Error::invalid("tokenizer.json is not a JSON object");
    auto const* model = doc.get(root, "model");
    if (!model || !model->is_object())
        return Error::invalid("tokenizer.json has no model object");
    auto type = doc.get_string(*model, "type");
    if (type && *type != "BPE")
        return Error::unsupported("tokenizer.json model type is not BPE");
    auto const* vocab = doc.get(*model, "vocab");
    if (!vocab || !vocab->is_object() || vocab->count == 0)
        return Error::invalid("tokenizer.json model has no vocab object");
    auto const* added = doc.get(root, "added_tokens");
    if (added && !added->is_array())
        return Error::invalid("tokenizer.json added_tokens is not an array");

    // Ids may come in any order and added tokens may extend the vocabulary.
    u64 size = 0;
    auto check_id = [&](JsonValue const& value) -> ErrorOr<u32> {
        if (!value.is_number() || !value.is_integer || value.integer < 0 || static_cast<u64>(value.integer) >= s_max_vocab)
            return Error::invalid("tokenizer.json token id is not a valid integer");
        return static_cast<u32>(value.integer);
    };
    for (u32 i = 0; i < vocab->count; ++i) {
        u32 id = TRY(check_id(doc.member_value(*vocab, i)));
        size = id + 1 > size ? id + 1 : size;
    }
    if (added) {
        for (u32 i = 0; i < added->count; ++i) {
            auto const& entry = doc.element(*added, i);
            auto const* id = entry.is_object() ? doc.get(entry, "id") : nullptr;
            if (!id || !doc.get_string(entry, "content"))
                return Error::invalid("tokenizer.json added token lacks id or content");
            u32 value = TRY(check_id(*id));
            size = value + 1 > size ? value + 1 : size;
        }
    }
    struct Slot {
        std::string_view text;
        TokenKind kind { TokenKind::Unused };
        bool present { false };
        bool normalized { false };
    };
    Vector<Slot> slots;
    TRY(slots.try_resize(size));
    for (u32 i = 0; i < vocab->count; ++i) {
        u32 id = static_cast<u32>(doc.member_value(*vocab, i).integer);
        slots[id] = { doc.member_key(*vocab, i), TokenKind::Normal, true };
    }
    if (added) {
        for (u32 i = 0; i < added->count; ++i) {
            auto const& entry = doc.element(*added, i);
            u32 id = static_cast<u32>(doc.get(entry, "id")->integer);
            bool special = doc.get_bool(entry, "special").value_or(false);
            // HF's default for a token without the flag: normalized unless special.
            bool normalized = doc.get_bool(entry, "normalized").value_or(!special);
            slots[id] = { *doc.get_string(entry, "content"), special ? TokenKind::Control : TokenKind::UserDefined, true, normalized };
        }
    }

    Components c;
    if (auto const* n = doc.get(root, "normalizer"))
        TRY(read_normalizer(doc, *n, c, 0));
    if (auto const* p = doc.get(root, "pre_tokenizer"))
        TRY(read_pre_tokenizer(doc, *p, c, 0));
    if (auto const* d = doc.get(root, "decoder"))
        read_decoder(doc, *d, c, 0);

    t.m_priority = MergePriority::Rank;
    t.m_normalization = c.normalization;
    t.m_byte_fallback = doc.get_bool(*model, "byte_fallback").value_or(false);
    t.m_ignore_merges = doc.get_bool(*model, "ignore_merges").value_or(false);
    if (c.byte_level) {
        t.m_kind = TokenizerKind::ByteLevelBpe;
        if (c.split_regex != PreTokenizerRegex::None)
            t.m_pre.regex = c.split_regex;
        else
            t.m_pre.regex = c.byte_level_regex ? PreTokenizerRegex::Gpt2 : PreTokenizerRegex::None;
        t.m_pre.split_digits = c.split_digits;
    } else {
        t.m_kind = TokenizerKind::SentencePieceBpe;
        if (c.split_regex != PreTokenizerRegex::None || c.split_digits)
            return Error::unsupported("tokenizer.json: regex/digit pre-tokenizers need ByteLevel");
        t.m_replace_spaces = c.replace_space || c.metaspace;
        t.m_space_prefix = c.metaspace ? c.metaspace_prefix : (c.prepend_metaspace ? SpacePrefix::EveryPiece : SpacePrefix::None);
        t.m_split_on_metaspace = c.metaspace && c.metaspace_split;
        t.m_strip_leading_space = c.strip_leading_space;
        bool compatibility = c.normalization == NormalizationForm::Nfkc || c.normalization == NormalizationForm::Nfkd;
        t.m_normalize_after_spaces = c.normalize_after_spaces && compatibility && (t.m_replace_spaces || t.m_space_prefix != SpacePrefix::None);
    }

    TRY(t.m_tokens.try_reserve(size));
    TRY(t.m_token_ids.try_reserve(size));
    for (u64 id = 0; id < size; ++id) {
        TokenKind kind = slots[id].kind;
        if (kind == TokenKind::Normal && t.m_kind == TokenizerKind::SentencePieceBpe && slots[id].text.size() == 6 && slots[id].text.substr(0, 3) == "<0x")
            kind = TokenKind::Byte;
        TRY(t.add_token(slots[id].text, 0.0f, kind));
        t.m_tokens.last().normalized = slots[id].normalized;
    }

    if (auto const* merges = doc.get(*model, "merges")) {
        if (!merges->is_array())
            return Error::invalid("tokenizer.json merges is not an array");
        TRY(t.m_merges.try_reserve(merges->count));
        for (u32 i = 0; i < merges->count; ++i) {
            auto const& merge = doc.element(*merges, i);
            if (merge.is_string()) {
                size_t space = merge.string.find(' ', 1);
                if (space == std::string_view::npos || merge.string.find(' ', space + 1) != std::string_view::npos)
                    return Error::invalid("tokenizer.json merge string is not \"a b\"");
                TRY(t.add_merge(merge.string.substr(0, space), merge.string.substr(space + 1), i));
            } else if (merge.is_array() && merge.count == 2 && doc.element(merge, 0).is_string() && doc.element(merge, 1).is_string()) {
                TRY(t.add_merge(doc.element(merge, 0).string, doc.element(merge, 1).string, i));
            } else {
                return Error::invalid("tokenizer.json merge is neither \"a b\" nor [\"a\", \"b\"]");
            }
        }
    }
    if (auto unk = doc.get_string(*model, "unk_token"))
        t.m_unknown = t.find_token(*unk);

    // BOS/EOS guesses for a tokenizer used alone; model loaders refine them.
    Vector<u32> prefix;
    if (auto const* post = doc.get(root, "post_processor")) {
        if (auto const* processing = find_template_processing(doc, *post, 0)) {
            auto const* single = doc.get(*processing, "single");
            if (single && single->is_array()) {
                for (u32 i = 0; i < single->count; ++i) {
                    auto const& item = doc.element(*single, i);
                    if (doc.get(item, "Sequence"))
                        break;
                    if (auto const* special = doc.get(item, "SpecialToken")) {
                        if (auto name = doc.get_string(*special, "id")) {
                            auto id = t.find_token(*name);
                            if (!id)
                                return Error::invalid("tokenizer.json post_processor names an unknown token");
                            TRY(prefix.try_append(*id));
                        }
                    }
                }
            }
        }
    }
    TRY(t.set_prefix_tokens(prefix.data(), prefix.size()));
    if (!prefix.is_empty())
        t.m_bos = prefix[0];
    for (auto name : { "<s>", "<bos>", "<|begin_of_text|>" }) {
        if (!t.m_bos)
            t.m_bos = t.find_token(name);
    }
    for (auto name : { "</s>", "<eos>", "<|end_of_text|>", "<|endoftext|>" }) {
        if (!t.m_eos)
            t.m_eos = t.find_token(name);
    }
    TRY(t.finish_setup());
    return {};
}

} // namespace aisos::engine
