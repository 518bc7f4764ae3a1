#pragma once

// Strict, bounded JSON parser (RFC 8259) for untrusted request bodies.
//
// The parser validates the text in a first pass without allocating (grammar,
// UTF-8, escapes including surrogate pairs, limits), then makes exactly two
// allocations from the given Allocator sized by that pass and fills a small
// read-only tree: a flat array of nodes in document order plus one block of
// decoded string bytes. The document does not refer to the input text.
//
// Rejected: anything outside the grammar (comments, trailing commas, single
// quotes, leading zeros, NaN, a BOM), raw control characters in strings,
// invalid UTF-8, lone surrogates, nesting deeper than max_depth, more than
// max_values values (object keys count as values), strings longer than
// max_string_length bytes, texts longer than max_size bytes. Duplicate keys
// are accepted; get() returns the first.
//
// Numbers are kept as their text; as_integer() gives an int64 when the text
// is an integer that fits (there is no floating point in aiSOS's portable
// code; callers parse fractional values from number_text() themselves).

#include "lib/base/Allocator.h"
#include "lib/base/ErrorOr.h"

#include <optional>
#include <stddef.h>
#include <stdint.h>
#include <string_view>

namespace aisos::json {

struct JsonLimits {
    size_t max_size { 1024 * 1024 };
    uint32_t max_depth { 32 }; // capped at 128
    uint32_t max_values { 100000 };
    size_t max_string_length { 1024 * 1024 };
};

enum class JsonType : uint8_t { Missing, Null, Bool, Number, String, Array, Object };

class JsonDocument;

class JsonValue {
public:
    JsonValue() = default;

    JsonType type() const;
    bool is_missing() const { return type() == JsonType::Missing; }
    bool is_null() const { return type() == JsonType::Null; }
    bool is_bool() const { return type() == JsonType::Bool; }
    bool is_number() const { return type() == JsonType::Number; }
    bool is_string() const { return type() == JsonType::String; }
    bool is_array() const { return type() == JsonType::Array; }
    bool is_object() const { return type() == JsonType::Object; }

    std::optional<std::string_view> as_string() const;
    std::optional<bool> as_bool() const;
    std::optional<int64_t> as_integer() const;
    // The number's text as written, e.g. "0.75" or "-1e3"; empty if not a number.
    std::string_view number_text() const;

    // Members of an object / elements of an array; 0 for other types.
    size_t size() const;
    // Object member by key (first match), Missing when absent or not an object.
    JsonValue get(std::string_view key) const;
    // Array element (linear in i), Missing when out of range or not an array.
    JsonValue at(size_t index) const;

    // Iteration over array elements or object members (in document order).
    class Iterator {
    public:
        Iterator(const JsonDocument* document, uint32_t index)
            : m_document(document)
            , m_index(index)
        {
        }
        // For arrays: the element. For objects: the member's value.
        JsonValue value() const;
        // For objects: the member's key; empty for arrays.
        std::string_view key() const;
        JsonValue operator*() const { return value(); }
        Iterator& operator++();
        bool operator==(const Iterator& other) const { return m_index == other.m_index; }

    private:
        const JsonDocument* m_document;
        uint32_t m_index;
    };
    Iterator begin() const;
    Iterator end() const;

private:
    friend class JsonDocument;
    friend class Iterator;
    JsonValue(const JsonDocument* document, uint32_t index)
        : m_document(document)
        , m_index(index)
    {
    }
    const JsonDocument* m_document { nullptr };
    uint32_t m_index { 0 };
};

class JsonDocument {
public:
    // On failure, *error_offset (if given) receives the byte offset of the problem.
    static ErrorOr<JsonDocument> parse(Allocator&, std::string_view text, const JsonLimits& = {}, size_t* error_offset = nullptr);
    // Validation only: no allocation at all.
    static ErrorOr<void> validate(std::string_view text, const JsonLimits& = {}, size_t* error_offset = nullptr);

    JsonDocument(JsonDocument&&);
    JsonDocument& operator=(JsonDocument&&) = delete;
    JsonDocument(const JsonDocument&) = delete;
    ~JsonDocument();

    JsonValue root() const { return { this, 0 }; }
    size_t value_count() const { return m_node_count; }

    struct Node {
        JsonType type;
        bool is_key;
        bool bool_value;
        bool integer_valid;
        uint32_t end; // index just past this node's subtree
        uint32_t count; // members (objects) or elements (arrays)
        uint32_t text_offset;
        uint32_t text_length;
        int64_t integer;
    };

private:
    friend class JsonValue;
    friend class JsonValue::Iterator;
    JsonDocument(Allocator& allocator)
        : m_allocator(&allocator)
    {
    }
    const Node& node(uint32_t index) const { return m_nodes[index]; }
    std::string_view text(const Node& node) const { return { m_text + node.text_offset, node.text_length }; }

    Allocator* m_allocator;
    Node* m_nodes { nullptr };
    uint32_t m_node_count { 0 };
    char* m_text { nullptr };
};

} // namespace aisos::json
