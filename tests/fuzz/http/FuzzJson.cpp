// libFuzzer target: the strict JSON parser. Invariants: validate() and
// parse() agree; a parsed document written back with JsonWriter parses
// again to the same shape; every string in it is valid UTF-8; memory comes back.
#include "host/MallocAllocator.h"
#include "lib/json/GrowableBuffer.h"
#include "lib/json/JsonDocument.h"
#include "lib/json/JsonWriter.h"
#include "lib/json/Utf8.h"

#include <cstddef>
#include <cstdint>

using namespace aisos;
using namespace aisos::json;

namespace {

void write_value(JsonWriter& writer, JsonValue value)
{
    switch (value.type()) {
    case JsonType::Null: writer.null(); break;
    case JsonType::Bool: writer.boolean(*value.as_bool()); break;
    case JsonType::Number: writer.number_text(value.number_text()); break;
    case JsonType::String:
        if (!is_valid_utf8(*value.as_string()))
            __builtin_trap();
        writer.string(*value.as_string());
        break;
    case JsonType::Array:
        writer.begin_array();
        for (auto item : value)
            write_value(writer, item);
        writer.end_array();
        break;
    case JsonType::Object:
        writer.begin_object();
        for (auto it = value.begin(); it != value.end(); ++it) {
            writer.key(it.key());
            write_value(writer, it.value());
        }
        writer.end_object();
        break;
    case JsonType::Missing: __builtin_trap();
    }
}

bool same_shape(JsonValue a, JsonValue b)
{
    if (a.type() != b.type() || a.size() != b.size())
        return false;
    if (a.is_string())
        return *a.as_string() == *b.as_string();
    if (a.is_number())
        return a.number_text() == b.number_text();
    if (a.is_bool())
        return *a.as_bool() == *b.as_bool();
    if (a.is_array() || a.is_object()) {
        auto i = a.begin();
        auto j = b.begin();
        for (; i != a.end(); ++i, ++j) {
            if (i.key() != j.key() || !same_shape(i.value(), j.value()))
                return false;
        }
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    MallocAllocator allocator;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    JsonLimits limits;
    limits.max_depth = 20;
    limits.max_values = 2000;
    bool valid = !JsonDocument::validate(text, limits).is_error();
    {
        auto document = JsonDocument::parse(allocator, text, limits);
        if (document.is_error() == valid)
            __builtin_trap();
        if (valid) {
            GrowableBuffer buffer(allocator);
            JsonWriter writer(buffer);
            write_value(writer, document.value().root());
            if (!writer.complete() || buffer.failed())
                __builtin_trap();
            auto again = JsonDocument::parse(allocator, buffer.view(), limits);
            if (again.is_error())
                __builtin_trap();
            if (!same_shape(document.value().root(), again.value().root()))
                __builtin_trap();
        }
    }
    if (allocator.live_allocations() != 0)
        __builtin_trap();
    return 0;
}
