#include "engine/format/Json.h"

#include <cmath>

namespace aisos::engine {

size_t utf8_encode(u32 cp, char* out)
{
    if (cp < 0x80) {
        out[0] = static_cast<char>(cp);
        return 1;
    }
    if (cp < 0x800) {
        out[0] = static_cast<char>(0xC0 | (cp >> 6));
        out[1] = static_cast<char>(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = static_cast<char>(0xE0 | (cp >> 12));
        out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out[2] = static_cast<char>(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = static_cast<char>(0xF0 | (cp >> 18));
    out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[3] = static_cast<char>(0x80 | (cp & 0x3F));
    return 4;
}

size_t utf8_sequence_length(std::string_view text)
{
    if (text.empty())
        return 0;
    auto byte = [&](size_t i) { return static_cast<u8>(text[i]); };
    u8 b0 = byte(0);
    if (b0 < 0x80)
        return 1;
    size_t length;
    u32 cp;
    if ((b0 & 0xE0) == 0xC0) {
        length = 2;
        cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
        length = 3;
        cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
        length = 4;
        cp = b0 & 0x07;
    } else {
        return 0;
    }
    if (text.size() < length)
        return 0;
    for (size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (byte(i) & 0x3F);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    if ((length == 2 && cp < 0x80) || (length == 3 && cp < 0x800) || (length == 4 && cp < 0x10000))
        return 0;
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return length;
}

namespace {

class Parser {
public:
    Parser(std::string_view text, JsonLimits limits, Vector<JsonValue>& nodes, Arena& strings)
        : m_text(text)
        , m_limits(limits)
        , m_nodes(nodes)
        , m_strings(strings)
    {
    }

    ErrorOr<JsonValue> parse_value(u32 depth)
    {
        if (depth > m_limits.max_depth)
            return Error::invalid("JSON nested too deeply");
        skip_whitespace();
        if (at_end())
            return Error::invalid("JSON ended where a value was expected");
        char c = peek();
        JsonValue value;
        switch (c) {
        case '{':
            return parse_object(depth);
        case '[':
            return parse_array(depth);
        case '"':
            value.type = JsonType::String;
            value.string = TRY(parse_string());
            return value;
        case 't':
            TRY(expect_word("true"));
            value.type = JsonType::Bool;
            value.boolean = true;
            return value;
        case 'f':
            TRY(expect_word("false"));
            value.type = JsonType::Bool;
            return value;
        case 'n':
            TRY(expect_word("null"));
            return value;
        default:
            if (c == '-' || (c >= '0' && c <= '9'))
                return parse_number();
            return Error::invalid("JSON has an unexpected character");
        }
    }

    void skip_whitespace()
    {
        while (!at_end()) {
            char c = peek();
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                return;
            ++m_pos;
        }
    }

    bool at_end() const { return m_pos >= m_text.size(); }

private:
    char peek() const { return m_text[m_pos]; }

    ErrorOr<void> expect_word(std::string_view word)
    {
        if (m_text.substr(m_pos, word.size()) != word)
            return Error::invalid("JSON has an invalid literal");
        m_pos += word.size();
        return {};
    }

    ErrorOr<void> count_node()
    {
        if (++m_node_count > m_limits.max_nodes)
            return Error::invalid("JSON has too many values");
        return {};
    }

    // Children are collected on a scratch stack while their container is
    // parsed, then moved to the node array in one contiguous run.
    ErrorOr<JsonValue> finish_container(JsonType type, size_t scratch_start, u32 count)
    {
        JsonValue value;
        value.type = type;
        value.first = static_cast<u32>(m_nodes.size());
        value.count = count;
        TRY(m_nodes.try_append(m_scratch.data() + scratch_start, m_scratch.size() - scratch_start));
        m_scratch.shrink_size(scratch_start);
        if (m_nodes.size() > UINT32_MAX / 2)
            return Error::invalid("JSON has too many values");
        return value;
    }

    ErrorOr<JsonValue> parse_array(u32 depth)
    {
        ++m_pos; // [
        size_t start = m_scratch.size();
        u32 count = 0;
        skip_whitespace();
        if (!at_end() && peek() == ']') {
            ++m_pos;
            return finish_container(JsonType::Array, start, 0);
        }
        for (;;) {
            JsonValue element = TRY(parse_value(depth + 1));
            TRY(count_node());
            TRY(m_scratch.try_append(element));
            ++count;
            skip_whitespace();
            if (at_end())
                return Error::invalid("JSON array is not closed");
            char c = peek();
            ++m_pos;
            if (c == ']')
                break;
            if (c != ',')
                return Error::invalid("JSON array expects ',' or ']'");
        }
        return finish_container(JsonType::Array, start, count);
    }

    ErrorOr<JsonValue> parse_object(u32 depth)
    {
        ++m_pos; // {
        size_t start = m_scratch.size();
        u32 count = 0;
        skip_whitespace();
        if (!at_end() && peek() == '}') {
            ++m_pos;
            return finish_container(JsonType::Object, start, 0);
        }
        for (;;) {
            skip_whitespace();
            if (at_end() || peek() != '"')
                return Error::invalid("JSON object expects a string key");
            JsonValue key;
            key.type = JsonType::String;
            key.string = TRY(parse_string());
            skip_whitespace();
            if (at_end() || peek() != ':')
                return Error::invalid("JSON object expects ':' after a key");
            ++m_pos;
            JsonValue value = TRY(parse_value(depth + 1));
            TRY(count_node());
            TRY(count_node());
            TRY(m_scratch.try_append(key));
            TRY(m_scratch.try_append(value));
            ++count;
            skip_whitespace();
            if (at_end())
                return Error::invalid("JSON object is not closed");
            char c = peek();
            ++m_pos;
            if (c == '}')
                break;
            if (c != ',')
                return Error::invalid("JSON object expects ',' or '}'");
        }
        return finish_container(JsonType::Object, start, count);
    }

    ErrorOr<u32> parse_hex4()
    {
        if (m_text.size() - m_pos < 4)
            return Error::invalid("JSON \\u escape is truncated");
        u32 value = 0;
        for (int i = 0; i < 4; ++i) {
            char c = m_text[m_pos++];
            value <<= 4;
            if (c >= '0' && c <= '9')
                value |= static_cast<u32>(c - '0');
            else if (c >= 'a' && c <= 'f')
                value |= static_cast<u32>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                value |= static_cast<u32>(c - 'A' + 10);
            else
                return Error::invalid("JSON \\u escape has a non-hex digit");
        }
        return value;
    }

    ErrorOr<std::string_view> parse_string()
    {
        ++m_pos; // opening quote
        size_t start = m_pos;
        bool escaped = false;
        // First pass: validate and find the end.
        while (true) {
            if (at_end())
                return Error::invalid("JSON string is not closed");
            u8 c = static_cast<u8>(peek());
            if (c == '"')
                break;
            if (c < 0x20)
                return Error::invalid("JSON string contains a control character");
            if (c == '\\') {
                escaped = true;
                m_pos += 2;
                continue;
            }
            if (c >= 0x80) {
                size_t length = utf8_sequence_length(m_text.substr(m_pos));
                if (length == 0)
                    return Error::invalid("JSON string is not valid UTF-8");
                m_pos += length;
                continue;
            }
            ++m_pos;
        }
        size_t end = m_pos;
        ++m_pos; // closing quote
        if (!escaped)
            return m_text.substr(start, end - start);

        // Decoded text is never longer than its escaped form.
        char* out = TRY(m_strings.allocate(end - start));
        size_t length = 0;
        size_t saved = m_pos;
        m_pos = start;
        while (m_pos < end) {
            char c = m_text[m_pos++];
            if (c != '\\') {
                out[length++] = c;
                continue;
            }
            if (m_pos >= end)
                return Error::invalid("JSON string has a dangling escape");
            char e = m_text[m_pos++];
            switch (e) {
            case '"': out[length++] = '"'; break;
            case '\\': out[length++] = '\\'; break;
            case '/': out[length++] = '/'; break;
            case 'b': out[length++] = '\b'; break;
            case 'f': out[length++] = '\f'; break;
            case 'n': out[length++] = '\n'; break;
            case 'r': out[length++] = '\r'; break;
            case 't': out[length++] = '\t'; break;
            case 'u': {
                if (end - m_pos < 4)
                    return Error::invalid("JSON \\u escape is truncated");
                u32 cp = TRY(parse_hex4());
                if (cp >= 0xD800 && cp <= 0xDBFF && end - m_pos >= 6 && m_text[m_pos] == '\\' && m_text[m_pos + 1] == 'u') {
                    size_t before = m_pos;
                    m_pos += 2;
                    u32 low = TRY(parse_hex4());
                    if (low >= 0xDC00 && low <= 0xDFFF)
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    else
                        m_pos = before;
                }
                // A lone surrogate cannot be UTF-8; it becomes U+FFFD like
                // most decoders do, rather than rejecting a whole vocabulary.
                if (cp >= 0xD800 && cp <= 0xDFFF)
                    cp = 0xFFFD;
                length += utf8_encode(cp, out + length);
                break;
            }
            default:
                return Error::invalid("JSON string has an invalid escape");
            }
        }
        m_pos = saved;
        return std::string_view(out, length);
    }

    ErrorOr<JsonValue> parse_number()
    {
        size_t start = m_pos;
        bool negative = false;
        if (peek() == '-') {
            negative = true;
            ++m_pos;
        }
        if (at_end() || peek() < '0' || peek() > '9')
            return Error::invalid("JSON number has no digits");
        u64 mantissa = 0;
        int digits = 0;
        int exponent10 = 0;
        bool integer_overflow = false;
        auto add_digit = [&](char c, bool fraction) {
            if (digits < 19) {
                mantissa = mantissa * 10 + static_cast<u64>(c - '0');
                if (mantissa != 0)
                    ++digits;
                if (fraction)
                    --exponent10;
            } else {
                if (!fraction)
                    ++exponent10;
                integer_overflow = true;
            }
        };
        if (peek() == '0') {
            ++m_pos;
            if (!at_end() && peek() >= '0' && peek() <= '9')
                return Error::invalid("JSON number has a leading zero");
        } else {
            while (!at_end() && peek() >= '0' && peek() <= '9')
                add_digit(m_text[m_pos++], false);
        }
        bool is_integer = true;
        if (!at_end() && peek() == '.') {
            is_integer = false;
            ++m_pos;
            if (at_end() || peek() < '0' || peek() > '9')
                return Error::invalid("JSON number has no digits after '.'");
            while (!at_end() && peek() >= '0' && peek() <= '9')
                add_digit(m_text[m_pos++], true);
        }
        if (!at_end() && (peek() == 'e' || peek() == 'E')) {
            is_integer = false;
            ++m_pos;
            bool exp_negative = false;
            if (!at_end() && (peek() == '+' || peek() == '-'))
                exp_negative = m_text[m_pos++] == '-';
            if (at_end() || peek() < '0' || peek() > '9')
                return Error::invalid("JSON number has no exponent digits");
            int e = 0;
            while (!at_end() && peek() >= '0' && peek() <= '9') {
                if (e < 100000)
                    e = e * 10 + (m_text[m_pos] - '0');
                ++m_pos;
            }
            exponent10 += exp_negative ? -e : e;
        }
        (void)start;
        JsonValue value;
        value.type = JsonType::Number;
        static constexpr double s_powers[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
        double m = static_cast<double>(mantissa);
        double result;
        if (mantissa == 0)
            result = 0;
        else if (mantissa < (1ull << 53) && exponent10 >= -22 && exponent10 <= 22)
            result = exponent10 >= 0 ? m * s_powers[exponent10] : m / s_powers[-exponent10];
        else if (exponent10 < -400)
            result = 0;
        else if (exponent10 > 400)
            result = HUGE_VAL;
        else
            result = m * std::pow(10.0, exponent10);
        value.number = negative ? -result : result;
        if (is_integer && !integer_overflow && exponent10 == 0 && mantissa <= static_cast<u64>(INT64_MAX)) {
            value.is_integer = true;
            value.integer = negative ? -static_cast<i64>(mantissa) : static_cast<i64>(mantissa);
        }
        return value;
    }

    std::string_view m_text;
    JsonLimits m_limits;
    Vector<JsonValue>& m_nodes;
    Arena& m_strings;
    Vector<JsonValue> m_scratch;
    size_t m_pos { 0 };
    size_t m_node_count { 0 };
};

} // namespace

ErrorOr<JsonDocument> JsonDocument::parse(std::string_view text, JsonLimits limits)
{
    if (text.size() > limits.max_input_bytes)
        return Error::invalid("JSON input is too large");
    JsonDocument document;
    Parser parser(text, limits, document.m_nodes, document.m_strings);
    JsonValue root = TRY(parser.parse_value(0));
    parser.skip_whitespace();
    if (!parser.at_end())
        return Error::invalid("JSON has trailing characters");
    document.m_root = static_cast<u32>(document.m_nodes.size());
    TRY(document.m_nodes.try_append(root));
    return document;
}

JsonValue const* JsonDocument::get(JsonValue const& object, std::string_view key) const
{
    if (!object.is_object())
        return nullptr;
    for (u32 i = 0; i < object.count; ++i) {
        if (member_key(object, i) == key)
            return &member_value(object, i);
    }
    return nullptr;
}

std::optional<i64> JsonDocument::get_integer(JsonValue const& object, std::string_view key) const
{
    auto const* value = get(object, key);
    if (!value || !value->is_number() || !value->is_integer)
        return {};
    return value->integer;
}

std::optional<double> JsonDocument::get_number(JsonValue const& object, std::string_view key) const
{
    auto const* value = get(object, key);
    if (!value || !value->is_number())
        return {};
    return value->number;
}

std::optional<bool> JsonDocument::get_bool(JsonValue const& object, std::string_view key) const
{
    auto const* value = get(object, key);
    if (!value || !value->is_bool())
        return {};
    return value->boolean;
}

std::optional<std::string_view> JsonDocument::get_string(JsonValue const& object, std::string_view key) const
{
    auto const* value = get(object, key);
    if (!value || !value->is_string())
        return {};
    return value->string;
}

} // namespace aisos::engine
