#pragma once

// Unicode normalization forms (UAX #15) for tokenizer.json normalizers:
// NFC, NFKC, NFD, NFKD over UTF-8 text.
//
// Invalid UTF-8 is not an error: every byte that does not start a valid
// sequence is copied through unchanged and acts as a starter that nothing
// composes with, so tokenizers keep their byte-level / byte-fallback
// handling of such input.

#include "engine/base/Vector.h"

#include <string_view>

namespace aisos::engine {

enum class NormalizationForm : u8 {
    None,
    Nfc,
    Nfkc,
    Nfd,
    Nfkd,
};

// Appends the normalized form of `text` to `out`.
ErrorOr<void> unicode_normalize(std::string_view text, NormalizationForm, Vector<char>& out);

// Per code point properties, exposed for tests.
u8 unicode_combining_class(u32 code_point);
// The composite of a canonical pair (Hangul included), or 0 when there is none
// or it is a composition exclusion.
u32 unicode_compose_pair(u32 first, u32 second);

} // namespace aisos::engine
