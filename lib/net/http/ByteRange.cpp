#include "lib/net/http/ByteRange.h"
#include "lib/base/Format.h"

namespace aisos::http {

static bool parse_decimal(std::string_view text, uint64_t& value)
{
    if (text.empty() || text.size() > 19)
        return false;
    value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + uint64_t(c - '0');
    }
    return true;
}

ByteRange parse_byte_range(std::string_view header, uint64_t size)
{
    ByteRange range;
    // Trim optional whitespace around the value.
    while (!header.empty() && (header.front() == ' ' || header.front() == '\t'))
        header.remove_prefix(1);
    while (!header.empty() && (header.back() == ' ' || header.back() == '\t'))
        header.remove_suffix(1);
    constexpr std::string_view unit = "bytes=";
    if (header.size() <= unit.size())
        return range;
    // The range unit is case-insensitive.
    for (size_t i = 0; i < unit.size(); ++i) {
        char c = header[i];
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
        if (c != unit[i])
            return range;
    }
    auto spec = header.substr(unit.size());
    if (spec.find(',') != std::string_view::npos)
        return range; // several ranges: serve the whole representation
    size_t dash = spec.find('-');
    if (dash == std::string_view::npos)
        return range;
    auto first_text = spec.substr(0, dash);
    auto last_text = spec.substr(dash + 1);
    if (first_text.empty()) {
        uint64_t suffix;
        if (!parse_decimal(last_text, suffix))
            return range;
        if (suffix == 0 || size == 0) {
            range.kind = ByteRange::Kind::Unsatisfiable;
            return range;
        }
        range.kind = ByteRange::Kind::Satisfiable;
        range.first = suffix >= size ? 0 : size - suffix;
        range.last = size - 1;
        return range;
    }
    uint64_t first;
    if (!parse_decimal(first_text, first))
        return range;
    uint64_t last = ~uint64_t(0);
    if (!last_text.empty()) {
        if (!parse_decimal(last_text, last))
            return range;
        if (last < first)
            return range; // invalid range-spec: ignored
    }
    if (first >= size) {
        range.kind = ByteRange::Kind::Unsatisfiable;
        return range;
    }
    range.kind = ByteRange::Kind::Satisfiable;
    range.first = first;
    range.last = last >= size ? size - 1 : last;
    return range;
}

std::string_view format_content_range(const ByteRange& range, uint64_t size, char (&buffer)[content_range_max_length])
{
    if (range.kind == ByteRange::Kind::Satisfiable)
        return format_to(buffer, sizeof(buffer), "bytes {}-{}/{}", range.first, range.last, size);
    return format_to(buffer, sizeof(buffer), "bytes */{}", size);
}

} // namespace aisos::http
