#include "engine/tokenizer/Tokenizer.h"
#include "engine/format/Json.h"
#include "engine/tokenizer/Unicode.h"

#include <algorithm>

namespace aisos::engine {

static constexpr std::string_view s_metaspace = "\xE2\x96\x81"; // U+2581 "▁"

constexpr u32 byte_level_encode_impl(u8 byte)
{
    // Printable bytes map to themselves; the others to 256 + their rank.
    if ((byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || byte >= 174)
        return byte;
    u32 rank = 0;
    for (u32 b = 0; b < byte; ++b) {
        if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174))
            ++rank;
    }
    return 256 + rank;
}

namespace {
struct ByteEncodeTable {
    u32 entries[256];
};
constexpr ByteEncodeTable make_byte_encode_table()
{
    ByteEncodeTable table {};
    for (u32 b = 0; b < 256; ++b)
        table.entries[b] = byte_level_encode_impl(static_cast<u8>(b));
    return table;
}
constexpr ByteEncodeTable s_byte_encode_table = make_byte_encode_table();
} // namespace

u32 byte_level_encode(u8 byte) { return s_byte_encode_table.entries[byte]; }

namespace {
struct ByteDecodeTable {
    int entries[324];
};
constexpr ByteDecodeTable make_byte_decode_table()
{
    ByteDecodeTable table {};
    for (auto& entry : table.entries)
        entry = -1;
    for (u32 b = 0; b < 256; ++b)
        table.entries[byte_level_encode_impl(static_cast<u8>(b))] = static_cast<int>(b);
    return table;
}
constexpr ByteDecodeTable s_byte_decode_table = make_byte_decode_table();
} // namespace

int byte_level_decode(u32 cp)
{
    return cp < 324 ? s_byte_decode_table.entries[cp] : -1;
}

ErrorOr<void> Tokenizer::add_token(std::string_view text, float score, TokenKind kind)
{
    auto stored = TRY(m_text_storage.copy(text));
    u32 id = static_cast<u32>(m_tokens.size());
    TRY(m_tokens.try_append({ stored, score, kind }));
    // The first of duplicate texts wins, like llama.cpp's token_to_id.
    if (!m_token_ids.get(stored))
        TRY(m_token_ids.set(stored, id));
    return {};
}

std::optional<u32> Tokenizer::find_token(std::string_view text) const
{
    if (auto const* id = m_token_ids.get(text))
        return *id;
    return {};
}

ErrorOr<void> Tokenizer::add_merge(std::string_view left, std::string_view right, u32 rank)
{
    auto l = find_token(left);
    auto r = find_token(right);
    if (!l || !r)
        return {}; // merges of tokens that are not in the vocabulary can never apply
    char buffer[512];
    if (left.size() + right.size() > sizeof(buffer))
        return {};
    std::memcpy(buffer, left.data(), left.size());
    std::memcpy(buffer + left.size(), right.data(), right.size());
    auto result = find_token(std::string_view(buffer, left.size() + right.size()));
    if (!result)
        return {};
    // An earlier (higher priority) duplicate merge wins.
    TRY(m_merges.insert_if_absent((static_cast<u64>(*l) << 32) | *r, Merge { rank, *result }));
    return {};
}

