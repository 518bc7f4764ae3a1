#pragma once

// A strict JSON (RFC 8259) parser for model metadata: config.json,
// tokenizer.json, the safetensors header. Bounded nesting depth, input
// size and node count; invalid UTF-8, control characters in strings,
// trailing commas, leading zeros and trailing garbage are errors.
// Unescaped strings are views into the input, which must outlive the document.

#include "engine/base/Arena.h"

#include <optional>
#include <string_view>

namespace aisos::engine {

enum class JsonType : u8 {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
};

struct JsonValue {
    JsonType type { JsonType::Null };
    bool boolean { false };
    bool is_integer { false }; // no fraction or exponent, and fits in i64
    i64 integer { 0 };
    double number { 0 };
    std::string_view string;
    u32 first { 0 }; // index of the first child node
    u32 count { 0 }; // elements, or members of an object

    bool is_null() const { return type == JsonType::Null; }
    bool is_string() const { return type == JsonType::String; }
    bool is_number() const { return type == JsonType::Number; }
    bool is_array() const { return type == JsonType::Array; }
    bool is_object() const { return type == JsonType::Object; }
    bool is_bool() const { return type == JsonType::Bool; }
};

struct JsonLimits {
    u32 max_depth { 64 };
    size_t max_input_bytes { size_t(1) << 30 };
    size_t max_nodes { size_t(1) << 26 };
};

class JsonDocument {
public:
    static ErrorOr<JsonDocument> parse(std::string_view text, JsonLimits limits = {});

    JsonValue const& root() const { return m_nodes[m_root]; }
    JsonValue const& element(JsonValue const& array, u32 index) const { return m_nodes[array.first + index]; }
    std::string_view member_key(JsonValue const& object, u32 index) const { return m_nodes[object.first + 2 * index].string; }
    JsonValue const& member_value(JsonValue const& object, u32 index) const { return m_nodes[object.first + 2 * index + 1]; }
    // The first member with this key, or nullptr (also when not an object).
    JsonValue const* get(JsonValue const& object, std::string_view key) const;

    // Typed member lookups for config files: empty when missing or of another type.
    std::optional<i64> get_integer(JsonValue const& object, std::string_view key) const;
    std::optional<double> get_number(JsonValue const& object, std::string_view key) const;
    std::optional<bool> get_bool(JsonValue const& object, std::string_view key) const;
    std::optional<std::string_view> get_string(JsonValue const& object, std::string_view key) const;

private:
    Vector<JsonValue> m_nodes;
    Arena m_strings;
    u32 m_root { 0 };
};

// Appends the UTF-8 encoding of a code point (<= 0x10FFFF) to out; returns bytes written.
size_t utf8_encode(u32 code_point, char* out);
// Length of the valid UTF-8 sequence starting at text[0], or 0 when invalid.
size_t utf8_sequence_length(std::string_view text);

} // namespace aisos::engine
