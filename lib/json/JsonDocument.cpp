#include "lib/json/JsonDocument.h"
#include "lib/json/Utf8.h"

namespace aisos::json {

namespace {

constexpr uint32_t hard_max_depth = 128;

// One parser for both passes: with nodes == nullptr it only validates and
// counts; with storage it also fills nodes and decoded text.
class Parser {
public:
    Parser(std::string_view input, const JsonLimits& limits)
        : m_input(input)
        , m_limits(limits)
        , m_max_depth(limits.max_depth < hard_max_depth ? limits.max_depth : hard_max_depth)
    {
    }

    void set_output(JsonDocument::Node* nodes, char* text)
    {
        m_nodes = nodes;
        m_text = text;
    }

    ErrorOr<void> run()
    {
        m_position = 0;
        m_node_count = 0;
        m_text_size = 0;
        if (m_input.size() > m_limits.max_size)
            return Error { ErrorCode::Overflow, "JSON text too large" };
        skip_whitespace();
        TRY(parse_value(0));
        skip_whitespace();
        if (m_position != m_input.size())
            return Error::invalid("JSON: unexpected data after the value");
        return {};
    }

    size_t position() const { return m_position; }
    uint32_t node_count() const { return m_node_count; }
    size_t text_size() const { return m_text_size; }

private:
    bool at_end() const { return m_position >= m_input.size(); }
    char peek() const { return m_input[m_position]; }

    void skip_whitespace()
    {
        while (!at_end()) {
            char c = peek();
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                break;
            ++m_position;
        }
    }

    ErrorOr<uint32_t> new_node(JsonType type)
    {
        if (m_node_count >= m_limits.max_values)
            return Error { ErrorCode::Overflow, "JSON: too many values" };
        uint32_t index = m_node_count++;
        if (m_nodes) {
            auto& node = m_nodes[index];
            node = {};
            node.type = type;
            node.end = index + 1;
        }
        return index;
    }

    void finish_node(uint32_t index, uint32_t count)
    {
        if (m_nodes) {
            m_nodes[index].end = m_node_count;
            m_nodes[index].count = count;
        }
    }

    ErrorOr<void> expect_literal(std::string_view literal)
    {
        if (m_input.substr(m_position, literal.size()) != literal)
            return Error::invalid("JSON: invalid literal");
        m_position += literal.size();
        return {};
    }

    ErrorOr<void> parse_value(uint32_t depth)
    {
        if (at_end())
            return Error::invalid("JSON: unexpected end of text");
        switch (peek()) {
        case '{':
            return parse_object(depth + 1);
        case '[':
            return parse_array(depth + 1);
        case '"': {
            uint32_t index = TRY(new_node(JsonType::String));
            return parse_string(index);
        }
        case 't': {
            uint32_t index = TRY(new_node(JsonType::Bool));
            TRY(expect_literal("true"));
            if (m_nodes)
                m_nodes[index].bool_value = true;
            return {};
        }
        case 'f': {
            TRY(new_node(JsonType::Bool));
            return expect_literal("false");
        }
        case 'n': {
            TRY(new_node(JsonType::Null));
            return expect_literal("null");
        }
        default:
            if (peek() == '-' || (peek() >= '0' && peek() <= '9'))
                return parse_number();
            return Error::invalid("JSON: unexpected character");
        }
    }

    ErrorOr<void> parse_object(uint32_t depth)
    {
        if (depth > m_max_depth)
            return Error { ErrorCode::Overflow, "JSON: nesting too deep" };
        uint32_t index = TRY(new_node(JsonType::Object));
        ++m_position; // '{'
        skip_whitespace();
        uint32_t count = 0;
        if (!at_end() && peek() == '}') {
            ++m_position;
            finish_node(index, 0);
            return {};
        }
        while (true) {
            skip_whitespace();
            if (at_end() || peek() != '"')
                return Error::invalid("JSON: expected a member name");
            uint32_t key = TRY(new_node(JsonType::String));
            if (m_nodes)
                m_nodes[key].is_key = true;
            TRY(parse_string(key));
            skip_whitespace();
            if (at_end() || peek() != ':')
                return Error::invalid("JSON: expected ':'");
            ++m_position;
            skip_whitespace();
            TRY(parse_value(depth));
            ++count;
            skip_whitespace();
            if (at_end())
                return Error::invalid("JSON: unterminated object");
            if (peek() == ',') {
                ++m_position;
                continue;
            }
            if (peek() == '}') {
                ++m_position;
                finish_node(index, count);
                return {};
            }
            return Error::invalid("JSON: expected ',' or '}'");
        }
    }

