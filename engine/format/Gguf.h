#pragma once

// GGUF v2/v3 reader over a mapped file. parse() validates everything up
// front (every length, count, type, shape, offset and size against the file
// bytes), so later accessors never read outside the file.

#include "engine/base/HashMap.h"
#include "engine/format/TensorDesc.h"

#include <optional>
#include <string_view>

namespace aisos::engine {

enum class GgufValueType : u32 {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
};

struct GgufValue {
    GgufValueType type { GgufValueType::U8 };
    u8 const* data { nullptr }; // scalar bytes; for a string the text; for an array the first element
    u64 length { 0 };           // string length in bytes, or array element count
    GgufValueType element_type { GgufValueType::U8 }; // arrays only
};

struct GgufKeyValue {
    std::string_view key;
    GgufValue value;
};

// Walks the elements of a validated array of strings.
class GgufStringArray {
public:
    GgufStringArray() = default;
    GgufStringArray(u8 const* data, u64 count)
        : m_next(data)
        , m_count(count)
    {
    }
    u64 size() const { return m_count; }
    // Returns the next string; the caller must not call it more than size() times.
    std::string_view next();

private:
    u8 const* m_next { nullptr };
    u64 m_count { 0 };
};

class GgufFile {
public:
    static ErrorOr<GgufFile> parse(u8 const* data, size_t size);

    u32 version() const { return m_version; }
    u64 alignment() const { return m_alignment; }
    Vector<GgufKeyValue> const& metadata() const { return m_metadata; }
    Vector<TensorDesc> const& tensors() const { return m_tensors; }

    GgufValue const* find(std::string_view key) const;
    TensorDesc const* find_tensor(std::string_view name) const;

    // Typed getters: empty when missing or of an incompatible type.
    std::optional<u64> get_uint(std::string_view key) const;
    std::optional<i64> get_int(std::string_view key) const;
    std::optional<double> get_float(std::string_view key) const;
    std::optional<bool> get_bool(std::string_view key) const;
    std::optional<std::string_view> get_string(std::string_view key) const;
    // Array of the given element type (any integer type for integers).
    GgufValue const* get_array(std::string_view key, GgufValueType element_type) const;
    std::optional<GgufStringArray> get_string_array(std::string_view key) const;

private:
    u32 m_version { 0 };
    u64 m_alignment { 32 };
    Vector<GgufKeyValue> m_metadata;
    Vector<TensorDesc> m_tensors;
    StringMap<u32> m_metadata_index;
    StringMap<u32> m_tensor_index;
};

// Reads element i of an integer or float array as a number.
double gguf_array_number(GgufValue const&, u64 index);
i64 gguf_array_int(GgufValue const&, u64 index);
bool gguf_is_integer_type(GgufValueType);

} // namespace aisos::engine
