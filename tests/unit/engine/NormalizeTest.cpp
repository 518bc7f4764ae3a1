// Unicode normalization (engine/tokenizer/Normalize.h) against Python's
// unicodedata.normalize: tests/unit/engine/data/normalization_vectors.txt is
// written by tools/gen_unicode_normalization.py together with the tables.
#include "engine/format/Json.h"
#include "engine/tokenizer/Normalize.h"
#include "engine/tokenizer/UnicodeNormalizationTables.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <vector>

using namespace aisos;
using namespace aisos::engine;

namespace {

std::string normalize(std::string const& text, NormalizationForm form)
{
    Vector<char> out;
    auto result = unicode_normalize(text, form, out);
    EXPECT_FALSE(result.is_error());
    return std::string(out.data(), out.size());
}

std::string utf8(std::vector<u32> const& code_points)
{
    std::string out;
    for (u32 cp : code_points) {
        char buf[4];
        out.append(buf, utf8_encode(cp, buf));
    }
    return out;
}

std::string hex_to_utf8(std::string const& field)
{
    std::vector<u32> cps;
    std::istringstream in(field);
    std::string item;
    while (in >> item)
        cps.push_back(static_cast<u32>(std::strtoul(item.c_str(), nullptr, 16)));
    return utf8(cps);
}

struct Vectors {
    std::string version;
    std::vector<std::vector<std::string>> rows; // source, NFC, NFKC, NFD, NFKD as UTF-8
};

Vectors const& vectors()
{
    static Vectors const loaded = [] {
        Vectors v;
        std::ifstream file(AISOS_ENGINE_TEST_DATA "/normalization_vectors.txt");
        std::string line;
        while (std::getline(file, line)) {
            if (line.rfind("# Unicode ", 0) == 0)
                v.version = line.substr(10, line.find(' ', 10) - 10);
            if (line.empty() || line[0] == '#')
                continue;
            std::vector<std::string> row;
            std::istringstream fields(line);
            std::string field;
            while (std::getline(fields, field, ';'))
                row.push_back(hex_to_utf8(field));
            v.rows.push_back(row);
        }
        return v;
    }();
    return loaded;
}

void check_form(size_t column, NormalizationForm form, char const* name)
{
    auto const& v = vectors();
    ASSERT_GT(v.rows.size(), 5000u) << "test vectors missing or truncated";
    size_t failures = 0;
    for (size_t i = 0; i < v.rows.size(); ++i) {
        auto const& row = v.rows[i];
        ASSERT_EQ(row.size(), 5u) << "line " << i + 3;
        std::string got = normalize(row[0], form);
        if (got != row[column] && ++failures <= 10)
            ADD_FAILURE() << name << " of vector " << i + 3 << " differs from unicodedata";
    }
    EXPECT_EQ(failures, 0u) << name;
}

} // namespace

TEST(Normalize, VectorsMatchTheTablesUnicodeVersion)
{
    EXPECT_EQ(vectors().version, std::string(s_normalization_unicode_version));
}

TEST(Normalize, NfcMatchesUnicodedata) { check_form(1, NormalizationForm::Nfc, "NFC"); }
TEST(Normalize, NfkcMatchesUnicodedata) { check_form(2, NormalizationForm::Nfkc, "NFKC"); }
TEST(Normalize, NfdMatchesUnicodedata) { check_form(3, NormalizationForm::Nfd, "NFD"); }
TEST(Normalize, NfkdMatchesUnicodedata) { check_form(4, NormalizationForm::Nfkd, "NFKD"); }

TEST(Normalize, NormalizedFormsAreStable)
{
    // NFC(NFC(x)) == NFC(x) and likewise for the other forms, over the corpus.
    for (auto const& row : vectors().rows) {
        EXPECT_EQ(normalize(row[1], NormalizationForm::Nfc), row[1]);
        EXPECT_EQ(normalize(row[2], NormalizationForm::Nfkc), row[2]);
        EXPECT_EQ(normalize(row[3], NormalizationForm::Nfd), row[3]);
    }
}