ErrorOr<void> Tokenizer::finish_setup()
{
    if (m_tokens.is_empty())
        return Error::corrupt("tokenizer has an empty vocabulary");
    for (auto& entry : m_byte_tokens)
        entry = s_invalid;
    if (m_kind == TokenizerKind::ByteLevelBpe) {
        for (u32 b = 0; b < 256; ++b) {
            char utf8[4];
            size_t n = utf8_encode(byte_level_encode(static_cast<u8>(b)), utf8);
            if (auto id = find_token(std::string_view(utf8, n)))
                m_byte_tokens[b] = *id;
        }
    } else {
        static char const hex[] = "0123456789ABCDEF";
        for (u32 b = 0; b < 256; ++b) {
            char name[6] = { '<', '0', 'x', hex[b >> 4], hex[b & 15], '>' };
            if (auto id = find_token(std::string_view(name, 6)))
                m_byte_tokens[b] = *id;
        }
    }
    m_specials.clear();
    m_normalized_specials.clear();
    // With the normalizer after Prepend/Replace every added token is matched
    // in the raw text (the normalized text only exists per piece then).
    bool split_normalized = m_normalization != NormalizationForm::None && !m_normalize_after_spaces;
    for (u32 id = 0; id < m_tokens.size(); ++id) {
        auto const& token = m_tokens[id];
        // As llama.cpp: control, user-defined and unknown tokens are matched in the text.
        if (!(token.kind == TokenKind::Control || token.kind == TokenKind::UserDefined || token.kind == TokenKind::Unknown) || token.text.empty())
            continue;
        if (split_normalized && token.normalized) {
            // HF normalizes such a token's own text too, so a decomposed
            // "e" + U+0301 in the vocabulary matches a composed U+00E9 in
            // the text under NFC.
            Vector<char> normalized;
            TRY(unicode_normalize(token.text, m_normalization, normalized));
            auto stored = TRY(m_text_storage.copy(std::string_view(normalized.data(), normalized.size())));
            TRY(m_normalized_specials.try_append({ stored, id }));
        } else {
            TRY(m_specials.try_append({ token.text, id }));
        }
    }
    auto index = [](Vector<Special>& specials, bool (&starts)[256]) {
        for (auto& entry : starts)
            entry = false;
        for (auto const& special : specials)
            starts[static_cast<u8>(special.text[0])] = true;
        std::stable_sort(specials.begin(), specials.end(), [](Special const& a, Special const& b) { return a.text.size() > b.text.size(); });
    };
    index(m_specials, m_special_starts);
    index(m_normalized_specials, m_normalized_special_starts);
    // Well-known end-of-turn markers end generation like EOS does.
    static constexpr std::string_view s_end_markers[] = { "<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<|eom_id|>", "<|end|>" };
    for (auto marker : s_end_markers) {
        if (auto id = find_token(marker); id && (m_tokens[*id].kind == TokenKind::Control || m_tokens[*id].kind == TokenKind::UserDefined))
            TRY(add_end_of_generation(*id));
    }
    if (m_eos)
        TRY(add_end_of_generation(*m_eos));
    return {};
}

ErrorOr<void> Tokenizer::add_end_of_generation(u32 id)
{
    if (id >= m_tokens.size())
        return Error::invalid("end-of-generation token id is outside the vocabulary");
    if (!is_end_of_generation(id))
        TRY(m_end_of_generation.try_append(id));
    return {};
}

ErrorOr<void> Tokenizer::set_prefix_tokens(u32 const* ids, size_t count)
{
    m_prefix_tokens.clear();
    for (size_t i = 0; i < count; ++i) {
        if (ids[i] >= m_tokens.size())
            return Error::invalid("prefix token id is outside the vocabulary");
        TRY(m_prefix_tokens.try_append(ids[i]));
    }
    return {};
}

bool Tokenizer::is_end_of_generation(u32 id) const
{
    for (u32 e : m_end_of_generation) {
        if (e == id)
            return true;
    }
    return false;
}

namespace {

struct Symbol {
    u32 start;
    u32 length;
    u32 id;
    i32 prev;
    i32 next;
};

struct Candidate {
    double priority;
    u32 left;
    u32 left_id;
    u32 right_id;
    u32 left_length;
    u32 right_length;
    u32 result;

    // Heap order: lowest priority first, then leftmost.
    bool after(Candidate const& other) const
    {
        if (priority != other.priority)
            return priority > other.priority;
        return left > other.left;
    }
};

class CandidateHeap {
public:
    ErrorOr<void> push(Candidate c)
    {
        TRY(m_items.try_append(c));
        size_t i = m_items.size() - 1;
        while (i > 0) {
            size_t parent = (i - 1) / 2;
            if (!m_items[parent].after(m_items[i]))
                break;
            std::swap(m_items[parent], m_items[i]);
            i = parent;
        }
        return {};
    }
    bool is_empty() const { return m_items.is_empty(); }
    Candidate pop()
    {
        Candidate top = m_items[0];
        m_items[0] = m_items.last();
        m_items.shrink_size(m_items.size() - 1);
        size_t i = 0;
        for (;;) {
            size_t l = 2 * i + 1, r = l + 1, best = i;
            if (l < m_items.size() && m_items[best].after(m_items[l]))
                best = l;
            if (r < m_items.size() && m_items[best].after(m_items[r]))
                best = r;
            if (best == i)
                break;
            std::swap(m_items[i], m_items[best]);
            i = best;
        }
        return top;
    }

private:
    Vector<Candidate> m_items;
};

} // namespace

