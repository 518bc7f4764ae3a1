#include "lib/base/Format.h"

namespace aisos {

void BufferSink::write(const char* data, size_t length)
{
    if (m_capacity == 0) {
        m_truncated |= length > 0;
        return;
    }
    size_t room = m_capacity - 1 - m_length;
    size_t n = length < room ? length : room;
    for (size_t i = 0; i < n; ++i)
        m_buffer[m_length + i] = data[i];
    m_length += n;
    m_buffer[m_length] = 0;
    if (n < length)
        m_truncated = true;
}

namespace {

// Parses the text between ':' and '}' of a replacement field.
FormatSpec parse_spec(std::string_view text)
{
    FormatSpec spec;
    size_t i = 0;
    // A fill character is only recognised when followed by an alignment.
    if (text.size() >= 2 && (text[1] == '<' || text[1] == '>')) {
        spec.fill = text[0];
        spec.align = text[1];
        i = 2;
    } else if (!text.empty() && (text[0] == '<' || text[0] == '>')) {
        spec.align = text[0];
        i = 1;
    }
    if (i < text.size() && text[i] == '#') {
        spec.alternate = true;
        ++i;
    }
    if (i < text.size() && text[i] == '0' && spec.align == 0) {
        spec.fill = '0';
        spec.align = '>';
        ++i;
    }
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        if (spec.width < 1000)
            spec.width = spec.width * 10 + static_cast<uint32_t>(text[i] - '0');
        ++i;
    }
    if (i < text.size())
        spec.type = text[i];
    return spec;
}

void write_padding(FormatSink& sink, char fill, size_t count)
{
    char chunk[32];
    for (auto& c : chunk)
        c = fill;
    while (count > 0) {
        size_t n = count < sizeof(chunk) ? count : sizeof(chunk);
        sink.write(chunk, n);
        count -= n;
    }
}

void write_padded(FormatSink& sink, const FormatSpec& spec, const char* data, size_t length, char default_align)
{
    size_t padding = spec.width > length ? spec.width - length : 0;
    char align = spec.align ? spec.align : default_align;
    if (align == '>')
        write_padding(sink, spec.fill, padding);
    sink.write(data, length);
    if (align != '>')
        write_padding(sink, spec.fill, padding);
}

void write_number(FormatSink& sink, const FormatSpec& spec, uint64_t magnitude, bool negative, char default_type)
{
    char type = spec.type ? spec.type : default_type;
    unsigned base = 10;
    const char* digits = "0123456789abcdef";
    const char* prefix = "";
    if (type == 'x' || type == 'p') {
        base = 16;
        prefix = "0x";
    } else if (type == 'X') {
        base = 16;
        digits = "0123456789ABCDEF";
        prefix = "0x";
    } else if (type == 'b') {
        base = 2;
        prefix = "0b";
    }
    char text[72];
    size_t position = sizeof(text);
    do {
        text[--position] = digits[magnitude % base];
        magnitude /= base;
    } while (magnitude != 0);
    bool show_prefix = spec.alternate || type == 'p';
    size_t prefix_length = show_prefix ? __builtin_strlen(prefix) : 0;
    size_t sign_length = negative ? 1 : 0;
    size_t body = sizeof(text) - position;
    // Zero padding goes between the sign/prefix and the digits.
    if (spec.fill == '0' && spec.align == '>') {
        if (negative)
            sink.write("-", 1);
        if (show_prefix)
            sink.write(prefix, prefix_length);
        size_t used = body + prefix_length + sign_length;
        if (spec.width > used)
            write_padding(sink, '0', spec.width - used);
        sink.write(text + position, body);
        return;
    }
    if (show_prefix) {
        position -= prefix_length;
        __builtin_memcpy(text + position, prefix, prefix_length);
    }
    if (negative)
        text[--position] = '-';
    write_padded(sink, spec, text + position, sizeof(text) - position, '>');
}

void write_argument(FormatSink& sink, const FormatSpec& spec, const FormatArgument& argument)
{
    switch (argument.kind) {
    case FormatArgument::Kind::Signed: {
        int64_t value = argument.signed_value;
        uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
        if (spec.type == 'x' || spec.type == 'X' || spec.type == 'b')
            write_number(sink, spec, static_cast<uint64_t>(value), false, 'd');
        else
            write_number(sink, spec, magnitude, value < 0, 'd');
        return;
    }
    case FormatArgument::Kind::Unsigned:
        if (spec.type == 'c') {
            char c = static_cast<char>(argument.unsigned_value);
            write_padded(sink, spec, &c, 1, '<');
            return;
        }
        write_number(sink, spec, argument.unsigned_value, false, 'd');
        return;
    case FormatArgument::Kind::Pointer:
        write_number(sink, spec, argument.unsigned_value, false, 'p');
        return;
    case FormatArgument::Kind::Bool: {
        std::string_view text = argument.unsigned_value ? "true" : "false";
        write_padded(sink, spec, text.data(), text.size(), '<');
        return;
    }
    case FormatArgument::Kind::Char: {
        if (spec.type == 'd' || spec.type == 'x' || spec.type == 'X') {
            write_number(sink, spec, argument.unsigned_value, false, 'd');
            return;
        }
        char c = static_cast<char>(argument.unsigned_value);
        write_padded(sink, spec, &c, 1, '<');
        return;
    }
    case FormatArgument::Kind::String:
        write_padded(sink, spec, argument.string_data, argument.string_length, '<');
        return;
    }
}

} // namespace

void format_arguments(FormatSink& sink, std::string_view format, const FormatArgument* arguments, size_t count)
{
    size_t next_argument = 0;
    size_t literal_start = 0;
    size_t i = 0;
    auto flush_literal = [&](size_t end) {
        if (end > literal_start)
            sink.write(format.data() + literal_start, end - literal_start);
    };
    while (i < format.size()) {
        char c = format[i];
        if (c == '}' && i + 1 < format.size() && format[i + 1] == '}') {
            flush_literal(i + 1);
            i += 2;
            literal_start = i;
            continue;
        }
        if (c != '{') {
            ++i;
            continue;
        }
        if (i + 1 < format.size() && format[i + 1] == '{') {
            flush_literal(i + 1);
            i += 2;
            literal_start = i;
            continue;
        }
        size_t close = format.find('}', i);
        if (close == std::string_view::npos)
            break; // an unterminated field prints literally
        flush_literal(i);
        std::string_view field = format.substr(i + 1, close - i - 1);
        FormatSpec spec;
        if (!field.empty() && field[0] == ':')
            spec = parse_spec(field.substr(1));
        if (next_argument < count)
            write_argument(sink, spec, arguments[next_argument++]);
        else
            sink.write("{?}", 3);
        i = close + 1;
        literal_start = i;
    }
    flush_literal(format.size());
}

} // namespace aisos
