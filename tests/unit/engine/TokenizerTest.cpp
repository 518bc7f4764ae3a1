#include "engine/format/Json.h"
#include "engine/tokenizer/PreTokenizer.h"
#include "engine/tokenizer/StreamDecoder.h"
#include "engine/tokenizer/Tokenizer.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace aisos;
using namespace aisos::engine;

namespace {

std::string json_escape(std::string const& s)
{
    std::string out;
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string byte_char(unsigned b)
{
    char buf[4];
    size_t n = utf8_encode(byte_level_encode(static_cast<u8>(b)), buf);
    return std::string(buf, n);
}

// Byte-level vocabulary: ids 0..255 are the mapped bytes, then merges.
std::string byte_level_json()
{
    std::string vocab;
    for (unsigned b = 0; b < 256; ++b)
        vocab += "\"" + json_escape(byte_char(b)) + "\":" + std::to_string(b) + ",";
    vocab += "\"he\":256,\"ll\":257,\"hell\":258,\"" + byte_char(' ') + "w\":259";
    return R"({"added_tokens":[{"id":260,"content":"<|end|>","special":true}],"normalizer":null,
        "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},
        "decoder":{"type":"ByteLevel"},
        "model":{"type":"BPE","vocab":{)" + vocab + R"(},"merges":["h e",["l","l"],"he ll",")" + byte_char(' ') + R"( w"]}})";
}

std::string sentencepiece_json()
{
    std::string vocab = R"("<unk>":0,"<s>":1,"</s>":2,)";
    for (unsigned b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", b);
        vocab += "\"" + std::string(name) + "\":" + std::to_string(3 + b) + ",";
    }
    vocab += "\"\xE2\x96\x81\":259,\"a\":260,\"b\":261,\"\xE2\x96\x81" "a\":262,\"ab\":263,\"\xE2\x96\x81" "ab\":264";
    return R"({"added_tokens":[{"id":0,"content":"<unk>","special":true},{"id":1,"content":"<s>","special":true},{"id":2,"content":"</s>","special":true}],
        "normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"\u2581"},{"type":"Replace","pattern":{"String":" "},"content":"\u2581"}]},
        "pre_tokenizer":null,
        "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"pair":[],"special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}},
        "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"\u2581"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
        "model":{"type":"BPE","byte_fallback":true,"unk_token":"<unk>","vocab":{)" + vocab + R"(},"merges":["\u2581 a","a b","\u2581a b"]}})";
}

std::vector<u32> encode(Tokenizer const& t, std::string const& text)
{
    Vector<u32> ids;
    auto result = t.encode(text, ids);
    EXPECT_FALSE(result.is_error());
    return std::vector<u32>(ids.begin(), ids.end());
}

std::string decode(Tokenizer const& t, std::vector<u32> const& ids)
{
    Vector<char> text;
    EXPECT_FALSE(t.decode(ids.data(), ids.size(), text).is_error());
    return std::string(text.data(), text.size());
}

} // namespace

TEST(PreTokenizer, Gpt2Splits)
{
    Vector<std::string_view> pieces;
    ASSERT_FALSE(pre_tokenize({ PreTokenizerRegex::Gpt2, false }, "Hello world's  2024!!\n\n x", pieces).is_error());
    std::vector<std::string> got(pieces.begin(), pieces.end());
    std::vector<std::string> expected = { "Hello", " world", "'s", " ", " 2024", "!!", "\n\n", " x" };
    EXPECT_EQ(got, expected);
}

TEST(PreTokenizer, Llama3SplitsDigitsInThreesAndNewlines)
{
    Vector<std::string_view> pieces;
    ASSERT_FALSE(pre_tokenize({ PreTokenizerRegex::Llama3, false }, "I'M 1234567 ok.\n\n  end", pieces).is_error());
    std::vector<std::string> got(pieces.begin(), pieces.end());
    std::vector<std::string> expected = { "I", "'M", " ", "123", "456", "7", " ok", ".\n\n", "  end" };
    // "  end": [^\r\n\p{L}\p{N}]?\p{L}+ takes one space; the other space is its own piece.
    expected = { "I", "'M", " ", "123", "456", "7", " ok", ".\n\n", " ", " end" };
    EXPECT_EQ(got, expected);
}

TEST(PreTokenizer, DigitsAreIsolated)
{
    Vector<std::string_view> pieces;
    ASSERT_FALSE(pre_tokenize({ PreTokenizerRegex::Gpt2, true }, "ab12 c", pieces).is_error());
    std::vector<std::string> got(pieces.begin(), pieces.end());
    std::vector<std::string> expected = { "ab", "1", "2", " c" };
    EXPECT_EQ(got, expected);
}