ErrorOr<void> Tokenizer::emit_unknown_bytes(std::string_view bytes, Vector<u32>& out) const
{
    if (m_byte_fallback) {
        bool all = true;
        for (char c : bytes)
            all = all && m_byte_tokens[static_cast<u8>(c)] != s_invalid;
        if (all) {
            for (char c : bytes)
                TRY(out.try_append(m_byte_tokens[static_cast<u8>(c)]));
            return {};
        }
    }
    if (m_unknown)
        TRY(out.try_append(*m_unknown));
    return {};
}

// BPE over one pre-tokenized piece `s` (already byte-mapped or normalized).
ErrorOr<void> Tokenizer::encode_piece(std::string_view s, Vector<u32>& out) const
{
    if (s.empty())
        return {};
    if (m_ignore_merges) {
        if (auto id = find_token(s))
            return out.try_append(*id);
    }
    Vector<Symbol> symbols;
    for (size_t pos = 0; pos < s.size();) {
        auto decoded = utf8_decode_at(s, pos);
        std::string_view ch = s.substr(pos, decoded.length);
        auto id = find_token(ch);
        if (!id && m_priority == MergePriority::Rank && m_byte_fallback) {
            // HF BPE: an unknown character becomes its byte tokens before merging.
            for (size_t b = 0; b < ch.size(); ++b) {
                u32 byte_id = m_byte_tokens[static_cast<u8>(ch[b])];
                TRY(symbols.try_append({ static_cast<u32>(pos + b), 1, byte_id, static_cast<i32>(symbols.size()) - 1, static_cast<i32>(symbols.size()) + 1 }));
            }
        } else {
            TRY(symbols.try_append({ static_cast<u32>(pos), decoded.length, id ? *id : s_invalid, static_cast<i32>(symbols.size()) - 1, static_cast<i32>(symbols.size()) + 1 }));
        }
        pos += decoded.length;
    }
    symbols.last().next = -1;

    CandidateHeap heap;
    auto consider = [&](i32 left) -> ErrorOr<void> {
        if (left < 0)
            return {};
        auto const& l = symbols[static_cast<size_t>(left)];
        if (l.next < 0)
            return {};
        auto const& r = symbols[static_cast<size_t>(l.next)];
        Candidate c { 0, static_cast<u32>(left), l.id, r.id, l.length, r.length, 0 };
        if (m_priority == MergePriority::Rank) {
            if (l.id == s_invalid || r.id == s_invalid)
                return {};
            auto const* merge = m_merges.get((static_cast<u64>(l.id) << 32) | r.id);
            if (!merge)
                return {};
            c.priority = merge->rank;
            c.result = merge->result;
        } else {
            auto id = find_token(s.substr(l.start, l.length + r.length));
            if (!id)
                return {};
            c.priority = -static_cast<double>(m_tokens[*id].score);
            c.result = *id;
        }
        return heap.push(c);
    };
    for (size_t i = 0; i + 1 < symbols.size(); ++i)
        TRY(consider(static_cast<i32>(i)));
    while (!heap.is_empty()) {
        Candidate c = heap.pop();
        auto& l = symbols[c.left];
        if (l.length == 0 || l.next < 0)
            continue;
        auto& r = symbols[static_cast<size_t>(l.next)];
        if (l.id != c.left_id || r.id != c.right_id || l.length != c.left_length || r.length != c.right_length)
            continue; // stale: one side changed since this candidate was queued
        l.id = c.result;
        l.length += r.length;
        r.length = 0;
        l.next = r.next;
        if (r.next >= 0)
            symbols[static_cast<size_t>(r.next)].prev = static_cast<i32>(c.left);
        TRY(consider(l.prev));
        TRY(consider(static_cast<i32>(c.left)));
    }
    for (i32 i = 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) {
        auto const& sym = symbols[static_cast<size_t>(i)];
        if (sym.id != s_invalid)
            TRY(out.try_append(sym.id));
        else
            TRY(emit_unknown_bytes(s.substr(sym.start, sym.length), out));
    }
    return {};
}

