#include "engine/tokenizer/PreTokenizer.h"
#include "engine/tokenizer/Unicode.h"

namespace aisos::engine {

namespace {

struct Char {
    u32 cp;
    u32 offset; // byte offset in the piece
};

enum class Class {
    Letter,
    Number,
    Space,
    Other,
};

Class classify(u32 cp)
{
    if (unicode_is_letter(cp))
        return Class::Letter;
    if (unicode_is_number(cp))
        return Class::Number;
    if (unicode_is_whitespace(cp))
        return Class::Space;
    return Class::Other;
}

u32 lower_ascii(u32 cp) { return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp; }

// Length in chars of a contraction ('s 't 're 've 'm 'll 'd) at i, or 0.
size_t match_contraction(Vector<Char> const& c, size_t i, bool ignore_case)
{
    if (c[i].cp != '\'' || i + 1 >= c.size())
        return 0;
    auto at = [&](size_t k) { return ignore_case ? lower_ascii(c[k].cp) : c[k].cp; };
    u32 a = at(i + 1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return 2;
    if (i + 2 < c.size()) {
        u32 b = at(i + 2);
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            return 3;
    }
    return 0;
}

class Splitter {
public:
    Splitter(Vector<Char> const& chars, Vector<Class> const& classes)
        : c(chars)
        , k(classes)
    {
    }

    size_t run(size_t i, Class cls) const
    {
        size_t j = i;
        while (j < c.size() && k[j] == cls)
            ++j;
        return j - i;
    }

    // \s+(?!\S) then \s+ : the whitespace alternatives shared by all regexes.
    size_t whitespace_tail(size_t i) const
    {
        size_t n = run(i, Class::Space);
        if (n == 0)
            return 0;
        if (i + n == c.size())
            return n;
        if (n >= 2)
            return n - 1;
        return n;
    }

    size_t gpt2(size_t i) const
    {
        if (size_t n = match_contraction(c, i, false))
            return n;
        bool space = c[i].cp == ' ' && i + 1 < c.size();
        for (Class cls : { Class::Letter, Class::Number, Class::Other }) {
            if (k[i] == cls)
                return run(i, cls);
            if (space && k[i + 1] == cls)
                return 1 + run(i + 1, cls);
        }
        return whitespace_tail(i);
    }

    size_t llama3(size_t i, size_t max_digits) const
    {
        if (size_t n = match_contraction(c, i, true))
            return n;
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (k[i] == Class::Letter)
            return run(i, Class::Letter);
        bool not_newline = c[i].cp != '\r' && c[i].cp != '\n';
        if (not_newline && k[i] != Class::Number && i + 1 < c.size() && k[i + 1] == Class::Letter)
            return 1 + run(i + 1, Class::Letter);
        // \p{N}{1,max}
        if (k[i] == Class::Number) {
            size_t n = run(i, Class::Number);
            return n < max_digits ? n : max_digits;
        }
        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        size_t start = i;
        if (c[i].cp == ' ' && i + 1 < c.size() && k[i + 1] == Class::Other)
            ++i;
        if (k[i] == Class::Other) {
            size_t j = i + run(i, Class::Other);
            while (j < c.size() && (c[j].cp == '\r' || c[j].cp == '\n'))
                ++j;
            return j - start;
        }
        i = start;
        // \s*[\r\n]+ : up to and including the last newline of the whitespace run.
        size_t n = run(i, Class::Space);
        for (size_t m = n; m > 0; --m) {
            u32 cp = c[i + m - 1].cp;
            if (cp == '\r' || cp == '\n')
                return m;
        }
        return whitespace_tail(i);
    }

private:
    Vector<Char> const& c;
    Vector<Class> const& k;
};

ErrorOr<void> split_regex(PreTokenizerRegex regex, std::string_view text, Vector<std::string_view>& pieces, Vector<Char>& chars, Vector<Class>& classes)
{
    chars.clear();
    classes.clear();
    for (size_t pos = 0; pos < text.size();) {
        auto decoded = utf8_decode_at(text, pos);
        TRY(chars.try_append({ decoded.code_point, static_cast<u32>(pos) }));
        TRY(classes.try_append(classify(decoded.code_point)));
        pos += decoded.length;
    }
    Splitter splitter(chars, classes);
    size_t i = 0;
    while (i < chars.size()) {
        size_t n = 0;
        switch (regex) {
        case PreTokenizerRegex::Gpt2: n = splitter.gpt2(i); break;
        case PreTokenizerRegex::Llama3: n = splitter.llama3(i, 3); break;
        case PreTokenizerRegex::Qwen2: n = splitter.llama3(i, 1); break;
        case PreTokenizerRegex::None: n = chars.size() - i; break;
        }
        if (n == 0)
            n = 1; // cannot happen for these regexes; guarantees progress
        size_t begin = chars[i].offset;
        size_t end = i + n < chars.size() ? chars[i + n].offset : text.size();
        TRY(pieces.try_append(text.substr(begin, end - begin)));
        i += n;
    }
    return {};
}

} // namespace

ErrorOr<void> pre_tokenize(PreTokenizerConfig const& config, std::string_view text, Vector<std::string_view>& pieces)
{
    if (text.empty())
        return {};
    Vector<Char> chars;
    Vector<Class> classes;
    if (!config.split_digits) {
        if (config.regex == PreTokenizerRegex::None)
            return pieces.try_append(text);
        return split_regex(config.regex, text, pieces, chars, classes);
    }
    // Digits(individual_digits=true): each number character is isolated,
    // the text between them goes through the regex.
    size_t segment = 0;
    for (size_t pos = 0; pos < text.size();) {
        auto decoded = utf8_decode_at(text, pos);
        if (unicode_is_number(decoded.code_point)) {
            if (pos > segment)
                TRY(split_regex(config.regex, text.substr(segment, pos - segment), pieces, chars, classes));
            TRY(pieces.try_append(text.substr(pos, decoded.length)));
            segment = pos + decoded.length;
        }
        pos += decoded.length;
    }
    if (segment < text.size())
        TRY(split_regex(config.regex, text.substr(segment), pieces, chars, classes));
    return {};
}

} // namespace aisos::engine