    ErrorOr<void> parse_array(uint32_t depth)
    {
        if (depth > m_max_depth)
            return Error { ErrorCode::Overflow, "JSON: nesting too deep" };
        uint32_t index = TRY(new_node(JsonType::Array));
        ++m_position; // '['
        skip_whitespace();
        uint32_t count = 0;
        if (!at_end() && peek() == ']') {
            ++m_position;
            finish_node(index, 0);
            return {};
        }
        while (true) {
            skip_whitespace();
            TRY(parse_value(depth));
            ++count;
            skip_whitespace();
            if (at_end())
                return Error::invalid("JSON: unterminated array");
            if (peek() == ',') {
                ++m_position;
                continue;
            }
            if (peek() == ']') {
                ++m_position;
                finish_node(index, count);
                return {};
            }
            return Error::invalid("JSON: expected ',' or ']'");
        }
    }

    void emit(const char* bytes, size_t length)
    {
        if (m_text)
            __builtin_memcpy(m_text + m_text_size, bytes, length);
        m_text_size += length;
    }

    ErrorOr<uint32_t> parse_hex4()
    {
        if (m_input.size() - m_position < 4)
            return Error::invalid("JSON: truncated \\u escape");
        uint32_t value = 0;
        for (int i = 0; i < 4; ++i) {
            char c = m_input[m_position++];
            uint32_t digit;
            if (c >= '0' && c <= '9')
                digit = c - '0';
            else if (c >= 'a' && c <= 'f')
                digit = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F')
                digit = c - 'A' + 10;
            else
                return Error::invalid("JSON: bad hex digit in \\u escape");
            value = value * 16 + digit;
        }
        return value;
    }

    void emit_code_point(uint32_t cp)
    {
        char out[4];
        size_t length;
        if (cp < 0x80) {
            out[0] = char(cp);
            length = 1;
        } else if (cp < 0x800) {
            out[0] = char(0xC0 | (cp >> 6));
            out[1] = char(0x80 | (cp & 0x3F));
            length = 2;
        } else if (cp < 0x10000) {
            out[0] = char(0xE0 | (cp >> 12));
            out[1] = char(0x80 | ((cp >> 6) & 0x3F));
            out[2] = char(0x80 | (cp & 0x3F));
            length = 3;
        } else {
            out[0] = char(0xF0 | (cp >> 18));
            out[1] = char(0x80 | ((cp >> 12) & 0x3F));
            out[2] = char(0x80 | ((cp >> 6) & 0x3F));
            out[3] = char(0x80 | (cp & 0x3F));
            length = 4;
        }
        emit(out, length);
    }

