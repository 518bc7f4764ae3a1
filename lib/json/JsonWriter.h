#pragma once

// Streaming JSON writer (RFC 8259) into any FormatSink (a GrowableBuffer, a
// fixed BufferSink, a connection). It inserts commas and colons itself and
// escapes strings: '"', '\\' and control characters are escaped, valid
// UTF-8 passes through unchanged, and invalid UTF-8 bytes become U+FFFD so
// the output is always valid JSON text.
//
// Misuse (a value where a key is due, unbalanced ends, nesting deeper than
// max_depth) does not crash: it sets failed() and the writer stops writing.
//
//   JsonWriter json(buffer);
//   json.begin_object();
//   json.key("status"); json.string("ok");
//   json.end_object();

#include "lib/base/Format.h"

#include <span>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::json {

class JsonWriter {
public:
    static constexpr size_t max_depth = 64;

    explicit JsonWriter(FormatSink& sink)
        : m_sink(sink)
    {
    }

    void begin_object();
    void end_object();
    void begin_array();
    void end_array();
    void key(std::string_view name);

    void string(std::string_view text);
    void integer(int64_t);
    void unsigned_integer(uint64_t);
    void boolean(bool);
    void null();
    // A number given as text (e.g. a fixed-point value formatted by the
    // caller); it must match the JSON number grammar or the writer fails.
    void number_text(std::string_view);

    // Shorthands for object members.
    void member(std::string_view name, std::string_view text)
    {
        key(name);
        string(text);
    }
    void member(std::string_view name, const char* text)
    {
        key(name);
        string(text);
    }
    void member(std::string_view name, int64_t value)
    {
        key(name);
        integer(value);
    }
    void member(std::string_view name, int value)
    {
        key(name);
        integer(value);
    }
    void member(std::string_view name, uint64_t value)
    {
        key(name);
        unsigned_integer(value);
    }
    void member(std::string_view name, uint32_t value)
    {
        key(name);
        unsigned_integer(value);
    }
    void member(std::string_view name, bool value)
    {
        key(name);
        boolean(value);
    }

    // True when everything written so far forms a complete JSON value.
    bool complete() const { return !m_failed && m_depth == 0 && m_wrote_root; }
    bool failed() const { return m_failed; }

    // Writes `text` as the contents of a JSON string (without quotes).
    static void write_escaped(FormatSink&, std::string_view text);

private:
    enum class Container : uint8_t { Object, Array };
    bool before_value();
    void raw(std::string_view text) { m_sink.write(text.data(), text.size()); }

    FormatSink& m_sink;
    Container m_stack[max_depth] {};
    bool m_has_items[max_depth] {};
    size_t m_depth { 0 };
    bool m_expect_value_after_key { false };
    bool m_wrote_root { false };
    bool m_failed { false };
};

} // namespace aisos::json