ErrorOr<void> Tokenizer::encode_text_segment(std::string_view text, bool at_text_start, Vector<u32>& out) const
{
    if (text.empty())
        return {};
    if (m_kind == TokenizerKind::ByteLevelBpe) {
        Vector<std::string_view> pieces;
        TRY(pre_tokenize(m_pre, text, pieces));
        Vector<char> mapped;
        for (auto piece : pieces) {
            mapped.clear();
            for (char c : piece) {
                char utf8[4];
                size_t n = utf8_encode(byte_level_encode(static_cast<u8>(c)), utf8);
                TRY(mapped.try_append(utf8, n));
            }
            TRY(encode_piece(std::string_view(mapped.data(), mapped.size()), out));
        }
        return {};
    }
    Vector<char> normalized;
    bool prefix = m_space_prefix == SpacePrefix::EveryPiece || (m_space_prefix == SpacePrefix::FirstPiece && at_text_start);
    if (prefix)
        TRY(normalized.try_append(m_replace_spaces ? s_metaspace.data() : " ", m_replace_spaces ? s_metaspace.size() : 1));
    for (char c : text) {
        if (c == ' ' && m_replace_spaces)
            TRY(normalized.try_append(s_metaspace.data(), s_metaspace.size()));
        else
            TRY(normalized.try_append(c));
    }
    Vector<char> renormalized;
    if (m_normalize_after_spaces) {
        TRY(unicode_normalize(std::string_view(normalized.data(), normalized.size()), m_normalization, renormalized));
        normalized = std::move(renormalized);
    }
    std::string_view all(normalized.data(), normalized.size());
    if (!m_split_on_metaspace)
        return encode_piece(all, out);
    // Metaspace(split=true): a new word starts at every "▁".
    size_t word = 0;
    for (size_t pos = 1; pos + s_metaspace.size() <= all.size(); ++pos) {
        if (all.substr(pos, s_metaspace.size()) == s_metaspace) {
            TRY(encode_piece(all.substr(word, pos - word), out));
            word = pos;
        }
    }
    return encode_piece(all.substr(word), out);
}

// Finds the added tokens of one list in `text` (longest first at each
// position) and hands the text between them to `encode_piece`.
template<typename EncodePiece>
ErrorOr<void> Tokenizer::split_on_specials(std::string_view text, Vector<Special> const& specials, bool const (&starts)[256], bool at_text_start, Vector<u32>& out, EncodePiece encode_piece) const
{
    size_t segment = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        Special const* match = nullptr;
        if (!starts[static_cast<u8>(text[pos])]) {
            ++pos;
            continue;
        }
        for (auto const& special : specials) {
            if (special.text.size() <= text.size() - pos && special.text[0] == text[pos] && text.substr(pos, special.text.size()) == special.text) {
                match = &special;
                break; // longest first
            }
        }
        if (!match) {
            ++pos;
            continue;
        }
        TRY(encode_piece(text.substr(segment, pos - segment), at_text_start && segment == 0));
        TRY(out.try_append(match->id));
        pos += match->text.size();
        segment = pos;
    }
    return encode_piece(text.substr(segment), at_text_start && segment == 0);
}

// Text between two raw-matched added tokens: as HF, normalize it, then
// split out the added tokens that are matched in normalized text.
ErrorOr<void> Tokenizer::encode_raw_piece(std::string_view text, bool at_text_start, Vector<u32>& out) const
{
    if (m_normalization == NormalizationForm::None || m_normalize_after_spaces || text.empty())
        return encode_text_segment(text, at_text_start, out);
    Vector<char> normalized;
    TRY(unicode_normalize(text, m_normalization, normalized));
    std::string_view view(normalized.data(), normalized.size());
    if (m_normalized_specials.is_empty())
        return encode_text_segment(view, at_text_start, out);
    return split_on_specials(view, m_normalized_specials, m_normalized_special_starts, at_text_start, out,
        [&](std::string_view piece, bool start) { return encode_text_segment(piece, start, out); });
}

