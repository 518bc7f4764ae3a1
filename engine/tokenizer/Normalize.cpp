#include "engine/tokenizer/Normalize.h"
#include "engine/format/Json.h"
#include "engine/tokenizer/Unicode.h"
#include "engine/tokenizer/UnicodeNormalizationTables.h"

namespace aisos::engine {

namespace {

// An invalid UTF-8 byte travels through the buffers as this flag plus the
// byte: above every code point, so no table or Hangul range matches it.
constexpr u32 s_raw_byte = 0x80000000;

// Hangul syllables (Unicode 3.12, "Conjoining Jamo Behavior").
constexpr u32 s_hangul_s_base = 0xAC00;
constexpr u32 s_hangul_l_base = 0x1100;
constexpr u32 s_hangul_v_base = 0x1161;
constexpr u32 s_hangul_t_base = 0x11A7;
constexpr u32 s_hangul_l_count = 19;
constexpr u32 s_hangul_v_count = 21;
constexpr u32 s_hangul_t_count = 28;
constexpr u32 s_hangul_n_count = s_hangul_v_count * s_hangul_t_count;
constexpr u32 s_hangul_s_count = s_hangul_l_count * s_hangul_n_count;

// Nothing below U+00A0 decomposes (not even under NFKD) and nothing below
// U+0300 has a non-zero combining class: the common case skips the tables.
constexpr u32 s_first_decomposable = 0xA0;
static_assert(s_combining_class_ranges[0].first >= 0x300);
static_assert(s_canonical_decompositions[0].code_point >= s_first_decomposable);
static_assert(s_compatibility_decompositions[0].code_point >= s_first_decomposable);

struct Char {
    u32 code_point;
    u8 combining_class;
};

template<size_t N>
DecompositionEntry const* find_decomposition(DecompositionEntry const (&table)[N], u32 cp)
{
    size_t lo = 0, hi = N;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (table[mid].code_point < cp)
            lo = mid + 1;
        else if (table[mid].code_point > cp)
            hi = mid;
        else
            return &table[mid];
    }
    return nullptr;
}

bool is_compatibility(NormalizationForm form) { return form == NormalizationForm::Nfkc || form == NormalizationForm::Nfkd; }
bool composes(NormalizationForm form) { return form == NormalizationForm::Nfc || form == NormalizationForm::Nfkc; }

ErrorOr<void> append_char(u32 cp, Vector<Char>& out)
{
    return out.try_append(Char { cp, unicode_combining_class(cp) });
}

// Appends the full decomposition of one code point.
ErrorOr<void> append_decomposed(u32 cp, bool compatibility, Vector<Char>& out)
{
    if (cp < s_first_decomposable || (cp & s_raw_byte))
        return out.try_append(Char { cp, 0 });
    if (cp >= s_hangul_s_base && cp < s_hangul_s_base + s_hangul_s_count) {
        u32 index = cp - s_hangul_s_base;
        TRY(out.try_append(Char { s_hangul_l_base + index / s_hangul_n_count, 0 }));
        TRY(out.try_append(Char { s_hangul_v_base + (index % s_hangul_n_count) / s_hangul_t_count, 0 }));
        if (index % s_hangul_t_count != 0)
            TRY(out.try_append(Char { s_hangul_t_base + index % s_hangul_t_count, 0 }));
        return {};
    }
    DecompositionEntry const* entry = compatibility ? find_decomposition(s_compatibility_decompositions, cp) : nullptr;
    if (!entry)
        entry = find_decomposition(s_canonical_decompositions, cp);
    if (!entry)
        return append_char(cp, out);
    for (u32 i = 0; i < entry->length; ++i)
        TRY(append_char(s_decomposition_pool[entry->offset + i], out));
    return {};
}

// Canonical ordering: a stable sort of each run of non-starters by class.
// Runs are usually a few marks (insertion sort); a long run, which only
// crafted input has, is counting-sorted so it cannot take quadratic time.
ErrorOr<void> canonical_order(Vector<Char>& chars, Vector<Char>& scratch)
{
    constexpr size_t short_run = 32;
    for (size_t start = 0; start < chars.size();) {
        if (chars[start].combining_class == 0) {
            ++start;
            continue;
        }
        size_t end = start;
        while (end < chars.size() && chars[end].combining_class != 0)
            ++end;
        if (end - start <= short_run) {
            for (size_t i = start + 1; i < end; ++i) {
                Char c = chars[i];
                size_t j = i;
                while (j > start && chars[j - 1].combining_class > c.combining_class) {
                    chars[j] = chars[j - 1];
                    --j;
                }
                chars[j] = c;
            }
        } else {
            size_t first_of_class[257] {};
            for (size_t i = start; i < end; ++i)
                ++first_of_class[chars[i].combining_class + 1];
            for (size_t c = 1; c < 257; ++c)
                first_of_class[c] += first_of_class[c - 1];
            TRY(scratch.try_resize(end - start));
            for (size_t i = start; i < end; ++i)
                scratch[first_of_class[chars[i].combining_class]++] = chars[i];
            for (size_t i = start; i < end; ++i)
                chars[i] = scratch[i - start];
        }
        start = end;
    }
    return {};
}

// Canonical composition (UAX #15 D117): each character is combined with the
// last starter unless a character between them blocks it (class 0, or a
// class not lower than its own).
void canonical_compose(Vector<Char>& chars)
{
    constexpr size_t none = SIZE_MAX;
    size_t starter = none;
    u8 last_class = 0; // of the last character kept since the starter
    size_t kept = 0;
    for (size_t i = 0; i < chars.size(); ++i) {
        Char c = chars[i];
        // last_class == 0 means the last kept character is the starter itself.
        if (starter != none && (last_class == 0 || last_class < c.combining_class)) {
            if (u32 composite = unicode_compose_pair(chars[starter].code_point, c.code_point)) {
                chars[starter].code_point = composite;
                continue;
            }
        }
        if (c.combining_class == 0)
            starter = kept;
        last_class = c.combining_class;
        chars[kept++] = c;
    }
    chars.shrink_size(kept);
}

ErrorOr<void> flush(Vector<Char>& chars, NormalizationForm form, Vector<char>& out)
{
    if (chars.is_empty())
        return {};
    Vector<Char> scratch;
    TRY(canonical_order(chars, scratch));
    if (composes(form))
        canonical_compose(chars);
    for (auto const& c : chars) {
        if (c.code_point & s_raw_byte) {
            TRY(out.try_append(static_cast<char>(c.code_point & 0xFF)));
            continue;
        }
        char utf8[4];
        size_t n = utf8_encode(c.code_point, utf8);
        TRY(out.try_append(utf8, n));
    }
    chars.clear();
    return {};
}

} // namespace