TEST(Tokenizer, ByteLevelBpeMergesInBothEncodings)
{
    Tokenizer t;
    auto result = Tokenizer::load_from_json(byte_level_json(), t);
    ASSERT_FALSE(result.is_error()) << result.error().reason();
    EXPECT_EQ(t.kind(), TokenizerKind::ByteLevelBpe);
    EXPECT_EQ(t.vocab_size(), 261u);
    // "hello" -> hell o ; " world" -> Ġw o r l d
    std::vector<u32> expected = { 258, 'o', 259, 'o', 'r', 'l', 'd' };
    EXPECT_EQ(encode(t, "hello world"), expected);
    EXPECT_EQ(decode(t, expected), "hello world");
}

TEST(Tokenizer, SpecialTokensInTextAreRecognized)
{
    Tokenizer t;
    ASSERT_FALSE(Tokenizer::load_from_json(byte_level_json(), t).is_error());
    std::vector<u32> expected = { 'a', 260, 'b' };
    EXPECT_EQ(encode(t, "a<|end|>b"), expected);
    EXPECT_TRUE(t.is_end_of_generation(260) || !t.is_end_of_generation(260)); // no EOS configured: either is fine
    EXPECT_EQ(decode(t, expected), "a<|end|>b");
}

TEST(Tokenizer, ByteLevelHandlesArbitraryBytes)
{
    Tokenizer t;
    ASSERT_FALSE(Tokenizer::load_from_json(byte_level_json(), t).is_error());
    std::string text = "\xF0\x9F\x98\x80 \t\n\xE4\xBD\xA0";
    auto ids = encode(t, text);
    EXPECT_EQ(ids.size(), text.size()); // no merges apply: one token per byte
    EXPECT_EQ(decode(t, ids), text);
}

TEST(Tokenizer, SentencePieceByteFallbackAndPrefix)
{
    Tokenizer t;
    auto result = Tokenizer::load_from_json(sentencepiece_json(), t);
    ASSERT_FALSE(result.is_error()) << result.error().reason();
    EXPECT_EQ(t.kind(), TokenizerKind::SentencePieceBpe);
    std::vector<u32> expected = { 264, 264, 259, 3 + 0xC3, 3 + 0xA9 };
    EXPECT_EQ(encode(t, "ab ab \xC3\xA9"), expected);
    EXPECT_EQ(decode(t, expected), "ab ab \xC3\xA9");
    ASSERT_EQ(t.prefix_tokens().size(), 1u);
    EXPECT_EQ(t.prefix_tokens()[0], 1u);
    // The prefix "▁" is added to each text piece between special tokens.
    std::vector<u32> with_special = { 262, 1, 262 };
    EXPECT_EQ(encode(t, "a<s>a"), with_special);
}

TEST(Tokenizer, StreamingDecodeNeverSplitsCharacters)
{
    Tokenizer t;
    ASSERT_FALSE(Tokenizer::load_from_json(sentencepiece_json(), t).is_error());
    StreamDecoder decoder(t);
    Vector<char> out;
    std::vector<std::string> chunks;
    // "▁ab", then "é" as two byte tokens, then a 4-byte emoji as four.
    std::vector<u32> ids = { 264, 3 + 0xC3, 3 + 0xA9, 3 + 0xF0, 3 + 0x9F, 3 + 0x98, 3 + 0x80 };
    for (u32 id : ids) {
        out.clear();
        ASSERT_FALSE(decoder.push(id, out).is_error());
        chunks.emplace_back(out.data(), out.size());
    }
    std::vector<std::string> expected = { "ab", "", "\xC3\xA9", "", "", "", "\xF0\x9F\x98\x80" };
    EXPECT_EQ(chunks, expected);
    out.clear();
    ASSERT_FALSE(decoder.flush(out).is_error());
    EXPECT_EQ(out.size(), 0u);
}

TEST(Tokenizer, StreamingDecodeReplacesBrokenSequencesAtFlush)
{
    Tokenizer t;
    ASSERT_FALSE(Tokenizer::load_from_json(sentencepiece_json(), t).is_error());
    StreamDecoder decoder(t);
    Vector<char> out;
    ASSERT_FALSE(decoder.push(3 + 0xE4, out).is_error());
    EXPECT_EQ(out.size(), 0u);
    ASSERT_FALSE(decoder.flush(out).is_error());
    EXPECT_EQ(std::string(out.data(), out.size()), "\xEF\xBF\xBD");
}

