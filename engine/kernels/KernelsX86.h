#pragma once

// The AVX2 kernels, shared with the AVX-512 table for the kernels that have
// no wider variant (activation quantization, axpy, the k-quant GEMM's
// weight decoding; the k-quant dot kernels are declared for tests and tools).

#include "engine/kernels/Kernels.h"

namespace aisos::engine::avx2 {

void quantize_q8(float const* x, void* out, size_t n);
void quantize_q8k(float const* x, void* out, size_t n);
void dot_q4_k(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out);
void dot_q5_k(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out);
void dot_q6_k(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out);
void axpy(float a, float const* x, float* y, size_t n);
// Weight rows of a k-quant (Q4_K/Q5_K/Q6_K) into the k-quant GEMM scratch layout (Kernels.h).
void decode_kgemm_rows(TensorType, void const* w, size_t w_row_bytes, u32 rows, size_t nb, u8* scratch);

} // namespace aisos::engine::avx2
