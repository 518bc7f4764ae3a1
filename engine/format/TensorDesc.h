#pragma once

// A tensor as found in a model file: name, element type, shape and where its
// bytes are in the mapped file. Shape is innermost first (ggml order):
// shape[0] is the length of one row, so a [out, in] PyTorch weight has
// shape {in, out}. Both loaders produce this after validating it fits.

#include "engine/format/TensorType.h"

#include <string_view>

namespace aisos::engine {

struct TensorDesc {
    std::string_view name;
    TensorType type { TensorType::F32 };
    u32 n_dims { 0 };
    u64 shape[4] { 1, 1, 1, 1 };
    u8 const* data { nullptr };
    u64 bytes { 0 };

    u64 row_length() const { return shape[0]; }
    u64 row_count() const { return shape[1] * shape[2] * shape[3]; }
    u64 element_count() const { return shape[0] * shape[1] * shape[2] * shape[3]; }
};

} // namespace aisos::engine
