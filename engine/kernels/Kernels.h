#pragma once

// Compute kernels: dequantization, activation quantization and the dot
// products behind every matmul. Each dot kernel exists as a scalar
// reference and in SIMD variants; the variant is chosen once at startup from
// cpuid (never from compile flags), so one binary runs on AVX2-only guests
// and uses AVX-512 VNNI where the CPU has it.

#include "engine/format/TensorType.h"
#include "engine/kernels/Blocks.h"

namespace aisos::engine {

enum class KernelIsa {
    Scalar,
    Avx2,   // AVX2 + FMA + F16C
    Avx512, // AVX-512 F/BW/VL/DQ + VNNI
};

char const* kernel_isa_name(KernelIsa);
// The best variant this CPU supports.
KernelIsa detect_kernel_isa();
bool kernel_isa_supported(KernelIsa);

// What a weight type wants its activations quantized to.
enum class ActivationFormat {
    F32,
    Q8,  // BlockQ8 per 32 elements
    Q8K, // BlockQ8K per 256 elements
};
ActivationFormat activation_format(TensorType weight_type);
// Bytes of one quantized activation row of n elements (n a multiple of the block size).
size_t activation_row_bytes(ActivationFormat, size_t n);

// A Q8 activation row is its BlockQ8s followed by the scales of each pair of
// blocks spread out for 512-bit lanes: {d0 x8, d1 x8, s0 x8, s1 x8} floats.
// Every quantize_q8 writes them; the AVX-512 kernels load them instead of
// re-broadcasting the same scales for every weight row.
constexpr size_t q8_pair_scales_bytes(size_t blocks) { return blocks / 2 * 32 * sizeof(float); }
void fill_q8_pair_scales(void* row, size_t blocks);

// out[c] = dot(weight row w, activation row c) for c < columns (1..4),
// activation row c starting at a + c * a_stride bytes; n elements.
using DotFn = void (*)(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out);
using QuantizeFn = void (*)(float const* x, void* out, size_t n);
// y[i] += a * x[i] (attention's weighted sum of values).
using AxpyFn = void (*)(float a, float const* x, float* y, size_t n);

constexpr u32 s_max_dot_columns = 4;

// Batched matmul (prefill) for the 32-element block types Q4_0/Q4_1/Q8_0.
// A row kernel decodes a weight block again for every group of 4 tokens;
// the GEMM decodes s_gemm_rows weight rows once into a scratch tile and
// meets s_gemm_columns tokens per pass, so one 512-bit vpdpbusd multiplies
// 4 elements of one weight row (broadcast) with the same 4 elements of 16
// tokens.
//
// Activation tiles (pack_q8_tiles): per group of 16 tokens, per block k,
// 640 bytes: qs as [group of 4 elements j (8)][token (16)][4 bytes], then
// d[16] and s[16] floats (BlockQ8's d and d * sum). Tokens past `columns`
// are zero. Decoded weights (scratch): per block k, 320 bytes: unsigned
// bytes [row (8)][element (32)], then d[8] and bias[8] floats, such that
// dot = sum_k d[k] * d_a * sum(u * q_a) + bias[k] * s_a (Q4_0: u = nibble,
// bias = -8d; Q4_1: u = nibble, bias = m; Q8_0: u = q + 128, bias = -128d).
constexpr u32 s_gemm_rows = 8;
constexpr u32 s_gemm_columns = 16;
constexpr size_t s_gemm_tile_block_bytes = QK * s_gemm_columns + 2 * s_gemm_columns * sizeof(float);
constexpr size_t s_gemm_weight_block_bytes = QK * s_gemm_rows + 2 * s_gemm_rows * sizeof(float);
// Bytes of the packed activations of `columns` tokens of n elements.
constexpr size_t gemm_tiles_bytes(u32 columns, size_t n) { return (columns + s_gemm_columns - 1) / s_gemm_columns * (n / QK) * s_gemm_tile_block_bytes; }
// Bytes of the per-thread weight scratch for rows of n elements.
constexpr size_t gemm_scratch_bytes(size_t n) { return n / QK * s_gemm_weight_block_bytes; }
// Packs `columns` Q8 activation rows (quantize_q8 output, row_stride apart) into tiles.
void pack_q8_tiles(u8 const* rows, size_t row_stride, u32 columns, size_t n, void* tiles);
// out[c * s_gemm_rows + r] = dot(weight row r, token c) for r < rows (1..s_gemm_rows),
// c < columns; weight rows w_row_bytes apart; scratch of gemm_scratch_bytes(n).
using GemmFn = void (*)(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out);

// Batched matmul (prefill) for the k-quants Q4_K/Q5_K/Q6_K, the same shape
// as the GEMM above over 256-element super-blocks: s_gemm_rows weight rows
// decoded once into unsigned bytes plus integer sub-block scales, met by
// 16-token tiles of Q8K activations. Sums stay exact integers per
// super-block (like the dot kernels); only the float accumulation across
// super-blocks differs from dot_for.
//
// Activation tiles (pack_q8k_tiles): per group of 16 tokens, per
// super-block k, s_kgemm_tile_block_bytes: qs as [group of 4 elements g
// (64)][token (16)][4 bytes], then the BlockQ8K bsums (sums of 16) as i16
// pairs [pair p (8)][token (16)]{bsums[2p], bsums[2p+1]}, then sums of 32
// as i16 pairs [p (4)][token (16)]{sum32[2p], sum32[2p+1]}, then d[16]
// floats. Tokens past `columns` are zero.
//
// Decoded weights (scratch): per super-block k, s_kgemm_weight_block_bytes:
// unsigned quants [row (8)][element (256)] (Q4_K 0..15, Q5_K 0..31, Q6_K
// 0..63), i32 scales [row (8)][sub-block (16)] (Q4_K/Q5_K: 8 of 32
// elements; Q6_K: 16 of 16), i16 bias pairs [row (8)][p (8)] met by the
// activation pairs above with vpmaddwd (Q4_K/Q5_K: mins {m[2p], m[2p+1]}
// against sums of 32, p < 4; Q6_K: {32 sc[2p], 32 sc[2p+1]} against sums of
// 16, the -32 of its quants), then d[8] and dmin[8] floats, such that per
// super-block and token
//   Q4_K/Q5_K: dot = d_a * (d * sum_j sc_j * dot_j(u, q_a) - dmin * bias),
//   Q6_K:      dot = d_a * d * (sum_j sc_j * dot_j(u, q_a) - bias).
constexpr size_t s_kgemm_tile_qs_bytes = QK_K * s_gemm_columns;
constexpr size_t s_kgemm_tile_sum16_offset = s_kgemm_tile_qs_bytes;
constexpr size_t s_kgemm_tile_sum32_offset = s_kgemm_tile_sum16_offset + 8 * s_gemm_columns * 4;
constexpr size_t s_kgemm_tile_d_offset = s_kgemm_tile_sum32_offset + 4 * s_gemm_columns * 4;
constexpr size_t s_kgemm_tile_block_bytes = s_kgemm_tile_d_offset + s_gemm_columns * sizeof(float);
static_assert(s_kgemm_tile_block_bytes % 64 == 0);
constexpr size_t s_kgemm_scales_offset = QK_K * s_gemm_rows;
constexpr size_t s_kgemm_bias_offset = s_kgemm_scales_offset + 16 * s_gemm_rows * 4;
constexpr size_t s_kgemm_d_offset = s_kgemm_bias_offset + 8 * s_gemm_rows * 4;
constexpr size_t s_kgemm_weight_block_bytes = s_kgemm_d_offset + 2 * s_gemm_rows * sizeof(float);
// Bytes of the packed Q8K activations of `columns` tokens of n elements.
constexpr size_t kgemm_tiles_bytes(u32 columns, size_t n) { return (columns + s_gemm_columns - 1) / s_gemm_columns * (n / QK_K) * s_kgemm_tile_block_bytes; }
// Bytes of the per-thread weight scratch of the k-quant GEMM for rows of n elements.
constexpr size_t kgemm_scratch_bytes(size_t n) { return n / QK_K * s_kgemm_weight_block_bytes; }
// Packs `columns` Q8K activation rows (quantize_q8k output, row_stride apart) into tiles.
void pack_q8k_tiles(u8 const* rows, size_t row_stride, u32 columns, size_t n, void* tiles);
// The k-quant GEMMs share GemmFn: tiles from pack_q8k_tiles, scratch of kgemm_scratch_bytes(n).

// Decode (one token) for the 32-element block types: out[r] = dot(weight
// row r, activation row a) for r < rows (1..s_dot_rows), weight rows
// w_row_bytes apart. Several rows share each loaded activation block.
constexpr u32 s_dot_rows = 4;
using DotRowsFn = void (*)(void const* w, size_t w_row_bytes, u32 rows, void const* a, size_t n, float* out);

struct KernelSet {
    KernelIsa isa;
    QuantizeFn quantize_q8;
    QuantizeFn quantize_q8k;
    DotFn dot_f32;
    DotFn dot_f16;
    DotFn dot_bf16;
    DotFn dot_q4_0;
    DotFn dot_q4_1;
    DotFn dot_q8_0;
    DotFn dot_q4_k;
    DotFn dot_q5_k;
    DotFn dot_q6_k;
    AxpyFn axpy;
    GemmFn gemm_q4_0;
    GemmFn gemm_q4_1;
    GemmFn gemm_q8_0;
    GemmFn gemm_q4_k; // k-quant GEMMs: pack_q8k_tiles tiles, kgemm_scratch_bytes scratch
    GemmFn gemm_q5_k;
    GemmFn gemm_q6_k;
    DotRowsFn dot_rows_q4_0;
    DotRowsFn dot_rows_q4_1;
    DotRowsFn dot_rows_q8_0;

