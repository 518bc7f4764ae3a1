// libFuzzer target: Unicode normalization of arbitrary bytes (valid UTF-8 or
// not). Beyond not crashing, it checks properties every form must have:
// each form is idempotent, and composing forms do not depend on whether the
// input was decomposed first (NFC(NFD(x)) == NFC(x), NFKC(NFKD(x)) == NFKC(x)).
#include "engine/tokenizer/Normalize.h"

#include <cstring>
#include <string_view>

using namespace aisos::engine;

namespace {

std::string_view view(Vector<char> const& v) { return std::string_view(v.data(), v.size()); }

void check(std::string_view input, NormalizationForm form, NormalizationForm decomposed)
{
    Vector<char> once, twice, via_decomposed, composed_again;
    if (unicode_normalize(input, form, once).is_error())
        return; // out of memory only
    if (unicode_normalize(view(once), form, twice).is_error())
        return;
    if (view(once) != view(twice))
        __builtin_trap();
    if (unicode_normalize(input, decomposed, via_decomposed).is_error())
        return;
    if (unicode_normalize(view(via_decomposed), form, composed_again).is_error())
        return;
    if (view(once) != view(composed_again))
        __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::string_view input(reinterpret_cast<char const*>(data), size);
    check(input, NormalizationForm::Nfc, NormalizationForm::Nfd);
    check(input, NormalizationForm::Nfkc, NormalizationForm::Nfkd);
    check(input, NormalizationForm::Nfd, NormalizationForm::Nfd);
    return 0;
}