TEST(Tokenizer, RejectsBadTokenizerJson)
{
    char const* bad[] = {
        "{}",
        R"({"model":{"type":"Unigram","vocab":[]}})",
        R"({"model":{"type":"BPE","vocab":{}}})",
        R"({"model":{"type":"BPE","vocab":{"a":-1}}})",
        R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[1]}})",
        R"({"model":{"type":"BPE","vocab":{"a":0},"merges":["a"]}})",
        R"({"model":{"type":"BPE","vocab":{"a":0}},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"x+"}}})",
        R"({"model":{"type":"BPE","vocab":{"a":0}},"normalizer":{"type":"Lowercase"}})",
        R"({"model":{"type":"BPE","vocab":{"a":99999999}}})",
        "not json",
    };
    for (auto const* text : bad) {
        Tokenizer t;
        EXPECT_TRUE(Tokenizer::load_from_json(text, t).is_error()) << text;
    }
}

namespace {

// byte_level_json() with another normalizer and more added tokens (ids from 261).
std::string byte_level_json_with(std::string const& normalizer, std::string const& more_added = "")
{
    std::string json = byte_level_json();
    auto replace = [&](std::string const& from, std::string const& to) {
        size_t at = json.find(from);
        EXPECT_NE(at, std::string::npos);
        json.replace(at, from.size(), to);
    };
    replace("\"normalizer\":null", "\"normalizer\":" + normalizer);
    if (!more_added.empty())
        replace("\"special\":true}]", "\"special\":true}," + more_added + "]");
    return json;
}

std::vector<u32> bytes_of(std::string const& text)
{
    std::vector<u32> ids;
    for (unsigned char c : text)
        ids.push_back(c); // byte_level_json(): the token of each mapped byte has the byte's value as id
    return ids;
}

} // namespace

TEST(Tokenizer, NfcNormalizerComposesBeforePreTokenizing)
{
    Tokenizer plain, nfc;
    ASSERT_FALSE(Tokenizer::load_from_json(byte_level_json(), plain).is_error());
    auto result = Tokenizer::load_from_json(byte_level_json_with(R"({"type":"NFC"})"), nfc);
    ASSERT_FALSE(result.is_error()) << result.error().reason();
    EXPECT_EQ(encode(plain, "e\xCC\x81"), bytes_of("e\xCC\x81"));
    EXPECT_EQ(encode(nfc, "e\xCC\x81"), bytes_of("\xC3\xA9"));
    // NFC keeps compatibility characters.
    EXPECT_EQ(encode(nfc, "\xEF\xAC\x81"), bytes_of("\xEF\xAC\x81"));
    // Inside a Sequence, and around a special token (normalized: false by default for special tokens).
    Tokenizer sequence;
    ASSERT_FALSE(Tokenizer::load_from_json(byte_level_json_with(R"({"type":"Sequence","normalizers":[{"type":"NFC"}]})"), sequence).is_error());
    std::vector<u32> expected = bytes_of("\xC3\xA9");
    expected.push_back(260);
    expected.push_back(0xC3);
    expected.push_back(0xA9);
    EXPECT_EQ(encode(sequence, "e\xCC\x81<|end|>e\xCC\x81"), expected);
}

TEST(Tokenizer, NfkcNormalizerFoldsCompatibilityCharacters)
{
    Tokenizer t;
    auto result = Tokenizer::load_from_json(byte_level_json_with(R"({"type":"NFKC"})"), t);
    ASSERT_FALSE(result.is_error()) << result.error().reason();
    // ﬁ -> "fi", ① -> "1", full-width Ａ -> "A", ㎞ -> "km"; "he" merges.
    std::vector<u32> expected = { 'f', 'i', '1', 'A', 'k', 'm', 256 };
    EXPECT_EQ(encode(t, "\xEF\xAC\x81\xE2\x91\xA0\xEF\xBC\xA1\xE3\x8E\x9E" "he"), expected);
    // A special token whose text changes under NFKC is still matched in the raw text.
    Tokenizer special;
    ASSERT_FALSE(Tokenizer::load_from_json(byte_level_json_with(R"({"type":"NFKC"})",
                                               R"({"id":261,"content":"<\uff41>","special":true,"normalized":false})"),
        special)
                     .is_error());
    EXPECT_EQ(encode(special, "\x3C\xEF\xBD\x81\x3E"), std::vector<u32>({ 261 }));
}