    ErrorOr<void> parse_string(uint32_t index)
    {
        ++m_position; // opening quote
        size_t start = m_text_size;
        while (true) {
            if (at_end())
                return Error::invalid("JSON: unterminated string");
            auto c = static_cast<uint8_t>(peek());
            if (c == '"') {
                ++m_position;
                break;
            }
            if (c < 0x20)
                return Error::invalid("JSON: control character in string");
            if (c == '\\') {
                ++m_position;
                if (at_end())
                    return Error::invalid("JSON: unterminated escape");
                char e = m_input[m_position++];
                char simple = 0;
                switch (e) {
                case '"': simple = '"'; break;
                case '\\': simple = '\\'; break;
                case '/': simple = '/'; break;
                case 'b': simple = '\b'; break;
                case 'f': simple = '\f'; break;
                case 'n': simple = '\n'; break;
                case 'r': simple = '\r'; break;
                case 't': simple = '\t'; break;
                case 'u': {
                    uint32_t cp = TRY(parse_hex4());
                    if (cp >= 0xDC00 && cp <= 0xDFFF)
                        return Error::invalid("JSON: lone low surrogate");
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (m_input.substr(m_position, 2) != "\\u")
                            return Error::invalid("JSON: lone high surrogate");
                        m_position += 2;
                        uint32_t low = TRY(parse_hex4());
                        if (low < 0xDC00 || low > 0xDFFF)
                            return Error::invalid("JSON: invalid surrogate pair");
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    }
                    emit_code_point(cp);
                    break;
                }
                default:
                    return Error::invalid("JSON: invalid escape");
                }
                if (simple)
                    emit(&simple, 1);
            } else if (c < 0x80) {
                // Copy the run of plain ASCII at once.
                size_t run = m_position;
                while (run < m_input.size()) {
                    auto r = static_cast<uint8_t>(m_input[run]);
                    if (r < 0x20 || r >= 0x80 || r == '"' || r == '\\')
                        break;
                    ++run;
                }
                emit(m_input.data() + m_position, run - m_position);
                m_position = run;
            } else {
                auto rest = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(m_input.data()) + m_position, m_input.size() - m_position);
                size_t length = utf8_sequence_length(rest);
                if (length == 0)
                    return Error::invalid("JSON: invalid UTF-8 in string");
                emit(m_input.data() + m_position, length);
                m_position += length;
            }
            if (m_text_size - start > m_limits.max_string_length)
                return Error { ErrorCode::Overflow, "JSON: string too long" };
        }
        if (m_nodes) {
            m_nodes[index].text_offset = uint32_t(start);
            m_nodes[index].text_length = uint32_t(m_text_size - start);
        }
        return {};
    }

    ErrorOr<void> parse_number()
    {
        uint32_t index = TRY(new_node(JsonType::Number));
        size_t start = m_position;
        bool negative = false;
        bool integer = true;
        bool overflow = false;
        uint64_t magnitude = 0;
        auto digit = [&] { return !at_end() && peek() >= '0' && peek() <= '9'; };
        if (peek() == '-') {
            negative = true;
            ++m_position;
        }
        if (!digit())
            return Error::invalid("JSON: invalid number");
        if (peek() == '0') {
            ++m_position;
            if (digit())
                return Error::invalid("JSON: leading zero in number");
        } else {
            while (digit()) {
                uint64_t d = uint64_t(peek() - '0');
                if (magnitude > (~uint64_t(0) - d) / 10)
                    overflow = true;
                else
                    magnitude = magnitude * 10 + d;
                ++m_position;
            }
        }
        if (!at_end() && peek() == '.') {
            integer = false;
            ++m_position;
            if (!digit())
                return Error::invalid("JSON: invalid fraction");
            while (digit())
                ++m_position;
        }
        if (!at_end() && (peek() == 'e' || peek() == 'E')) {
            integer = false;
            ++m_position;
            if (!at_end() && (peek() == '+' || peek() == '-'))
                ++m_position;
            if (!digit())
                return Error::invalid("JSON: invalid exponent");
            while (digit())
                ++m_position;
        }
        size_t length = m_position - start;
        if (length > m_limits.max_string_length)
            return Error { ErrorCode::Overflow, "JSON: number too long" };
        size_t offset = m_text_size;
        emit(m_input.data() + start, length);
        if (m_nodes) {
            auto& node = m_nodes[index];
            node.text_offset = uint32_t(offset);
            node.text_length = uint32_t(length);
            uint64_t limit = negative ? uint64_t(1) << 63 : (uint64_t(1) << 63) - 1;
            if (integer && !overflow && magnitude <= limit) {
                node.integer_valid = true;
                node.integer = negative ? int64_t(0 - magnitude) : int64_t(magnitude);
            }
        }
        return {};
    }

    std::string_view m_input;
    const JsonLimits& m_limits;
    uint32_t m_max_depth;
    size_t m_position { 0 };
    uint32_t m_node_count { 0 };
    size_t m_text_size { 0 };
    JsonDocument::Node* m_nodes { nullptr };
    char* m_text { nullptr };
};

} // namespace