    DotFn dot_for(TensorType) const;
    // nullptr: no batched kernel, use dot_for per row. The tiles and scratch a
    // GEMM takes follow activation_format(type): Q8 -> pack_q8_tiles and
    // gemm_scratch_bytes, Q8K -> pack_q8k_tiles and kgemm_scratch_bytes.
    GemmFn gemm_for(TensorType) const;
    DotRowsFn dot_rows_for(TensorType) const; // nullptr: use dot_for per row
    QuantizeFn quantize_for(ActivationFormat) const; // nullptr for F32
};

KernelSet const& kernel_set(KernelIsa);

// Scalar, exact reference conversion of n elements (whole blocks) to f32.
void dequantize_row(TensorType, void const* src, float* dst, size_t n);

// Scalar kernels (the reference); exposed for tests.
namespace scalar {
void quantize_q8(float const* x, void* out, size_t n);
void quantize_q8k(float const* x, void* out, size_t n);
void gemm_q4_0(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out);
void gemm_q4_1(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out);
void gemm_q8_0(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out);
void gemm_q4_k(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out);
void gemm_q5_k(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out);
void gemm_q6_k(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out);
}

// Variant tables, defined in their own translation units.
KernelSet const& scalar_kernel_set();
KernelSet const& avx2_kernel_set();
KernelSet const& avx512_kernel_set();

} // namespace aisos::engine
