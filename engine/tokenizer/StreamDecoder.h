#pragma once

// Turns generated tokens into text chunks as they arrive. A chunk never
// ends inside a multi-byte UTF-8 character: an incomplete tail is held back
// until the next token completes it (or flush() gives it up as U+FFFD).

#include "engine/tokenizer/Tokenizer.h"

namespace aisos::engine {

class StreamDecoder {
public:
    explicit StreamDecoder(Tokenizer const& tokenizer)
        : m_tokenizer(tokenizer)
    {
    }

    // Appends the text that became complete with this token to out.
    ErrorOr<void> push(u32 token, Vector<char>& out);
    // Appends whatever is still held back.
    ErrorOr<void> flush(Vector<char>& out);

private:
    Tokenizer const& m_tokenizer;
    Vector<char> m_pending;
    bool m_first { true };
};

} // namespace aisos::engine