ErrorOr<void> JsonDocument::validate(std::string_view text, const JsonLimits& limits, size_t* error_offset)
{
    Parser parser(text, limits);
    auto result = parser.run();
    if (result.is_error() && error_offset)
        *error_offset = parser.position();
    return result;
}

ErrorOr<JsonDocument> JsonDocument::parse(Allocator& allocator, std::string_view text, const JsonLimits& limits, size_t* error_offset)
{
    if (text.size() > 0xFFFFFFF0u)
        return Error { ErrorCode::Overflow, "JSON text too large" };
    Parser parser(text, limits);
    auto counted = parser.run();
    if (counted.is_error()) {
        if (error_offset)
            *error_offset = parser.position();
        return counted.error();
    }
    JsonDocument document(allocator);
    uint32_t count = parser.node_count();
    size_t text_size = parser.text_size();
    document.m_nodes = static_cast<Node*>(TRY(allocator.allocate(sizeof(Node) * count, alignof(Node))));
    document.m_node_count = count;
    document.m_text = static_cast<char*>(TRY(allocator.allocate(text_size ? text_size : 1, 1)));
    parser.set_output(document.m_nodes, document.m_text);
    // The text was validated above, so the filling pass cannot fail.
    TRY(parser.run());
    return document;
}

JsonDocument::JsonDocument(JsonDocument&& other)
    : m_allocator(other.m_allocator)
    , m_nodes(other.m_nodes)
    , m_node_count(other.m_node_count)
    , m_text(other.m_text)
{
    other.m_nodes = nullptr;
    other.m_text = nullptr;
    other.m_node_count = 0;
}

JsonDocument::~JsonDocument()
{
    m_allocator->free(m_nodes);
    m_allocator->free(m_text);
}

JsonType JsonValue::type() const
{
    if (!m_document || m_index >= m_document->m_node_count)
        return JsonType::Missing;
    return m_document->node(m_index).type;
}

std::optional<std::string_view> JsonValue::as_string() const
{
    if (type() != JsonType::String)
        return {};
    return m_document->text(m_document->node(m_index));
}

std::optional<bool> JsonValue::as_bool() const
{
    if (type() != JsonType::Bool)
        return {};
    return m_document->node(m_index).bool_value;
}

std::optional<int64_t> JsonValue::as_integer() const
{
    if (type() != JsonType::Number || !m_document->node(m_index).integer_valid)
        return {};
    return m_document->node(m_index).integer;
}

std::string_view JsonValue::number_text() const
{
    if (type() != JsonType::Number)
        return {};
    return m_document->text(m_document->node(m_index));
}

size_t JsonValue::size() const
{
    auto t = type();
    if (t != JsonType::Array && t != JsonType::Object)
        return 0;
    return m_document->node(m_index).count;
}

JsonValue JsonValue::get(std::string_view key) const
{
    if (type() != JsonType::Object)
        return {};
    for (auto it = begin(); it != end(); ++it) {
        if (it.key() == key)
            return it.value();
    }
    return {};
}

JsonValue JsonValue::at(size_t index) const
{
    if (type() != JsonType::Array || index >= size())
        return {};
    auto it = begin();
    for (size_t i = 0; i < index; ++i)
        ++it;
    return *it;
}

JsonValue::Iterator JsonValue::begin() const
{
    auto t = type();
    if (t != JsonType::Array && t != JsonType::Object)
        return { m_document, 0 };
    return { m_document, m_index + 1 };
}

JsonValue::Iterator JsonValue::end() const
{
    auto t = type();
    if (t != JsonType::Array && t != JsonType::Object)
        return { m_document, 0 };
    return { m_document, m_document->node(m_index).end };
}

JsonValue JsonValue::Iterator::value() const
{
    if (m_document->node(m_index).is_key)
        return { m_document, m_index + 1 };
    return { m_document, m_index };
}

std::string_view JsonValue::Iterator::key() const
{
    auto& node = m_document->node(m_index);
    if (!node.is_key)
        return {};
    return m_document->text(node);
}

JsonValue::Iterator& JsonValue::Iterator::operator++()
{
    uint32_t value_index = m_document->node(m_index).is_key ? m_index + 1 : m_index;
    m_index = m_document->node(value_index).end;
    return *this;
}

} // namespace aisos::json
