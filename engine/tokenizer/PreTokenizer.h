#pragma once

// Hand-written equivalents of the pre-tokenizer regular expressions of the
// byte-level BPE families (no regex engine in the engine):
//   Gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   Llama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//           ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   Qwen2:  as Llama3 with \p{N} instead of \p{N}{1,3}
// and the Digits(individual_digits) splitter used by SmolLM2 before Gpt2.

#include "engine/base/Vector.h"

#include <string_view>

namespace aisos::engine {

enum class PreTokenizerRegex {
    None, // the whole text is one piece
    Gpt2,
    Llama3,
    Qwen2,
};

struct PreTokenizerConfig {
    PreTokenizerRegex regex { PreTokenizerRegex::None };
    bool split_digits { false }; // every \p{N} character becomes its own piece first
};

// Appends the pieces of text, in order, as views into text.
ErrorOr<void> pre_tokenize(PreTokenizerConfig const&, std::string_view text, Vector<std::string_view>& pieces);

} // namespace aisos::engine