TEST(Normalize, ComposesDecomposedAccents)
{
    EXPECT_EQ(normalize("e\xCC\x81", NormalizationForm::Nfc), "\xC3\xA9");                // e + U+0301 -> é
    EXPECT_EQ(normalize("\xC3\xA9", NormalizationForm::Nfd), "e\xCC\x81");                // é -> e + U+0301
    EXPECT_EQ(normalize("Cafe\xCC\x81!", NormalizationForm::Nfc), "Caf\xC3\xA9!");
    // U+1E69 (s with dot below and dot above) from s + dot above + dot below: reordered, then composed.
    EXPECT_EQ(normalize(utf8({ 's', 0x307, 0x323 }), NormalizationForm::Nfc), utf8({ 0x1E69 }));
    EXPECT_EQ(normalize(utf8({ 's', 0x307, 0x323 }), NormalizationForm::Nfd), utf8({ 's', 0x323, 0x307 }));
}

TEST(Normalize, BlockedCompositionStaysDecomposed)
{
    // a + U+0301 + U+0301: the second acute has the same class as the first, so it is blocked.
    EXPECT_EQ(normalize(utf8({ 'a', 0x301, 0x301 }), NormalizationForm::Nfc), utf8({ 0xE1, 0x301 }));
    // a + U+0305 (class 230, no composite with a) + U+0301: blocked by the equal-class mark.
    EXPECT_EQ(normalize(utf8({ 'a', 0x305, 0x301 }), NormalizationForm::Nfc), utf8({ 'a', 0x305, 0x301 }));
    // a + U+0323 (class 220) + U+0301 (230): not blocked; the dot below composes after.
    EXPECT_EQ(normalize(utf8({ 'a', 0x323, 0x301 }), NormalizationForm::Nfc), utf8({ 0x1EA1, 0x301 }));
}

TEST(Normalize, ExclusionsAndSingletons)
{
    EXPECT_EQ(normalize(utf8({ 0x212B }), NormalizationForm::Nfc), utf8({ 0xC5 }));         // ANGSTROM SIGN -> Å
    EXPECT_EQ(normalize(utf8({ 0x2126 }), NormalizationForm::Nfc), utf8({ 0x3A9 }));        // OHM SIGN -> Ω
    EXPECT_EQ(normalize(utf8({ 0x958 }), NormalizationForm::Nfc), utf8({ 0x915, 0x93C })); // excluded: stays decomposed
    EXPECT_EQ(normalize(utf8({ 0x915, 0x93C }), NormalizationForm::Nfc), utf8({ 0x915, 0x93C }));
    EXPECT_EQ(normalize(utf8({ 0x344 }), NormalizationForm::Nfc), utf8({ 0x308, 0x301 })); // non-starter decomposition
    EXPECT_EQ(unicode_compose_pair(0x915, 0x93C), 0u);
    EXPECT_EQ(unicode_compose_pair('e', 0x301), 0xE9u);
}

TEST(Normalize, Hangul)
{
    // 한 (U+D55C) = ᄒ U+1112 + ᅡ U+1161 + ᆫ U+11AB.
    EXPECT_EQ(normalize(utf8({ 0xD55C }), NormalizationForm::Nfd), utf8({ 0x1112, 0x1161, 0x11AB }));
    EXPECT_EQ(normalize(utf8({ 0x1112, 0x1161, 0x11AB }), NormalizationForm::Nfc), utf8({ 0xD55C }));
    EXPECT_EQ(normalize(utf8({ 0xD558, 0x11AB }), NormalizationForm::Nfc), utf8({ 0xD55C })); // LV + T
    EXPECT_EQ(normalize(utf8({ 0xD55C, 0x11AB }), NormalizationForm::Nfc), utf8({ 0xD55C, 0x11AB })); // LVT + T
    EXPECT_EQ(normalize(utf8({ 0x1112, 0x1161, 0x11A7 }), NormalizationForm::Nfc), utf8({ 0xD558, 0x11A7 })); // T base is no T
    EXPECT_EQ(normalize(utf8({ 0x3131 }), NormalizationForm::Nfkc), utf8({ 0x1100 })); // compatibility jamo
}