ErrorOr<void> Tokenizer::encode(std::string_view text, Vector<u32>& out) const
{
    return split_on_specials(text, m_specials, m_special_starts, true, out,
        [&](std::string_view piece, bool start) { return encode_raw_piece(piece, start, out); });
}

ErrorOr<void> Tokenizer::append_token_bytes(u32 id, Position position, Vector<char>& out) const
{
    if (id >= m_tokens.size())
        return Error::invalid("token id is outside the vocabulary");
    auto const& token = m_tokens[id];
    std::string_view text = token.text;
    if (m_kind == TokenizerKind::ByteLevelBpe) {
        // As HF's ByteLevel decoder: map every char back to its byte, or
        // keep the raw text when some char is not in the mapping.
        size_t start = out.size();
        for (size_t pos = 0; pos < text.size();) {
            auto decoded = utf8_decode_at(text, pos);
            int byte = byte_level_decode(decoded.code_point);
            if (byte < 0 || decoded.code_point == 0xFFFD) {
                out.shrink_size(start);
                return out.try_append(text.data(), text.size());
            }
            TRY(out.try_append(static_cast<char>(byte)));
            pos += decoded.length;
        }
        return {};
    }
    // As HF's ByteFallback decoder: any "<0xNN>" token is that byte.
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    };
    if (m_byte_fallback && text.size() == 6 && text.substr(0, 3) == "<0x" && text[5] == '>' && hex(text[3]) >= 0 && hex(text[4]) >= 0)
        return out.try_append(static_cast<char>(hex(text[3]) * 16 + hex(text[4])));
    size_t start = out.size();
    for (size_t pos = 0; pos < text.size();) {
        if (text.substr(pos, 3) == s_metaspace) {
            TRY(out.try_append(' '));
            pos += 3;
        } else {
            TRY(out.try_append(text[pos]));
            ++pos;
        }
    }
    if (position == Position::First && m_strip_leading_space && out.size() > start && out[start] == ' ') {
        for (size_t i = start; i + 1 < out.size(); ++i)
            out[i] = out[i + 1];
        out.shrink_size(out.size() - 1);
    }
    return {};
}

ErrorOr<void> Tokenizer::decode(u32 const* ids, size_t count, Vector<char>& out) const
{
    Vector<char> raw;
    for (size_t i = 0; i < count; ++i)
        TRY(append_token_bytes(ids[i], i == 0 ? Position::First : Position::Later, raw));
    return append_utf8_lossy(std::string_view(raw.data(), raw.size()), out);
}

ErrorOr<void> append_utf8_lossy(std::string_view bytes, Vector<char>& out)
{
    // Invalid UTF-8 becomes U+FFFD, one per maximal invalid subpart.
    for (size_t pos = 0; pos < bytes.size();) {
        size_t length = utf8_sequence_length(bytes.substr(pos));
        if (length > 0) {
            TRY(out.try_append(bytes.data() + pos, length));
            pos += length;
            continue;
        }
        // Skip the lead byte and the continuation bytes that were still plausible.
        u8 lead = static_cast<u8>(bytes[pos]);
        size_t skip = 1;
        size_t need = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 1;
        if (lead >= 0xC2 && lead <= 0xF4) {
            for (size_t k = 1; k < need && pos + k < bytes.size(); ++k) {
                u8 c = static_cast<u8>(bytes[pos + k]);
                u8 lo = 0x80, hi = 0xBF;
                if (k == 1) {
                    if (lead == 0xE0) lo = 0xA0;
                    if (lead == 0xED) hi = 0x9F;
                    if (lead == 0xF0) lo = 0x90;
                    if (lead == 0xF4) hi = 0x8F;
                }
                if (c < lo || c > hi)
                    break;
                ++skip;
            }
        }
        TRY(out.try_append("\xEF\xBF\xBD", 3));
        pos += skip;
    }
    return {};
}

} // namespace aisos::engine
