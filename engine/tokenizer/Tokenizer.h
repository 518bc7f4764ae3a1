#pragma once

// Tokenizers: byte-level BPE (GPT-2 style: SmolLM2, Llama-3, Qwen2) and
// SentencePiece-style BPE with byte fallback (Llama-2, Gemma), loaded from
// GGUF metadata (tokenizer.ggml.*) or an HF tokenizer.json.
//
// encode() matches HF tokenizers' encode(text, add_special_tokens=False):
// added/special tokens written in the text are recognized; no BOS is added
// (prefix_tokens() says what the model wants in front). A tokenizer.json
// NFC/NFKC/NFD/NFKD normalizer is applied as HF does: added tokens with
// "normalized": false are split out of the raw text first, each piece
// between them is normalized, then "normalized": true added tokens are
// matched in the normalized text.

#include "engine/base/Arena.h"
#include "engine/base/HashMap.h"
#include "engine/tokenizer/Normalize.h"
#include "engine/tokenizer/PreTokenizer.h"

#include <optional>
#include <string_view>

namespace aisos::engine {

class GgufFile;

enum class TokenizerKind {
    ByteLevelBpe,
    SentencePieceBpe,
};

enum class TokenKind : u8 {
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
};

// How the SentencePiece-style tokenizer turns spaces into "▁" before BPE.
enum class SpacePrefix {
    None,
    EveryPiece, // Prepend normalizer / llama.cpp add_space_prefix: each text piece between special tokens
    FirstPiece, // Metaspace prepend_scheme "first": only a piece at the start of the text
};

// Which merge to apply first.
enum class MergePriority {
    Rank,  // merges list order (HF BPE, GGUF gpt2)
    Score, // highest score of the merged token (GGUF SentencePiece)
};

class Tokenizer {
public:
    static constexpr u32 s_invalid = 0xFFFFFFFF;

    // Loaders; each validates its input and fails with a clear error.
    static ErrorOr<void> load_from_gguf(GgufFile const&, Tokenizer& out);
    static ErrorOr<void> load_from_json(std::string_view tokenizer_json, Tokenizer& out);

    ErrorOr<void> encode(std::string_view text, Vector<u32>& out) const;

    // Appends the bytes token `id` stands for (special tokens as their text).
    // The leading space a SentencePiece tokenizer adds is removed when
    // `first` says this is the first token of the decoded text.
    enum class Position {
        First,
        Later,
    };
    ErrorOr<void> append_token_bytes(u32 id, Position, Vector<char>& out) const;
    // Whole-sequence decode with invalid UTF-8 replaced by U+FFFD.
    ErrorOr<void> decode(u32 const* ids, size_t count, Vector<char>& out) const;

    TokenizerKind kind() const { return m_kind; }
    u32 vocab_size() const { return static_cast<u32>(m_tokens.size()); }
    std::string_view token_text(u32 id) const { return id < m_tokens.size() ? m_tokens[id].text : std::string_view(); }
    TokenKind token_kind(u32 id) const { return id < m_tokens.size() ? m_tokens[id].kind : TokenKind::Unknown; }
    std::optional<u32> find_token(std::string_view text) const;

    std::optional<u32> bos() const { return m_bos; }
    std::optional<u32> eos() const { return m_eos; }
    // Tokens a model input starts with (usually BOS or nothing).
    Vector<u32> const& prefix_tokens() const { return m_prefix_tokens; }
    bool is_end_of_generation(u32 id) const;

    // Set by model loaders that know better (config.json / generation_config.json).
    ErrorOr<void> add_end_of_generation(u32 id);
    ErrorOr<void> set_prefix_tokens(u32 const* ids, size_t count);
    void set_bos(u32 id) { m_bos = id; }
    void set_eos(u32 id) { m_eos = id; }

private:
    struct Token {
        std::string_view text;
        float score { 0 };
        TokenKind kind { TokenKind::Normal };
        bool normalized { false }; // added token matched in normalized text (tokenizer.json "normalized")
    };
    struct Merge {
        u32 rank;
        u32 result;
    };
    struct Special {
        std::string_view text;
        u32 id;
    };

    ErrorOr<void> add_token(std::string_view text, float score, TokenKind);
    ErrorOr<void> add_merge(std::string_view left, std::string_view right, u32 rank);
    ErrorOr<void> finish_setup();
    ErrorOr<void> encode_piece(std::string_view piece, Vector<u32>& out) const;
    ErrorOr<void> encode_text_segment(std::string_view text, bool at_text_start, Vector<u32>& out) const;
    ErrorOr<void> emit_unknown_bytes(std::string_view bytes, Vector<u32>& out) const;
    ErrorOr<void> encode_raw_piece(std::string_view text, bool at_text_start, Vector<u32>& out) const;
    template<typename EncodePiece>
    ErrorOr<void> split_on_specials(std::string_view text, Vector<Special> const&, bool const (&starts)[256], bool at_text_start, Vector<u32>& out, EncodePiece) const;

    TokenizerKind m_kind { TokenizerKind::ByteLevelBpe };
    MergePriority m_priority { MergePriority::Rank };
    PreTokenizerConfig m_pre;
    SpacePrefix m_space_prefix { SpacePrefix::None };
    bool m_replace_spaces { false }; // " " -> "▁" (SentencePiece)
    bool m_byte_fallback { false };
    bool m_ignore_merges { false }; // HF BPE: a whole word in the vocab is taken as is
    bool m_strip_leading_space { false };
    bool m_split_on_metaspace { false };
    NormalizationForm m_normalization { NormalizationForm::None };
    bool m_normalize_after_spaces { false }; // SentencePiece: the Unicode normalizer follows Prepend/Replace
    Arena m_text_storage;
    Vector<Token> m_tokens;
    StringMap<u32> m_token_ids;
    U64Map<Merge> m_merges;
    Vector<Special> m_specials; // longest first; matched in the raw text
    bool m_special_starts[256] {};
    Vector<Special> m_normalized_specials; // longest first; matched after m_normalization
    bool m_normalized_special_starts[256] {};
    u32 m_byte_tokens[256] {};     // byte-level: token of the mapped char; SentencePiece: <0xNN>
    std::optional<u32> m_unknown;
    std::optional<u32> m_bos;
    std::optional<u32> m_eos;
    Vector<u32> m_prefix_tokens;
    Vector<u32> m_end_of_generation;
};

// Appends bytes with every invalid UTF-8 subpart replaced by U+FFFD.
ErrorOr<void> append_utf8_lossy(std::string_view bytes, Vector<char>& out);

// GPT-2's reversible byte <-> printable code point mapping.
u32 byte_level_encode(u8 byte);
// -1 when the code point is not in the mapping.
int byte_level_decode(u32 code_point);

} // namespace aisos::engine
