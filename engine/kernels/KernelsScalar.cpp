// Scalar reference kernels. Every SIMD kernel is tested against these: the
// integer parts must match exactly, the float accumulation within tolerance.

#include "engine/kernels/Kernels.h"

#include <cmath>
#include <type_traits>

namespace aisos::engine {

void dequantize_row(TensorType type, void const* src, float* y, size_t n)
{
    switch (type) {
    case TensorType::F32:
        std::memcpy(y, src, n * sizeof(float));
        return;
    case TensorType::F16: {
        auto const* h = static_cast<u16 const*>(src);
        for (size_t i = 0; i < n; ++i) {
            u16 v;
            std::memcpy(&v, h + i, 2);
            y[i] = fp16_to_fp32(v);
        }
        return;
    }
    case TensorType::BF16: {
        auto const* h = static_cast<u16 const*>(src);
        for (size_t i = 0; i < n; ++i) {
            u16 v;
            std::memcpy(&v, h + i, 2);
            y[i] = bf16_to_fp32(v);
        }
        return;
    }
    case TensorType::Q4_0: {
        auto const* blocks = static_cast<BlockQ4_0 const*>(src);
        for (size_t b = 0; b < n / QK; ++b, y += QK) {
            float d = fp16_to_fp32(blocks[b].d);
            for (u32 j = 0; j < QK / 2; ++j) {
                y[j] = static_cast<float>((blocks[b].qs[j] & 0xF) - 8) * d;
                y[j + 16] = static_cast<float>((blocks[b].qs[j] >> 4) - 8) * d;
            }
        }
        return;
    }
    case TensorType::Q4_1: {
        auto const* blocks = static_cast<BlockQ4_1 const*>(src);
        for (size_t b = 0; b < n / QK; ++b, y += QK) {
            float d = fp16_to_fp32(blocks[b].d);
            float m = fp16_to_fp32(blocks[b].m);
            for (u32 j = 0; j < QK / 2; ++j) {
                y[j] = static_cast<float>(blocks[b].qs[j] & 0xF) * d + m;
                y[j + 16] = static_cast<float>(blocks[b].qs[j] >> 4) * d + m;
            }
        }
        return;
    }
    case TensorType::Q8_0: {
        auto const* blocks = static_cast<BlockQ8_0 const*>(src);
        for (size_t b = 0; b < n / QK; ++b, y += QK) {
            float d = fp16_to_fp32(blocks[b].d);
            for (u32 j = 0; j < QK; ++j)
                y[j] = static_cast<float>(blocks[b].qs[j]) * d;
        }
        return;
    }
    case TensorType::Q4_K: {
        auto const* blocks = static_cast<BlockQ4_K const*>(src);
        for (size_t b = 0; b < n / QK_K; ++b) {
            float d = fp16_to_fp32(blocks[b].d);
            float dmin = fp16_to_fp32(blocks[b].dmin);
            u8 const* q = blocks[b].qs;
            for (u32 chunk = 0; chunk < 4; ++chunk, q += 32) {
                u8 sc, m;
                k_scale_min(2 * chunk, blocks[b].scales, sc, m);
                float d1 = d * sc, m1 = dmin * m;
                k_scale_min(2 * chunk + 1, blocks[b].scales, sc, m);
                float d2 = d * sc, m2 = dmin * m;
                for (u32 l = 0; l < 32; ++l)
                    *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
                for (u32 l = 0; l < 32; ++l)
                    *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
            }
        }
        return;
    }
    case TensorType::Q5_K: {
        auto const* blocks = static_cast<BlockQ5_K const*>(src);
        for (size_t b = 0; b < n / QK_K; ++b) {
            float d = fp16_to_fp32(blocks[b].d);
            float dmin = fp16_to_fp32(blocks[b].dmin);
            u8 const* ql = blocks[b].qs;
            u8 const* qh = blocks[b].qh;
            u8 u1 = 1, u2 = 2;
            for (u32 chunk = 0; chunk < 4; ++chunk, ql += 32) {
                u8 sc, m;
                k_scale_min(2 * chunk, blocks[b].scales, sc, m);
                float d1 = d * sc, m1 = dmin * m;
                k_scale_min(2 * chunk + 1, blocks[b].scales, sc, m);
                float d2 = d * sc, m2 = dmin * m;
                for (u32 l = 0; l < 32; ++l)
                    *y++ = d1 * static_cast<float>((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
                for (u32 l = 0; l < 32; ++l)
                    *y++ = d2 * static_cast<float>((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
                u1 = static_cast<u8>(u1 << 2);
                u2 = static_cast<u8>(u2 << 2);
            }
        }
        return;
    }
    case TensorType::Q6_K: {
        auto const* blocks = static_cast<BlockQ6_K const*>(src);
        for (size_t b = 0; b < n / QK_K; ++b) {
            float d = fp16_to_fp32(blocks[b].d);
            u8 const* ql = blocks[b].ql;
            u8 const* qh = blocks[b].qh;
            i8 const* sc = blocks[b].scales;
            for (u32 half = 0; half < 2; ++half) {
                for (u32 l = 0; l < 32; ++l) {
                    u32 is = l / 16;
                    int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    y[l] = d * sc[is + 0] * static_cast<float>(q1);
                    y[l + 32] = d * sc[is + 2] * static_cast<float>(q2);
                    y[l + 64] = d * sc[is + 4] * static_cast<float>(q3);
                    y[l + 96] = d * sc[is + 6] * static_cast<float>(q4);
                }
                y += 128;
                ql += 64;
                qh += 32;
                sc += 8;
            }
        }
        return;
    }
    }
}

void fill_q8_pair_scales(void* row, size_t blocks)
{
    auto const* b = static_cast<BlockQ8 const*>(row);
    float* e = reinterpret_cast<float*>(static_cast<u8*>(row) + blocks * sizeof(BlockQ8));
    for (size_t p = 0; p < blocks / 2; ++p, e += 32) {
        for (u32 i = 0; i < 8; ++i) {
            e[i] = b[2 * p].d;
            e[8 + i] = b[2 * p + 1].d;
            e[16 + i] = b[2 * p].s;
            e[24 + i] = b[2 * p + 1].s;
        }
    }
}

namespace scalar {

void quantize_q8(float const* x, void* out, size_t n)
{
    auto* blocks = static_cast<BlockQ8*>(out);
    for (size_t b = 0; b < n / QK; ++b, x += QK) {
        float amax = 0;
        for (u32 j = 0; j < QK; ++j)
            amax = std::fmax(amax, std::fabs(x[j]));
        float d = amax / 127.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        i32 sum = 0;
        for (u32 j = 0; j < QK; ++j) {
            float v = std::nearbyint(x[j] * id);
            v = std::fmin(127.0f, std::fmax(-127.0f, v));
            blocks[b].qs[j] = static_cast<i8>(v);
            sum += blocks[b].qs[j];
        }
        blocks[b].d = d;
        blocks[b].s = d * static_cast<float>(sum);
    }
    fill_q8_pair_scales(out, n / QK);
}

void quantize_q8k(float const* x, void* out, size_t n)
{
    auto* blocks = static_cast<BlockQ8K*>(out);
    for (size_t b = 0; b < n / QK_K; ++b, x += QK_K) {
        float amax = 0;
        for (u32 j = 0; j < QK_K; ++j)
            amax = std::fmax(amax, std::fabs(x[j]));
        float d = amax / 127.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        for (u32 j = 0; j < QK_K; ++j) {
            float v = std::nearbyint(x[j] * id);
            v = std::fmin(127.0f, std::fmax(-127.0f, v));
            blocks[b].qs[j] = static_cast<i8>(v);
        }
        for (u32 g = 0; g < QK_K / 16; ++g) {
            int sum = 0;
            for (u32 j = 0; j < 16; ++j)
                sum += blocks[b].qs[g * 16 + j];
            blocks[b].bsums[g] = static_cast<i16>(sum);
        }
        blocks[b].d = d;
    }
}

// Weight rows into the GEMM scratch layout (see Kernels.h); rows past
// `rows` are zero so the tile math needs no edge cases.
template<typename Block>
static void decode_gemm_rows(void const* w, size_t w_row_bytes, u32 rows, size_t nb, u8* scratch)
{
    for (size_t k = 0; k < nb; ++k, scratch += s_gemm_weight_block_bytes) {
        float* d = reinterpret_cast<float*>(scratch + QK * s_gemm_rows);
        float* bias = d + s_gemm_rows;
        for (u32 r = 0; r < s_gemm_rows; ++r) {
            u8* u = scratch + r * QK;
            if (r >= rows) {
                std::memset(u, 0, QK);
                d[r] = 0;
                bias[r] = 0;
                continue;
            }
            auto const& block = reinterpret_cast<Block const*>(static_cast<u8 const*>(w) + r * w_row_bytes)[k];
            d[r] = fp16_to_fp32(block.d);
            if constexpr (std::is_same_v<Block, BlockQ8_0>) {
                for (u32 j = 0; j < QK; ++j)
                    u[j] = static_cast<u8>(block.qs[j] + 128);
                bias[r] = -128.0f * d[r];
            } else {
                for (u32 j = 0; j < QK / 2; ++j) {
                    u[j] = block.qs[j] & 0xF;
                    u[j + 16] = block.qs[j] >> 4;
                }
                if constexpr (std::is_same_v<Block, BlockQ4_1>)
                    bias[r] = fp16_to_fp32(block.m);
                else
                    bias[r] = -8.0f * d[r];
            }
        }
    }
}

static void gemm_decoded(u8 const* scratch, u32 rows, u8 const* tiles, u32 columns, size_t nb, float* out)
{
    for (u32 first = 0; first < columns; first += s_gemm_columns) {
        u8 const* tile = tiles + size_t(first / s_gemm_columns) * nb * s_gemm_tile_block_bytes;
        for (u32 c = first; c < columns && c < first + s_gemm_columns; ++c) {
            u32 lane = c - first;
            for (u32 r = 0; r < rows; ++r) {
                float sum = 0;
                for (size_t k = 0; k < nb; ++k) {
                    u8 const* t = tile + k * s_gemm_tile_block_bytes;
                    u8 const* s = scratch + k * s_gemm_weight_block_bytes;
                    auto const* qa = reinterpret_cast<i8 const*>(t);
                    i32 dot = 0;
                    for (u32 j = 0; j < QK; ++j)
                        dot += s[r * QK + j] * qa[((j / 4) * s_gemm_columns + lane) * 4 + j % 4];
                    float const* da = reinterpret_cast<float const*>(t + QK * s_gemm_columns);
                    float const* dw = reinterpret_cast<float const*>(s + QK * s_gemm_rows);
                    sum += dw[r] * da[lane] * static_cast<float>(dot) + dw[s_gemm_rows + r] * da[s_gemm_columns + lane];
                }
                out[c * s_gemm_rows + r] = sum;
            }
        }
    }
}

void gemm_q4_0(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    decode_gemm_rows<BlockQ4_0>(w, w_row_bytes, rows, n / QK, static_cast<u8*>(scratch));
    gemm_decoded(static_cast<u8 const*>(scratch), rows, static_cast<u8 const*>(tiles), columns, n / QK, out);
}

void gemm_q4_1(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    decode_gemm_rows<BlockQ4_1>(w, w_row_bytes, rows, n / QK, static_cast<u8*>(scratch));
    gemm_decoded(static_cast<u8 const*>(scratch), rows, static_cast<u8 const*>(tiles), columns, n / QK, out);
}

void gemm_q8_0(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    decode_gemm_rows<BlockQ8_0>(w, w_row_bytes, rows, n / QK, static_cast<u8*>(scratch));
    gemm_decoded(static_cast<u8 const*>(scratch), rows, static_cast<u8 const*>(tiles), columns, n / QK, out);
}

// ---- k-quant GEMM (see Kernels.h for both layouts) ----

template<TensorType T>
static void decode_kgemm_rows(void const* w, size_t w_row_bytes, u32 rows, size_t nb, u8* scratch)
{
    for (size_t k = 0; k < nb; ++k, scratch += s_kgemm_weight_block_bytes) {
        // Rows past `rows` stay zero so the tile math needs no edge cases.
        std::memset(scratch, 0, s_kgemm_weight_block_bytes);
        auto* scales = reinterpret_cast<i32*>(scratch + s_kgemm_scales_offset);
        auto* bias = reinterpret_cast<i16*>(scratch + s_kgemm_bias_offset);
        auto* d = reinterpret_cast<float*>(scratch + s_kgemm_d_offset);
        float* dmin = d + s_gemm_rows;
        for (u32 r = 0; r < rows; ++r) {
            u8 const* row = static_cast<u8 const*>(w) + r * w_row_bytes;
            u8* u = scratch + r * QK_K;
            if constexpr (T == TensorType::Q6_K) {
                auto const& x = reinterpret_cast<BlockQ6_K const*>(row)[k];
                for (u32 h = 0; h < 2; ++h) {
                    u8 const* ql = x.ql + 64 * h;
                    u8 const* qh = x.qh + 32 * h;
                    u8* o = u + 128 * h;
                    for (u32 l = 0; l < 32; ++l) {
                        o[l] = static_cast<u8>((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4));
                        o[l + 32] = static_cast<u8>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
                        o[l + 64] = static_cast<u8>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                        o[l + 96] = static_cast<u8>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
                    }
                }
                for (u32 j = 0; j < 16; ++j) {
                    scales[r * 16 + j] = x.scales[j];
                    bias[r * 16 + j] = static_cast<i16>(32 * x.scales[j]);
                }
                d[r] = fp16_to_fp32(x.d);
            } else {
                using Block = std::conditional_t<T == TensorType::Q4_K, BlockQ4_K, BlockQ5_K>;
                auto const& x = reinterpret_cast<Block const*>(row)[k];
                for (u32 chunk = 0; chunk < 4; ++chunk) {
                    for (u32 l = 0; l < 32; ++l) {
                        u8 q = x.qs[32 * chunk + l];
                        u8 lo = q & 0xF, hi = q >> 4;
                        if constexpr (T == TensorType::Q5_K) {
                            lo = static_cast<u8>(lo | (((x.qh[l] >> (2 * chunk)) & 1) << 4));
                            hi = static_cast<u8>(hi | (((x.qh[l] >> (2 * chunk + 1)) & 1) << 4));
                        }
                        u[64 * chunk + l] = lo;
                        u[64 * chunk + 32 + l] = hi;
                    }
                }
                for (u32 j = 0; j < 8; ++j) {
                    u8 sc, m;
                    k_scale_min(j, x.scales, sc, m);
                    scales[r * 16 + j] = sc;
                    bias[r * 16 + j] = m;
                }
                d[r] = fp16_to_fp32(x.d);
                dmin[r] = fp16_to_fp32(x.dmin);
            }
        }
    }
}

// The same sums in the same order as the scalar dot products, so for the
// scalar set the GEMM equals dot_for bit for bit.
template<TensorType T>
static void kgemm_decoded(u8 const* scratch, u32 rows, u8 const* tiles, u32 columns, size_t nb, float* out)
{
    constexpr u32 sub = T == TensorType::Q6_K ? 16 : 32;
    for (u32 c = 0; c < columns; ++c) {
        u8 const* tile = tiles + size_t(c / s_gemm_columns) * nb * s_kgemm_tile_block_bytes;
        u32 lane = c % s_gemm_columns;
        for (u32 r = 0; r < rows; ++r) {
            float sum = 0;
            for (size_t k = 0; k < nb; ++k) {
                u8 const* t = tile + k * s_kgemm_tile_block_bytes;
                u8 const* s = scratch + k * s_kgemm_weight_block_bytes;
                auto const* qa = reinterpret_cast<i8 const*>(t);
                auto const* scales = reinterpret_cast<i32 const*>(s + s_kgemm_scales_offset);
                auto const* bias = reinterpret_cast<i16 const*>(s + s_kgemm_bias_offset);
                auto const* d = reinterpret_cast<float const*>(s + s_kgemm_d_offset);
                i32 isum = 0;
                for (u32 j = 0; j < QK_K / sub; ++j) {
                    i32 dot = 0;
                    for (u32 e = j * sub; e < (j + 1) * sub; ++e)
                        dot += s[r * QK_K + e] * qa[((e / 4) * s_gemm_columns + lane) * 4 + e % 4];
                    isum += scales[r * 16 + j] * dot;
                }
                // Bias pairs against the activation sums of 32 (Q4_K/Q5_K) or 16 (Q6_K).
                auto const* sums = reinterpret_cast<i16 const*>(t + (T == TensorType::Q6_K ? s_kgemm_tile_sum16_offset : s_kgemm_tile_sum32_offset));
                i32 b = 0;
                for (u32 p = 0; p < (T == TensorType::Q6_K ? 8u : 4u); ++p)
                    b += bias[r * 16 + 2 * p] * sums[(p * s_gemm_columns + lane) * 2] + bias[r * 16 + 2 * p + 1] * sums[(p * s_gemm_columns + lane) * 2 + 1];
                float da = reinterpret_cast<float const*>(t + s_kgemm_tile_d_offset)[lane];
                if constexpr (T == TensorType::Q6_K)
                    sum += da * d[r] * static_cast<float>(isum - b);
                else
                    sum += da * (d[r] * static_cast<float>(isum) - d[s_gemm_rows + r] * static_cast<float>(b));
            }
            out[c * s_gemm_rows + r] = sum;
        }
    }
}

void gemm_q4_k(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    decode_kgemm_rows<TensorType::Q4_K>(w, w_row_bytes, rows, n / QK_K, static_cast<u8*>(scratch));
    kgemm_decoded<TensorType::Q4_K>(static_cast<u8 const*>(scratch), rows, static_cast<u8 const*>(tiles), columns, n / QK_K, out);
}

void gemm_q5_k(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    decode_kgemm_rows<TensorType::Q5_K>(w, w_row_bytes, rows, n / QK_K, static_cast<u8*>(scratch));
    kgemm_decoded<TensorType::Q5_K>(static_cast<u8 const*>(scratch), rows, static_cast<u8 const*>(tiles), columns, n / QK_K, out);
}

void gemm_q6_k(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    decode_kgemm_rows<TensorType::Q6_K>(w, w_row_bytes, rows, n / QK_K, static_cast<u8*>(scratch));
    kgemm_decoded<TensorType::Q6_K>(static_cast<u8 const*>(scratch), rows, static_cast<u8 const*>(tiles), columns, n / QK_K, out);
}

} // namespace scalar

namespace {

template<typename OneColumn>
void for_columns(void const* a, size_t a_stride, u32 columns, float* out, OneColumn&& one)
{
    for (u32 c = 0; c < columns; ++c)
        out[c] = one(static_cast<u8 const*>(a) + c * a_stride);
}

void dot_f32(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out)
{
    auto const* x = static_cast<float const*>(w);
    for_columns(a, a_stride, columns, out, [&](u8 const* col) {
        auto const* y = reinterpret_cast<float const*>(col);
        float sum = 0;
        for (size_t i = 0; i < n; ++i)
            sum += x[i] * y[i];
        return sum;
    });
}

void dot_f16(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out)
{
    auto const* x = static_cast<u16 const*>(w);
    for_columns(a, a_stride, columns, out, [&](u8 const* col) {
        auto const* y = reinterpret_cast<float const*>(col);
        float sum = 0;
        for (size_t i = 0; i < n; ++i)
            sum += fp16_to_fp32(x[i]) * y[i];
        return sum;
    });
}

void dot_bf16(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out)
{
    auto const* x = static_cast<u16 const*>(w);
    for_columns(a, a_stride, columns, out, [&](u8 const* col) {
        auto const* y = reinterpret_cast<float const*>(col);
        float sum = 0;
        for (size_t i = 0; i < n; ++i)
            sum += bf16_to_fp32(x[i]) * y[i];
        return sum;
    });
}

void dot_q4_0(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out)
{
    auto const* x = static_cast<BlockQ4_0 const*>(w);
    for_columns(a, a_stride, columns, out, [&](u8 const* col) {
        auto const* y = reinterpret_cast<BlockQ8 const*>(col);
        float sum = 0;
        for (size_t b = 0; b < n / QK; ++b) {
            i32 dot = 0;
            for (u32 j = 0; j < 16; ++j)
                dot += (x[b].qs[j] & 0xF) * y[b].qs[j] + (x[b].qs[j] >> 4) * y[b].qs[j + 16];
            float dw = fp16_to_fp32(x[b].d);
            sum += dw * y[b].d * static_cast<float>(dot) - 8.0f * dw * y[b].s;
        }
        return sum;
    });
}

void dot_q4_1(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out)
{
    auto const* x = static_cast<BlockQ4_1 const*>(w);
    for_columns(a, a_stride, columns, out, [&](u8 const* col) {
        auto const* y = reinterpret_cast<BlockQ8 const*>(col);
        float sum = 0;
        for (size_t b = 0; b < n / QK; ++b) {
            i32 dot = 0;
            for (u32 j = 0; j < 16; ++j)
                dot += (x[b].qs[j] & 0xF) * y[b].qs[j] + (x[b].qs[j] >> 4) * y[b].qs[j + 16];
            sum += fp16_to_fp32(x[b].d) * y[b].d * static_cast<float>(dot) + fp16_to_fp32(x[b].m) * y[b].s;
        }
        return sum;
    });
}

void dot_q8_0(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out)
{
    auto const* x = static_cast<BlockQ8_0 const*>(w);
    for_columns(a, a_stride, columns, out, [&](u8 const* col) {
        auto const* y = reinterpret_cast<BlockQ8 const*>(col);
        float sum = 0;
        for (size_t b = 0; b < n / QK; ++b) {
            i32 dot = 0;
            for (u32 j = 0; j < QK; ++j)
                dot += x[b].qs[j] * y[b].qs[j];
            sum += fp16_to_fp32(x[b].d) * y[b].d * static_cast<float>(dot);
        }
        return sum;
    });
}

void dot_q4_k(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out)
{
    auto const* x = static_cast<BlockQ4_K const*>(w);
    for_columns(a, a_stride, columns, out, [&](u8 const* col) {
        auto const* y = reinterpret_cast<BlockQ8K const*>(col);
        float sum = 0;
        for (size_t b = 0; b < n / QK_K; ++b) {
            i32 isum = 0, msum = 0;
            u8 const* q = x[b].qs;
            i8 const* a8 = y[b].qs;
            for (u32 chunk = 0; chunk < 4; ++chunk, q += 32, a8 += 64) {
                u8 sc1, m1, sc2, m2;
                k_scale_min(2 * chunk, x[b].scales, sc1, m1);
                k_scale_min(2 * chunk + 1, x[b].scales, sc2, m2);
                i32 lo = 0, hi = 0;
                for (u32 l = 0; l < 32; ++l) {
                    lo += (q[l] & 0xF) * a8[l];
                    hi += (q[l] >> 4) * a8[l + 32];
                }
                isum += sc1 * lo + sc2 * hi;
                msum += m1 * (y[b].bsums[4 * chunk] + y[b].bsums[4 * chunk + 1]) + m2 * (y[b].bsums[4 * chunk + 2] + y[b].bsums[4 * chunk + 3]);
            }
            sum += y[b].d * (fp16_to_fp32(x[b].d) * static_cast<float>(isum) - fp16_to_fp32(x[b].dmin) * static_cast<float>(msum));
        }
        return sum;
    });
}

void dot_q5_k(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out)
{
    auto const* x = static_cast<BlockQ5_K const*>(w);
    for_columns(a, a_stride, columns, out, [&](u8 const* col) {
        auto const* y = reinterpret_cast<BlockQ8K const*>(col);
        float sum = 0;
        for (size_t b = 0; b < n / QK_K; ++b) {
            i32 isum = 0, msum = 0;
            u8 const* q = x[b].qs;
            u8 const* qh = x[b].qh;
            i8 const* a8 = y[b].qs;
            for (u32 chunk = 0; chunk < 4; ++chunk, q += 32, a8 += 64) {
                u8 sc1, m1, sc2, m2;
                k_scale_min(2 * chunk, x[b].scales, sc1, m1);
                k_scale_min(2 * chunk + 1, x[b].scales, sc2, m2);
                i32 lo = 0, hi = 0;
                for (u32 l = 0; l < 32; ++l) {
                    int ql = (q[l] & 0xF) | (((qh[l] >> (2 * chunk)) & 1) << 4);
                    int qhv = (q[l] >> 4) | (((qh[l] >> (2 * chunk + 1)) & 1) << 4);
                    lo += ql * a8[l];
                    hi += qhv * a8[l + 32];
                }
                isum += sc1 * lo + sc2 * hi;
                msum += m1 * (y[b].bsums[4 * chunk] + y[b].bsums[4 * chunk + 1]) + m2 * (y[b].bsums[4 * chunk + 2] + y[b].bsums[4 * chunk + 3]);
            }
            sum += y[b].d * (fp16_to_fp32(x[b].d) * static_cast<float>(isum) - fp16_to_fp32(x[b].dmin) * static_cast<float>(msum));
        }
        return sum;
    });
}

void dot_q6_k(void const* w, void const* a, size_t a_stride, u32 columns, size_t n, float* out)
{
    auto const* x = static_cast<BlockQ6_K const*>(w);
    for_columns(a, a_stride, columns, out, [&](u8 const* col) {
        auto const* y = reinterpret_cast<BlockQ8K const*>(col);
        float sum = 0;
        for (size_t b = 0; b < n / QK_K; ++b) {
            i32 isum = 0;
            u8 const* ql = x[b].ql;
            u8 const* qh = x[b].qh;
            i8 const* sc = x[b].scales;
            i8 const* a8 = y[b].qs;
            for (u32 half = 0; half < 2; ++half) {
                i32 part[8] = {};
                for (u32 l = 0; l < 32; ++l) {
                    u32 is = l / 16;
                    int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    part[is + 0] += q1 * a8[l];
                    part[is + 2] += q2 * a8[l + 32];
                    part[is + 4] += q3 * a8[l + 64];
                    part[is + 6] += q4 * a8[l + 96];
                }
                for (u32 k = 0; k < 8; ++k)
                    isum += sc[k] * part[k];
                ql += 64;
                qh += 32;
                sc += 8;
                a8 += 128;
            }
            sum += y[b].d * fp16_to_fp32(x[b].d) * static_cast<float>(isum);
        }
        return sum;
    });
}

void axpy(float a, float const* x, float* y, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        y[i] += a * x[i];
}

} // namespace

KernelSet const& scalar_kernel_set()
{
    static constexpr KernelSet set {
        KernelIsa::Scalar,
        scalar::quantize_q8,
        scalar::quantize_q8k,
        dot_f32,
        dot_f16,
        dot_bf16,
        dot_q4_0,
        dot_q4_1,
        dot_q8_0,
        dot_q4_k,
        dot_q5_k,
        dot_q6_k,
        axpy,
        scalar::gemm_q4_0,
        scalar::gemm_q4_1,
        scalar::gemm_q8_0,
        scalar::gemm_q4_k,
        scalar::gemm_q5_k,
        scalar::gemm_q6_k,
        nullptr, // decode: one row at a time through dot_for
        nullptr,
        nullptr,
    };
    return set;
}

} // namespace aisos::engine
