#include "lib/json/JsonWriter.h"
#include "lib/json/Utf8.h"

namespace aisos::json {

bool JsonWriter::before_value()
{
    if (m_failed)
        return false;
    if (m_depth == 0) {
        if (m_wrote_root) {
            m_failed = true;
            return false;
        }
        m_wrote_root = true;
        return true;
    }
    if (m_stack[m_depth - 1] == Container::Object) {
        if (!m_expect_value_after_key) {
            m_failed = true;
            return false;
        }
        m_expect_value_after_key = false;
        return true;
    }
    if (m_has_items[m_depth - 1])
        raw(",");
    m_has_items[m_depth - 1] = true;
    return true;
}

void JsonWriter::begin_object()
{
    if (!before_value())
        return;
    if (m_depth == max_depth) {
        m_failed = true;
        return;
    }
    m_stack[m_depth] = Container::Object;
    m_has_items[m_depth] = false;
    ++m_depth;
    raw("{");
}

void JsonWriter::end_object()
{
    if (m_failed)
        return;
    if (m_depth == 0 || m_stack[m_depth - 1] != Container::Object || m_expect_value_after_key) {
        m_failed = true;
        return;
    }
    --m_depth;
    raw("}");
}

void JsonWriter::begin_array()
{
    if (!before_value())
        return;
    if (m_depth == max_depth) {
        m_failed = true;
        return;
    }
    m_stack[m_depth] = Container::Array;
    m_has_items[m_depth] = false;
    ++m_depth;
    raw("[");
}

void JsonWriter::end_array()
{
    if (m_failed)
        return;
    if (m_depth == 0 || m_stack[m_depth - 1] != Container::Array) {
        m_failed = true;
        return;
    }
    --m_depth;
    raw("]");
}

void JsonWriter::key(std::string_view name)
{
    if (m_failed)
        return;
    if (m_depth == 0 || m_stack[m_depth - 1] != Container::Object || m_expect_value_after_key) {
        m_failed = true;
        return;
    }
    if (m_has_items[m_depth - 1])
        raw(",");
    m_has_items[m_depth - 1] = true;
    raw("\"");
    write_escaped(m_sink, name);
    raw("\":");
    m_expect_value_after_key = true;
}

void JsonWriter::write_escaped(FormatSink& sink, std::string_view text)
{
    static constexpr char hex[] = "0123456789abcdef";
    auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    size_t run_start = 0;
    size_t i = 0;
    auto flush_run = [&] {
        if (i > run_start)
            sink.write(text.data() + run_start, i - run_start);
    };
    while (i < bytes.size()) {
        uint8_t c = bytes[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7F) {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            size_t length = utf8_sequence_length(bytes.subspan(i));
            if (length > 0) {
                i += length;
                continue;
            }
            flush_run();
            sink.write("\xEF\xBF\xBD", 3); // U+FFFD for a byte that is not UTF-8
            ++i;
            run_start = i;
            continue;
        }
        flush_run();
        char escape[6] = { '\\', 0, 0, 0, 0, 0 };
        size_t length = 2;
        switch (c) {
        case '"': escape[1] = '"'; break;
        case '\\': escape[1] = '\\'; break;
        case '\b': escape[1] = 'b'; break;
        case '\f': escape[1] = 'f'; break;
        case '\n': escape[1] = 'n'; break;
        case '\r': escape[1] = 'r'; break;
        case '\t': escape[1] = 't'; break;
        default:
            // Other controls and DEL as \u00XX.
            escape[1] = 'u';
            escape[2] = '0';
            escape[3] = '0';
            escape[4] = hex[c >> 4];
            escape[5] = hex[c & 15];
            length = 6;
            break;
        }
        sink.write(escape, length);
        ++i;
        run_start = i;
    }
    flush_run();
}

void JsonWriter::string(std::string_view text)
{
    if (!before_value())
        return;
    raw("\"");
    write_escaped(m_sink, text);
    raw("\"");
}

void JsonWriter::integer(int64_t value)
{
    if (!before_value())
        return;
    format(m_sink, "{}", value);
}

void JsonWriter::unsigned_integer(uint64_t value)
{
    if (!before_value())
        return;
    format(m_sink, "{}", value);
}

void JsonWriter::boolean(bool value)
{
    if (!before_value())
        return;
    raw(value ? "true" : "false");
}

void JsonWriter::null()
{
    if (!before_value())
        return;
    raw("null");
}

static bool is_json_number(std::string_view text)
{
    // RFC 8259 §6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    size_t i = 0;
    auto digit = [&](size_t at) { return at < text.size() && text[at] >= '0' && text[at] <= '9'; };
    if (i < text.size() && text[i] == '-')
        ++i;
    if (!digit(i))
        return false;
    if (text[i] == '0') {
        ++i;
    } else {
        while (digit(i))
            ++i;
    }
    if (i < text.size() && text[i] == '.') {
        ++i;
        if (!digit(i))
            return false;
        while (digit(i))
            ++i;
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '+' || text[i] == '-'))
            ++i;
        if (!digit(i))
            return false;
        while (digit(i))
            ++i;
    }
    return i == text.size();
}

void JsonWriter::number_text(std::string_view text)
{
    if (m_failed)
        return;
    if (!is_json_number(text)) {
        m_failed = true;
        return;
    }
    if (!before_value())
        return;
    raw(text);
}

} // namespace aisos::json