u8 unicode_combining_class(u32 cp)
{
    if (cp < s_combining_class_ranges[0].first || (cp & s_raw_byte))
        return 0;
    auto const* range = find_unicode_range(s_combining_class_ranges, cp);
    return range ? static_cast<u8>(range->combining_class) : 0;
}

u32 unicode_compose_pair(u32 first, u32 second)
{
    // L + V -> LV, and LV + T -> LVT (T_base itself is not a trailing consonant).
    if (first >= s_hangul_l_base && first < s_hangul_l_base + s_hangul_l_count && second >= s_hangul_v_base && second < s_hangul_v_base + s_hangul_v_count)
        return s_hangul_s_base + ((first - s_hangul_l_base) * s_hangul_v_count + (second - s_hangul_v_base)) * s_hangul_t_count;
    if (first >= s_hangul_s_base && first < s_hangul_s_base + s_hangul_s_count && (first - s_hangul_s_base) % s_hangul_t_count == 0
        && second > s_hangul_t_base && second < s_hangul_t_base + s_hangul_t_count)
        return first + (second - s_hangul_t_base);
    size_t lo = 0, hi = sizeof(s_compositions) / sizeof(s_compositions[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        auto const& entry = s_compositions[mid];
        if (entry.first < first || (entry.first == first && entry.second < second))
            lo = mid + 1;
        else if (entry.first > first || entry.second > second)
            hi = mid;
        else
            return entry.composite;
    }
    return 0;
}

ErrorOr<void> unicode_normalize(std::string_view text, NormalizationForm form, Vector<char>& out)
{
    if (form == NormalizationForm::None)
        return out.try_append(text.data(), text.size());
    bool compatibility = is_compatibility(form);
    // Work on stretches between ASCII characters: nothing before an ASCII
    // character reorders or composes across it (it is a starter that never
    // decomposes and is never the second of a composition pair), so each
    // stretch is normalized on its own and the buffer stays small.
    Vector<Char> chars;
    for (size_t pos = 0; pos < text.size();) {
        u8 byte = static_cast<u8>(text[pos]);
        if (byte < 0x80) {
            TRY(flush(chars, form, out));
            // An ASCII character followed by another one (or the end) is final.
            if (pos + 1 == text.size() || static_cast<u8>(text[pos + 1]) < 0x80) {
                TRY(out.try_append(static_cast<char>(byte)));
                ++pos;
                continue;
            }
        }
        auto decoded = utf8_decode_at(text, pos);
        // utf8_decode_at reports an invalid byte as U+FFFD of length 1 (a real
        // U+FFFD takes 3 bytes): keep that byte as it is.
        u32 cp = decoded.code_point == 0xFFFD && decoded.length == 1 ? s_raw_byte | byte : decoded.code_point;
        TRY(append_decomposed(cp, compatibility, chars));
        pos += decoded.length;
    }
    return flush(chars, form, out);
}

} // namespace aisos::engine