TEST(Normalize, CompatibilityCharacters)
{
    EXPECT_EQ(normalize("\xEF\xAC\x81", NormalizationForm::Nfkc), "fi");                       // ﬁ
    EXPECT_EQ(normalize("\xEF\xAC\x81", NormalizationForm::Nfc), "\xEF\xAC\x81");
    EXPECT_EQ(normalize("\xE2\x91\xA0", NormalizationForm::Nfkc), "1");                        // ①
    EXPECT_EQ(normalize("\xEF\xBC\xA1\xEF\xBD\x82", NormalizationForm::Nfkc), "Ab");           // full-width Ａｂ
    EXPECT_EQ(normalize("\xE3\x8E\x9E", NormalizationForm::Nfkc), "km");                       // ㎞
    EXPECT_EQ(normalize("\xC2\xA0x", NormalizationForm::Nfkc), " x");                          // NBSP
    EXPECT_EQ(normalize(utf8({ 0xFDFA }), NormalizationForm::Nfkc).size(), 33u);                // 18 code points, the longest
}

TEST(Normalize, AsciiAndEmptyAreUnchanged)
{
    EXPECT_EQ(normalize("", NormalizationForm::Nfc), "");
    std::string ascii;
    for (int c = 0; c < 128; ++c)
        ascii += static_cast<char>(c);
    for (auto form : { NormalizationForm::Nfc, NormalizationForm::Nfkc, NormalizationForm::Nfd, NormalizationForm::Nfkd, NormalizationForm::None })
        EXPECT_EQ(normalize(ascii, form), ascii);
}

TEST(Normalize, InvalidUtf8PassesThroughUnchanged)
{
    // Stray continuation bytes, a truncated sequence, an overlong encoding,
    // a surrogate and bytes that never occur in UTF-8 are copied as they are,
    // and nothing composes across them.
    std::string const bad[] = {
        "\x80", "a\xCC", "e\xFF\xCC\x81", "\xC0\xAF", "\xED\xA0\x80", "\xF5\x80\x80\x80", "\xE2\x82", "x\xFE\xFFy",
    };
    for (auto const& text : bad) {
        for (auto form : { NormalizationForm::Nfc, NormalizationForm::Nfkc, NormalizationForm::Nfd, NormalizationForm::Nfkd })
            EXPECT_EQ(normalize(text, form), text);
    }
    // Valid parts around invalid bytes are still normalized.
    EXPECT_EQ(normalize("\xFF" "e\xCC\x81\xFF", NormalizationForm::Nfc), "\xFF\xC3\xA9\xFF");
    // An invalid byte blocks composition across it: the mark stays a mark.
    EXPECT_EQ(normalize("e\xFF\xCC\x81", NormalizationForm::Nfc), "e\xFF\xCC\x81");
    // A real U+FFFD is a character, not an invalid byte.
    EXPECT_EQ(normalize("\xEF\xBF\xBD", NormalizationForm::Nfkc), "\xEF\xBF\xBD");
}

TEST(Normalize, CombiningClasses)
{
    EXPECT_EQ(unicode_combining_class('a'), 0);
    EXPECT_EQ(unicode_combining_class(0x301), 230);
    EXPECT_EQ(unicode_combining_class(0x323), 220);
    EXPECT_EQ(unicode_combining_class(0x345), 240);
    EXPECT_EQ(unicode_combining_class(0x3099), 8);
    EXPECT_EQ(unicode_combining_class(0x10FFFF), 0);
}

TEST(Normalize, LongRunsOfMarksAreOrderedStably)
{
    // 3000 marks in one run take the counting-sort path; the order within a
    // class is kept (stable), and it agrees with short runs.
    std::vector<u32> input = { 'a' }, expected = { 'a' };
    u32 const cycle[] = { 0x301, 0x323, 0x334, 0x300 }; // classes 230, 220, 1, 230
    for (int i = 0; i < 3000; ++i)
        input.push_back(cycle[i % 4]);
    for (u32 mark : { 0x334u, 0x323u }) {
        for (int i = 0; i < 750; ++i)
            expected.push_back(mark);
    }
    for (int i = 0; i < 750; ++i) {
        expected.push_back(0x301);
        expected.push_back(0x300);
    }
    EXPECT_EQ(normalize(utf8(input), NormalizationForm::Nfd), utf8(expected));
    // a + U+0323 composes to U+1EA1 past the class-1 marks; nothing else composes.
    expected.erase(expected.begin() + 751);
    expected[0] = 0x1EA1;
    EXPECT_EQ(normalize(utf8(input), NormalizationForm::Nfc), utf8(expected));
}
