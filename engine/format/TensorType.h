#pragma once

// Element types of model tensors. Numbering follows ggml's type ids so a
// GGUF tensor info maps directly; safetensors dtypes map to the float ones.

#include "engine/base/Types.h"
#include "lib/base/ErrorOr.h"

namespace aisos::engine {

enum class TensorType : u32 {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q8_0 = 8,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    BF16 = 30,
};

struct TensorTypeInfo {
    TensorType type;
    char const* name;
    u32 block_elements; // elements per block (1 for float types)
    u32 block_bytes;    // bytes per block
};

// nullptr for ids the engine does not support.
TensorTypeInfo const* tensor_type_info(u32 ggml_type_id);
inline TensorTypeInfo const& tensor_type_info(TensorType type) { return *tensor_type_info(static_cast<u32>(type)); }
char const* tensor_type_name(TensorType);

// Bytes of one row of `elements` values, or an error when the row is not a
// whole number of blocks or the size overflows.
ErrorOr<u64> tensor_row_bytes(TensorType, u64 elements);

} // namespace aisos::engine
