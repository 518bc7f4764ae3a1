#include "engine/format/TensorType.h"

namespace aisos::engine {

static TensorTypeInfo const s_types[] = {
    { TensorType::F32, "F32", 1, 4 },
    { TensorType::F16, "F16", 1, 2 },
    { TensorType::Q4_0, "Q4_0", 32, 18 },
    { TensorType::Q4_1, "Q4_1", 32, 20 },
    { TensorType::Q8_0, "Q8_0", 32, 34 },
    { TensorType::Q4_K, "Q4_K", 256, 144 },
    { TensorType::Q5_K, "Q5_K", 256, 176 },
    { TensorType::Q6_K, "Q6_K", 256, 210 },
    { TensorType::BF16, "BF16", 1, 2 },
};

TensorTypeInfo const* tensor_type_info(u32 id)
{
    for (auto const& info : s_types) {
        if (static_cast<u32>(info.type) == id)
            return &info;
    }
    return nullptr;
}

char const* tensor_type_name(TensorType type)
{
    auto const* info = tensor_type_info(static_cast<u32>(type));
    return info ? info->name : "unknown";
}

ErrorOr<u64> tensor_row_bytes(TensorType type, u64 elements)
{
    auto const* info = tensor_type_info(static_cast<u32>(type));
    if (!info)
        return Error::unsupported("unsupported tensor type");
    if (elements % info->block_elements != 0)
        return Error::corrupt("tensor row is not a whole number of quantization blocks");
    u64 blocks = elements / info->block_elements;
    if (blocks > UINT64_MAX / info->block_bytes)
        return Error { ErrorCode::Overflow, "tensor size overflows" };
    return blocks * info->block_bytes;
}

} // namespace aisos::engine