TEST(Tokenizer, NormalizedAddedTokensAreMatchedAfterNormalization)
{
    // As HF: "normalized": true tokens are matched in the normalized text
    // against their normalized content; "normalized": false ones in the raw text.
    Tokenizer t;
    auto result = Tokenizer::load_from_json(byte_level_json_with(R"({"type":"NFC"})",
                                                R"({"id":261,"content":"xe\u0301","special":false,"normalized":true},)"
                                                R"({"id":262,"content":"qe\u0301","special":false,"normalized":false})"),
        t);
    ASSERT_FALSE(result.is_error()) << result.error().reason();
    EXPECT_EQ(encode(t, "xe\xCC\x81"), std::vector<u32>({ 261 }));
    EXPECT_EQ(encode(t, "x\xC3\xA9"), std::vector<u32>({ 261 }));
    EXPECT_EQ(encode(t, "qe\xCC\x81"), std::vector<u32>({ 262 }));
    EXPECT_EQ(encode(t, "q\xC3\xA9"), bytes_of("q\xC3\xA9"));
}

TEST(Tokenizer, NormalizersKeepInvalidUtf8Working)
{
    for (auto const* normalizer : { R"({"type":"NFC"})", R"({"type":"NFKC"})" }) {
        Tokenizer t;
        ASSERT_FALSE(Tokenizer::load_from_json(byte_level_json_with(normalizer), t).is_error());
        // Invalid bytes pass through as bytes; the valid "e" + U+0301 after them still composes.
        EXPECT_EQ(encode(t, "\xFF\xCC" "e\xCC\x81\x80"), bytes_of("\xFF\xCC\xC3\xA9\x80")) << normalizer;
        auto ids = encode(t, "\xC0\xAF\xED\xA0\x80");
        EXPECT_EQ(decode(t, ids), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
        EXPECT_EQ(ids, bytes_of("\xC0\xAF\xED\xA0\x80"));
    }
}

TEST(Tokenizer, NfkcBeforeOrAfterSentencePieceSpaces)
{
    // NBSP becomes " " under NFKC: before Replace it then turns into "▁",
    // after Replace it stays a space (byte fallback <0x20>).
    auto with = [](std::string const& normalizers) {
        std::string json = sentencepiece_json();
        std::string from = R"("normalizers":[{"type":"Prepend","prepend":"\u2581"},{"type":"Replace","pattern":{"String":" "},"content":"\u2581"}])";
        size_t at = json.find(from);
        EXPECT_NE(at, std::string::npos);
        json.replace(at, from.size(), "\"normalizers\":" + normalizers);
        return json;
    };
    Tokenizer before, after;
    auto result = Tokenizer::load_from_json(with(R"([{"type":"NFKC"},{"type":"Prepend","prepend":"\u2581"},{"type":"Replace","pattern":{"String":" "},"content":"\u2581"}])"), before);
    ASSERT_FALSE(result.is_error()) << result.error().reason();
    result = Tokenizer::load_from_json(with(R"([{"type":"Prepend","prepend":"\u2581"},{"type":"Replace","pattern":{"String":" "},"content":"\u2581"},{"type":"NFKC"}])"), after);
    ASSERT_FALSE(result.is_error()) << result.error().reason();
    EXPECT_EQ(encode(before, "a\xC2\xA0" "b"), std::vector<u32>({ 262, 259, 261 }));
    EXPECT_EQ(encode(after, "a\xC2\xA0" "b"), std::vector<u32>({ 262, 3 + 0x20, 261 }));
}

TEST(Tokenizer, NfdNormalizersAndSequencesOfThem)
{
    Tokenizer nfd, nfkd_then_nfc;
    ASSERT_FALSE(Tokenizer::load_from_json(byte_level_json_with(R"({"type":"NFD"})"), nfd).is_error());
    EXPECT_EQ(encode(nfd, "\xC3\xA9\xEF\xAC\x81"), bytes_of("e\xCC\x81\xEF\xAC\x81"));
    // NFKD then NFC is NFKC: ﬁ folds, é composes again.
    ASSERT_FALSE(Tokenizer::load_from_json(byte_level_json_with(R"({"type":"Sequence","normalizers":[{"type":"NFKD"},{"type":"NFC"}]})"), nfkd_then_nfc).is_error());
    EXPECT_EQ(encode(nfkd_then_nfc, "\xC3\xA9\xEF\xAC\x81"), bytes_of("\xC3\xA9" "fi"));
}
