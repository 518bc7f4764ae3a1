#pragma once

// The AVX2 kernels, shared with the AVX-512 table for the kernels that have
// no wider variant (activation quantization and the k-quants).

#include "engine/kernels/Kernels.h"

namespace aisos::engine::avx2 {

void quantize_q8(float const* x, void* out, size_t n);
void quantize_q8k(float const* x, void* out, size_t n);
void dot_q4_k(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out);
void dot_q5_k(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out);
void dot_q6_k(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out);
void axpy(float a, float const* x, float* y, size_t n);

} // namespace aisos::engine::avx2
