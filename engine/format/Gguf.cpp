#include "engine/format/Gguf.h"

#include <cstring>

namespace aisos::engine {

namespace {

// Limits that no real model comes near; anything above is corrupt input.
constexpr u64 s_max_metadata_count = 1 << 20;
constexpr u64 s_max_tensor_count = 1 << 20;
constexpr u64 s_max_string_length = 1 << 26;
constexpr u32 s_max_array_depth = 4;
constexpr size_t s_max_tensor_name = 256;

class Reader {
public:
    Reader(u8 const* data, size_t size)
        : m_data(data)
        , m_size(size)
    {
    }

    size_t offset() const { return m_offset; }
    size_t remaining() const { return m_size - m_offset; }
    u8 const* here() const { return m_data + m_offset; }

    ErrorOr<void> skip(u64 count)
    {
        if (count > remaining())
            return Error::corrupt("GGUF file is truncated");
        m_offset += count;
        return {};
    }

    template<typename T>
    ErrorOr<T> read()
    {
        if (sizeof(T) > remaining())
            return Error::corrupt("GGUF file is truncated");
        T value;
        std::memcpy(&value, m_data + m_offset, sizeof(T));
        m_offset += sizeof(T);
        return value;
    }

    ErrorOr<std::string_view> read_string()
    {
        u64 length = TRY(read<u64>());
        if (length > s_max_string_length)
            return Error::corrupt("GGUF string length is absurd");
        if (length > remaining())
            return Error::corrupt("GGUF string runs past the end of the file");
        std::string_view text(reinterpret_cast<char const*>(here()), length);
        m_offset += length;
        return text;
    }

private:
    u8 const* m_data;
    size_t m_size;
    size_t m_offset { 0 };
};

u64 scalar_size(GgufValueType type)
{
    switch (type) {
    case GgufValueType::U8:
    case GgufValueType::I8:
    case GgufValueType::Bool:
        return 1;
    case GgufValueType::U16:
    case GgufValueType::I16:
        return 2;
    case GgufValueType::U32:
    case GgufValueType::I32:
    case GgufValueType::F32:
        return 4;
    case GgufValueType::U64:
    case GgufValueType::I64:
    case GgufValueType::F64:
        return 8;
    default:
        return 0;
    }
}

bool is_valid_type(u32 raw) { return raw <= 12; }

ErrorOr<void> skip_value(Reader& reader, GgufValueType type, u32 depth);

ErrorOr<void> skip_array(Reader& reader, u32 depth, GgufValueType& element_type, u64& count)
{
    if (depth > s_max_array_depth)
        return Error::corrupt("GGUF arrays nested too deeply");
    u32 raw = TRY(reader.read<u32>());
    if (!is_valid_type(raw))
        return Error::corrupt("GGUF array has an unknown element type");
    element_type = static_cast<GgufValueType>(raw);
    count = TRY(reader.read<u64>());
    if (u64 size = scalar_size(element_type)) {
        if (count > reader.remaining() / size)
            return Error::corrupt("GGUF array runs past the end of the file");
        TRY(reader.skip(count * size));
        return {};
    }
    // Strings take at least 8 bytes and arrays at least 12 each: a count the
    // remaining bytes cannot hold is rejected before looping over it.
    u64 minimum = element_type == GgufValueType::String ? 8 : 12;
    if (count > reader.remaining() / minimum)
        return Error::corrupt("GGUF array count is larger than the file");
    for (u64 i = 0; i < count; ++i)
        TRY(skip_value(reader, element_type, depth + 1));
    return {};
}

ErrorOr<void> skip_value(Reader& reader, GgufValueType type, u32 depth)
{
    if (u64 size = scalar_size(type))
        return reader.skip(size);
    if (type == GgufValueType::String) {
        TRY(reader.read_string());
        return {};
    }
    GgufValueType element_type;
    u64 count;
    return skip_array(reader, depth, element_type, count);
}

} // namespace

std::string_view GgufStringArray::next()
{
    u64 length;
    std::memcpy(&length, m_next, 8);
    std::string_view text(reinterpret_cast<char const*>(m_next + 8), length);
    m_next += 8 + length;
    return text;
}

bool gguf_is_integer_type(GgufValueType type)
{
    switch (type) {
    case GgufValueType::U8:
    case GgufValueType::I8:
    case GgufValueType::U16:
    case GgufValueType::I16:
    case GgufValueType::U32:
    case GgufValueType::I32:
    case GgufValueType::U64:
    case GgufValueType::I64:
        return true;
    default:
        return false;
    }
}

static i64 read_int(GgufValueType type, u8 const* p)
{
    switch (type) {
    case GgufValueType::U8: return *p;
    case GgufValueType::I8: return static_cast<i8>(*p);
    case GgufValueType::Bool: return *p != 0;
    case GgufValueType::U16: { u16 v; std::memcpy(&v, p, 2); return v; }
    case GgufValueType::I16: { i16 v; std::memcpy(&v, p, 2); return v; }
    case GgufValueType::U32: { u32 v; std::memcpy(&v, p, 4); return v; }
    case GgufValueType::I32: { i32 v; std::memcpy(&v, p, 4); return v; }
    case GgufValueType::U64: { u64 v; std::memcpy(&v, p, 8); return v > static_cast<u64>(INT64_MAX) ? INT64_MAX : static_cast<i64>(v); }
    case GgufValueType::I64: { i64 v; std::memcpy(&v, p, 8); return v; }
    default: return 0;
    }
}

static double read_number(GgufValueType type, u8 const* p)
{
    if (type == GgufValueType::F32) {
        float v;
        std::memcpy(&v, p, 4);
        return v;
    }
    if (type == GgufValueType::F64) {
        double v;
        std::memcpy(&v, p, 8);
        return v;
    }
    return static_cast<double>(read_int(type, p));
}

double gguf_array_number(GgufValue const& array, u64 index)
{
    return read_number(array.element_type, array.data + index * scalar_size(array.element_type));
}

i64 gguf_array_int(GgufValue const& array, u64 index)
{
    return read_int(array.element_type, array.data + index * scalar_size(array.element_type));
}

ErrorOr<GgufFile> GgufFile::parse(u8 const* data, size_t size)
{
    Reader reader(data, size);
    if (size < 4 || std::memcmp(data, "GGUF", 4) != 0)
        return Error::corrupt("not a GGUF file (bad magic)");
    TRY(reader.skip(4));
    GgufFile file;
    file.m_version = TRY(reader.read<u32>());
    if (file.m_version != 2 && file.m_version != 3)
        return Error::unsupported("unsupported GGUF version (need 2 or 3)");
    u64 tensor_count = TRY(reader.read<u64>());
    u64 metadata_count = TRY(reader.read<u64>());
    if (tensor_count > s_max_tensor_count || tensor_count > reader.remaining() / 24)
        return Error::corrupt("GGUF tensor count is absurd");
    if (metadata_count > s_max_metadata_count || metadata_count > reader.remaining() / 12)
        return Error::corrupt("GGUF metadata count is absurd");

    TRY(file.m_metadata.try_reserve(metadata_count));
    TRY(file.m_metadata_index.try_reserve(metadata_count));
    for (u64 i = 0; i < metadata_count; ++i) {
        GgufKeyValue kv;
        kv.key = TRY(reader.read_string());
        u32 raw_type = TRY(reader.read<u32>());
        if (!is_valid_type(raw_type))
            return Error::corrupt("GGUF metadata value has an unknown type");
        kv.value.type = static_cast<GgufValueType>(raw_type);
        if (u64 scalar = scalar_size(kv.value.type)) {
            kv.value.data = reader.here();
            TRY(reader.skip(scalar));
        } else if (kv.value.type == GgufValueType::String) {
            auto text = TRY(reader.read_string());
            kv.value.data = reinterpret_cast<u8 const*>(text.data());
            kv.value.length = text.size();
        } else {
            size_t array_start = reader.offset();
            TRY(skip_array(reader, 0, kv.value.element_type, kv.value.length));
            kv.value.data = data + array_start + 12;
        }
        if (file.m_metadata_index.get(kv.key))
            return Error::corrupt("GGUF metadata key appears twice");
        TRY(file.m_metadata_index.set(kv.key, static_cast<u32>(file.m_metadata.size())));
        TRY(file.m_metadata.try_append(kv));
    }

    if (auto const* value = file.find("general.alignment")) {
        if (!gguf_is_integer_type(value->type))
            return Error::corrupt("general.alignment is not an integer");
        i64 alignment = read_int(value->type, value->data);
        if (alignment <= 0 || alignment > (1 << 20) || (alignment & (alignment - 1)) != 0)
            return Error::corrupt("general.alignment is not a power of two");
        file.m_alignment = static_cast<u64>(alignment);
    }

    struct RawTensor {
        u64 offset;
    };
    Vector<RawTensor> offsets;
    TRY(offsets.try_reserve(tensor_count));
    TRY(file.m_tensors.try_reserve(tensor_count));
    TRY(file.m_tensor_index.try_reserve(tensor_count));
    for (u64 i = 0; i < tensor_count; ++i) {
        TensorDesc tensor;
        tensor.name = TRY(reader.read_string());
        if (tensor.name.empty() || tensor.name.size() > s_max_tensor_name)
            return Error::corrupt("GGUF tensor name is empty or too long");
        tensor.n_dims = TRY(reader.read<u32>());
        if (tensor.n_dims == 0 || tensor.n_dims > 4)
            return Error::corrupt("GGUF tensor has an unsupported number of dimensions");
        u64 elements = 1;
        for (u32 d = 0; d < tensor.n_dims; ++d) {
            u64 dim = TRY(reader.read<u64>());
            if (dim == 0 || dim > (1ull << 40))
                return Error::corrupt("GGUF tensor dimension is zero or absurd");
            if (elements > (1ull << 48) / dim)
                return Error::corrupt("GGUF tensor element count is absurd");
            elements *= dim;
            tensor.shape[d] = dim;
        }
        u32 raw_type = TRY(reader.read<u32>());
        auto const* info = tensor_type_info(raw_type);
        if (!info)
            return Error::unsupported("GGUF tensor has an unsupported type");
        tensor.type = info->type;
        u64 row_bytes = TRY(tensor_row_bytes(tensor.type, tensor.shape[0]));
        u64 rows = elements / tensor.shape[0];
        if (rows != 0 && row_bytes > UINT64_MAX / rows)
            return Error::corrupt("GGUF tensor size overflows");
        tensor.bytes = row_bytes * rows;
        u64 offset = TRY(reader.read<u64>());
        if (offset % file.m_alignment != 0)
            return Error::corrupt("GGUF tensor offset is not aligned");
        if (file.m_tensor_index.get(tensor.name))
            return Error::corrupt("GGUF tensor name appears twice");
        TRY(file.m_tensor_index.set(tensor.name, static_cast<u32>(file.m_tensors.size())));
        TRY(file.m_tensors.try_append(tensor));
        TRY(offsets.try_append({ offset }));
    }

    u64 data_start = (reader.offset() + file.m_alignment - 1) / file.m_alignment * file.m_alignment;
    if (tensor_count > 0 && data_start > size)
        return Error::corrupt("GGUF tensor data starts past the end of the file");
    for (size_t i = 0; i < file.m_tensors.size(); ++i) {
        auto& tensor = file.m_tensors[i];
        u64 offset = offsets[i].offset;
        u64 available = size - data_start;
        if (offset > available || tensor.bytes > available - offset)
            return Error::corrupt("GGUF tensor data runs past the end of the file");
        tensor.data = data + data_start + offset;
    }
    return file;
}

GgufValue const* GgufFile::find(std::string_view key) const
{
    auto const* index = m_metadata_index.get(key);
    return index ? &m_metadata[*index].value : nullptr;
}

TensorDesc const* GgufFile::find_tensor(std::string_view name) const
{
    auto const* index = m_tensor_index.get(name);
    return index ? &m_tensors[*index] : nullptr;
}

std::optional<u64> GgufFile::get_uint(std::string_view key) const
{
    auto const* value = find(key);
    if (!value || !gguf_is_integer_type(value->type))
        return {};
    i64 v = read_int(value->type, value->data);
    if (v < 0)
        return {};
    return static_cast<u64>(v);
}

std::optional<i64> GgufFile::get_int(std::string_view key) const
{
    auto const* value = find(key);
    if (!value || !gguf_is_integer_type(value->type))
        return {};
    return read_int(value->type, value->data);
}

std::optional<double> GgufFile::get_float(std::string_view key) const
{
    auto const* value = find(key);
    if (!value || (!gguf_is_integer_type(value->type) && value->type != GgufValueType::F32 && value->type != GgufValueType::F64))
        return {};
    return read_number(value->type, value->data);
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const
{
    auto const* value = find(key);
    if (!value || value->type != GgufValueType::Bool)
        return {};
    return *value->data != 0;
}

std::optional<std::string_view> GgufFile::get_string(std::string_view key) const
{
    auto const* value = find(key);
    if (!value || value->type != GgufValueType::String)
        return {};
    return std::string_view(reinterpret_cast<char const*>(value->data), value->length);
}

GgufValue const* GgufFile::get_array(std::string_view key, GgufValueType element_type) const
{
    auto const* value = find(key);
    if (!value || value->type != GgufValueType::Array)
        return nullptr;
    if (value->element_type == element_type)
        return value;
    if (gguf_is_integer_type(element_type) && gguf_is_integer_type(value->element_type))
        return value;
    return nullptr;
}

std::optional<GgufStringArray> GgufFile::get_string_array(std::string_view key) const
{
    auto const* value = get_array(key, GgufValueType::String);
    if (!value)
        return {};
    return GgufStringArray(value->data, value->length);
}

} // namespace aisos::engine
