#include "engine/format/Safetensors.h"

namespace aisos::engine {

static constexpr u64 s_max_header_bytes = u64(100) << 20;

ErrorOr<SafetensorsFile> SafetensorsFile::parse(u8 const* data, size_t size)
{
    if (size < 8)
        return Error::corrupt("safetensors file is too short for its header length");
    u64 header_length;
    std::memcpy(&header_length, data, 8);
    if (header_length > s_max_header_bytes)
        return Error::corrupt("safetensors header length is absurd");
    if (header_length > size - 8)
        return Error::corrupt("safetensors header runs past the end of the file");
    if (header_length < 2)
        return Error::corrupt("safetensors header is empty");
    SafetensorsFile file;
    std::string_view text(reinterpret_cast<char const*>(data + 8), header_length);
    // The format allows trailing spaces as padding inside the header.
    while (!text.empty() && text.back() == ' ')
        text.remove_suffix(1);
    JsonLimits limits;
    limits.max_depth = 8;
    file.m_header = TRY(JsonDocument::parse(text, limits));
    auto const& root = file.m_header.root();
    if (!root.is_object())
        return Error::corrupt("safetensors header is not a JSON object");
    u8 const* base = data + 8 + header_length;
    u64 data_size = size - 8 - header_length;
    TRY(file.m_tensors.try_reserve(root.count));
    for (u32 i = 0; i < root.count; ++i) {
        std::string_view name = file.m_header.member_key(root, i);
        auto const& entry = file.m_header.member_value(root, i);
        if (name == "__metadata__")
            continue;
        if (name.empty())
            return Error::corrupt("safetensors tensor has an empty name");
        if (!entry.is_object())
            return Error::corrupt("safetensors tensor entry is not an object");
        auto dtype = file.m_header.get_string(entry, "dtype");
        auto const* shape = file.m_header.get(entry, "shape");
        auto const* offsets = file.m_header.get(entry, "data_offsets");
        if (!dtype || !shape || !shape->is_array() || !offsets || !offsets->is_array() || offsets->count != 2)
            return Error::corrupt("safetensors tensor entry lacks dtype, shape or data_offsets");
        TensorDesc tensor;
        tensor.name = name;
        u64 element_size;
        if (*dtype == "F32") {
            tensor.type = TensorType::F32;
            element_size = 4;
        } else if (*dtype == "F16") {
            tensor.type = TensorType::F16;
            element_size = 2;
        } else if (*dtype == "BF16") {
            tensor.type = TensorType::BF16;
            element_size = 2;
        } else {
            return Error::unsupported("safetensors tensor dtype is not F32, F16 or BF16");
        }
        if (shape->count > 4)
            return Error::unsupported("safetensors tensor has more than 4 dimensions");
        tensor.n_dims = shape->count == 0 ? 1 : shape->count;
        u64 elements = 1;
        for (u32 d = 0; d < shape->count; ++d) {
            auto const& dim = file.m_header.element(*shape, d);
            if (!dim.is_number() || !dim.is_integer || dim.integer <= 0 || dim.integer > (i64(1) << 40))
                return Error::corrupt("safetensors shape has an invalid dimension");
            u64 value = static_cast<u64>(dim.integer);
            if (elements > (u64(1) << 48) / value)
                return Error::corrupt("safetensors tensor element count is absurd");
            elements *= value;
            // safetensors lists the outermost dimension first; TensorDesc is innermost first.
            tensor.shape[shape->count - 1 - d] = value;
        }
        auto const& begin = file.m_header.element(*offsets, 0);
        auto const& end = file.m_header.element(*offsets, 1);
        if (!begin.is_integer || !end.is_integer || begin.integer < 0 || end.integer < begin.integer)
            return Error::corrupt("safetensors data_offsets are invalid");
        u64 b = static_cast<u64>(begin.integer), e = static_cast<u64>(end.integer);
        if (e > data_size)
            return Error::corrupt("safetensors tensor data runs past the end of the file");
        if (e - b != elements * element_size)
            return Error::corrupt("safetensors tensor byte size does not match its shape and dtype");
        tensor.data = base + b;
        tensor.bytes = e - b;
        TRY(file.m_tensors.try_append(tensor));
    }
    return file;
}

TensorDesc const* SafetensorsFile::find_tensor(std::string_view name) const
{
    for (auto const& tensor : m_tensors) {
        if (tensor.name == name)
            return &tensor;
    }
    return nullptr;
}

} // namespace aisos::engine
