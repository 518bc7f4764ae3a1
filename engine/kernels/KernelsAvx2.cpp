// AVX2 (+FMA, F16C) kernels. Compiled with per-function target attributes
// so the file builds without -mavx2 and is only entered after cpuid says so.

#include "engine/kernels/KernelsX86.h"

#if defined(__x86_64__)

#    include <cmath>
#    include <cstring>
#    include <immintrin.h>

#    define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))

namespace aisos::engine {

namespace {

AVX2_TARGET inline float hsum_ps(__m256 v)
{
    __m128 lo = _mm256_castps256_ps128(v);
    __m128 hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

AVX2_TARGET inline float half(u16 h) { return _cvtsh_ss(h); }

AVX2_TARGET inline float block_amax(float const* x, u32 count)
{
    __m256 const sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (u32 i = 0; i < count; i += 8)
        m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
    __m128 r = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    r = _mm_max_ps(r, _mm_movehl_ps(r, r));
    r = _mm_max_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

// Rounds 32 floats times id to int8 (nearest, ties to even, like nearbyint).
AVX2_TARGET inline __m256i round_32(float const* x, __m256 id)
{
    __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 0), id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 8), id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 16), id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + 24), id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    __m256i lim = _mm256_set1_epi32(127);
    __m256i nlim = _mm256_set1_epi32(-127);
    i0 = _mm256_max_epi32(_mm256_min_epi32(i0, lim), nlim);
    i1 = _mm256_max_epi32(_mm256_min_epi32(i1, lim), nlim);
    i2 = _mm256_max_epi32(_mm256_min_epi32(i2, lim), nlim);
    i3 = _mm256_max_epi32(_mm256_min_epi32(i3, lim), nlim);
    __m256i p01 = _mm256_packs_epi32(i0, i1); // lanes: i0[0..3] i1[0..3] | i0[4..7] i1[4..7]
    __m256i p23 = _mm256_packs_epi32(i2, i3);
    __m256i p = _mm256_packs_epi16(p01, p23);
    // Undo the per-128-bit-lane interleaving of the two packs.
    return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

AVX2_TARGET inline i32 hsum_i8_32(__m256i v)
{
    __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), v);
    __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));
    __m128i r = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
    r = _mm_add_epi32(r, _mm_shuffle_epi32(r, 0x4e));
    r = _mm_add_epi32(r, _mm_shuffle_epi32(r, 0xb1));
    return _mm_cvtsi128_si32(r);
}

AVX2_TARGET inline __m256i unpack_nibbles(u8 const* qs)
{
    __m128i raw = _mm_loadu_si128(reinterpret_cast<__m128i const*>(qs));
    __m256i both = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

AVX2_TARGET inline __m256i dot_u8_i8(__m256i u, __m256i s)
{
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

template<u32 C>
AVX2_TARGET void dot_q4_0_columns(BlockQ4_0 const* x, u8 const* a, size_t stride, size_t nb, float* out)
{
    __m256 acc[C];
    float offset[C];
    for (u32 c = 0; c < C; ++c) {
        acc[c] = _mm256_setzero_ps();
        offset[c] = 0;
    }
    for (size_t b = 0; b < nb; ++b) {
        __m256i w = unpack_nibbles(x[b].qs);
        float dw = half(x[b].d);
        for (u32 c = 0; c < C; ++c) {
            auto const* y = reinterpret_cast<BlockQ8 const*>(a + c * stride) + b;
            __m256i p = dot_u8_i8(w, _mm256_loadu_si256(reinterpret_cast<__m256i const*>(y->qs)));
            float s = dw * y->d;
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(s), acc[c]);
            offset[c] += dw * y->s;
        }
    }
    for (u32 c = 0; c < C; ++c)
        out[c] = hsum_ps(acc[c]) - 8.0f * offset[c];
}

template<u32 C>
AVX2_TARGET void dot_q4_1_columns(BlockQ4_1 const* x, u8 const* a, size_t stride, size_t nb, float* out)
{
    __m256 acc[C];
    float offset[C];
    for (u32 c = 0; c < C; ++c) {
        acc[c] = _mm256_setzero_ps();
        offset[c] = 0;
    }
    for (size_t b = 0; b < nb; ++b) {
        __m256i w = unpack_nibbles(x[b].qs);
        float dw = half(x[b].d);
        float mw = half(x[b].m);
        for (u32 c = 0; c < C; ++c) {
            auto const* y = reinterpret_cast<BlockQ8 const*>(a + c * stride) + b;
            __m256i p = dot_u8_i8(w, _mm256_loadu_si256(reinterpret_cast<__m256i const*>(y->qs)));
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * y->d), acc[c]);
            offset[c] += mw * y->s;
        }
    }
    for (u32 c = 0; c < C; ++c)
        out[c] = hsum_ps(acc[c]) + offset[c];
}

template<u32 C>
AVX2_TARGET void dot_q8_0_columns(BlockQ8_0 const* x, u8 const* a, size_t stride, size_t nb, float* out)
{
    __m256 acc[C];
    for (u32 c = 0; c < C; ++c)
        acc[c] = _mm256_setzero_ps();
    for (size_t b = 0; b < nb; ++b) {
        __m256i w = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(x[b].qs));
        __m256i aw = _mm256_sign_epi8(w, w);
        float dw = half(x[b].d);
        for (u32 c = 0; c < C; ++c) {
            auto const* y = reinterpret_cast<BlockQ8 const*>(a + c * stride) + b;
            __m256i sy = _mm256_sign_epi8(_mm256_loadu_si256(reinterpret_cast<__m256i const*>(y->qs)), w);
            __m256i p = dot_u8_i8(aw, sy);
            acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * y->d), acc[c]);
        }
    }
    for (u32 c = 0; c < C; ++c)
        out[c] = hsum_ps(acc[c]);
}

enum class FloatKind {
    F32,
    F16,
    BF16,
};

template<FloatKind K>
AVX2_TARGET inline __m256 load8(void const* w, size_t i)
{
    if constexpr (K == FloatKind::F32)
        return _mm256_loadu_ps(static_cast<float const*>(w) + i);
    else if constexpr (K == FloatKind::F16)
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<__m128i const*>(static_cast<u16 const*>(w) + i)));
    else
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<__m128i const*>(static_cast<u16 const*>(w) + i))), 16));
}

template<FloatKind K>
inline float load1(void const* w, size_t i)
{
    if constexpr (K == FloatKind::F32)
        return static_cast<float const*>(w)[i];
    else if constexpr (K == FloatKind::F16)
        return fp16_to_fp32(static_cast<u16 const*>(w)[i]);
    else
        return bf16_to_fp32(static_cast<u16 const*>(w)[i]);
}

template<FloatKind K, u32 C>
AVX2_TARGET void dot_float_columns(void const* w, u8 const* a, size_t stride, size_t n, float* out)
{
    __m256 acc[C][2];
    for (u32 c = 0; c < C; ++c)
        acc[c][0] = acc[c][1] = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 w0 = load8<K>(w, i);
        __m256 w1 = load8<K>(w, i + 8);
        for (u32 c = 0; c < C; ++c) {
            auto const* y = reinterpret_cast<float const*>(a + c * stride);
            acc[c][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(y + i), acc[c][0]);
            acc[c][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(y + i + 8), acc[c][1]);
        }
    }
    for (u32 c = 0; c < C; ++c) {
        auto const* y = reinterpret_cast<float const*>(a + c * stride);
        float sum = hsum_ps(_mm256_add_ps(acc[c][0], acc[c][1]));
        for (size_t j = i; j < n; ++j)
            sum += load1<K>(w, j) * y[j];
        out[c] = sum;
    }
}

#    define AISOS_COLUMNS_DISPATCH(call) \
        switch (columns) {              \
        case 1: call(1); break;         \
        case 2: call(2); break;         \
        case 3: call(3); break;         \
        default: call(4); break;        \
        }

void dot_f32(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out)
{
#    define CALL(c) dot_float_columns<FloatKind::F32, c>(w, static_cast<u8 const*>(a), stride, n, out)
    AISOS_COLUMNS_DISPATCH(CALL)
#    undef CALL
}

void dot_f16(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out)
{
#    define CALL(c) dot_float_columns<FloatKind::F16, c>(w, static_cast<u8 const*>(a), stride, n, out)
    AISOS_COLUMNS_DISPATCH(CALL)
#    undef CALL
}

void dot_bf16(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out)
{
#    define CALL(c) dot_float_columns<FloatKind::BF16, c>(w, static_cast<u8 const*>(a), stride, n, out)
    AISOS_COLUMNS_DISPATCH(CALL)
#    undef CALL
}

void dot_q4_0(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out)
{
#    define CALL(c) dot_q4_0_columns<c>(static_cast<BlockQ4_0 const*>(w), static_cast<u8 const*>(a), stride, n / QK, out)
    AISOS_COLUMNS_DISPATCH(CALL)
#    undef CALL
}

void dot_q4_1(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out)
{
#    define CALL(c) dot_q4_1_columns<c>(static_cast<BlockQ4_1 const*>(w), static_cast<u8 const*>(a), stride, n / QK, out)
    AISOS_COLUMNS_DISPATCH(CALL)
#    undef CALL
}

void dot_q8_0(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out)
{
#    define CALL(c) dot_q8_0_columns<c>(static_cast<BlockQ8_0 const*>(w), static_cast<u8 const*>(a), stride, n / QK, out)
    AISOS_COLUMNS_DISPATCH(CALL)
#    undef CALL
}

AVX2_TARGET float dot_q4_k_one(BlockQ4_K const* x, BlockQ8K const* y, size_t nb)
{
    __m256 acc = _mm256_setzero_ps();
    float offset = 0;
    __m256i const mask = _mm256_set1_epi8(0x0F);
    for (size_t b = 0; b < nb; ++b) {
        u8 sc[8], mn[8];
        for (u32 j = 0; j < 8; ++j)
            k_scale_min(j, x[b].scales, sc[j], mn[j]);
        __m256i sum = _mm256_setzero_si256();
        i32 msum = 0;
        for (u32 chunk = 0; chunk < 4; ++chunk) {
            __m256i q = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(x[b].qs + 32 * chunk));
            __m256i lo = _mm256_and_si256(q, mask);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), mask);
            __m256i a_lo = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(y[b].qs + 64 * chunk));
            __m256i a_hi = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(y[b].qs + 64 * chunk + 32));
            __m256i p_lo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, a_lo), _mm256_set1_epi16(sc[2 * chunk]));
            __m256i p_hi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, a_hi), _mm256_set1_epi16(sc[2 * chunk + 1]));
            sum = _mm256_add_epi32(sum, _mm256_add_epi32(p_lo, p_hi));
            i16 const* bs = y[b].bsums + 4 * chunk;
            msum += mn[2 * chunk] * (bs[0] + bs[1]) + mn[2 * chunk + 1] * (bs[2] + bs[3]);
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(y[b].d * half(x[b].d)), acc);
        offset += y[b].d * half(x[b].dmin) * static_cast<float>(msum);
    }
    return hsum_ps(acc) - offset;
}

AVX2_TARGET float dot_q5_k_one(BlockQ5_K const* x, BlockQ8K const* y, size_t nb)
{
    __m256 acc = _mm256_setzero_ps();
    float offset = 0;
    __m256i const mask = _mm256_set1_epi8(0x0F);
    __m256i const one = _mm256_set1_epi8(1);
    for (size_t b = 0; b < nb; ++b) {
        u8 sc[8], mn[8];
        for (u32 j = 0; j < 8; ++j)
            k_scale_min(j, x[b].scales, sc[j], mn[j]);
        __m256i qh = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(x[b].qh));
        __m256i sum = _mm256_setzero_si256();
        i32 msum = 0;
        for (u32 chunk = 0; chunk < 4; ++chunk) {
            __m256i q = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(x[b].qs + 32 * chunk));
            __m256i h_lo = _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(static_cast<int>(2 * chunk))), one), 4);
            __m256i h_hi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(static_cast<int>(2 * chunk + 1))), one), 4);
            __m256i lo = _mm256_or_si256(_mm256_and_si256(q, mask), h_lo);
            __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), mask), h_hi);
            __m256i a_lo = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(y[b].qs + 64 * chunk));
            __m256i a_hi = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(y[b].qs + 64 * chunk + 32));
            __m256i p_lo = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, a_lo), _mm256_set1_epi16(sc[2 * chunk]));
            __m256i p_hi = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, a_hi), _mm256_set1_epi16(sc[2 * chunk + 1]));
            sum = _mm256_add_epi32(sum, _mm256_add_epi32(p_lo, p_hi));
            i16 const* bs = y[b].bsums + 4 * chunk;
            msum += mn[2 * chunk] * (bs[0] + bs[1]) + mn[2 * chunk + 1] * (bs[2] + bs[3]);
        }
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(y[b].d * half(x[b].d)), acc);
        offset += y[b].d * half(x[b].dmin) * static_cast<float>(msum);
    }
    return hsum_ps(acc) - offset;
}

AVX2_TARGET float dot_q6_k_one(BlockQ6_K const* x, BlockQ8K const* y, size_t nb)
{
    __m256 acc = _mm256_setzero_ps();
    float offset = 0;
    __m256i const mask = _mm256_set1_epi8(0x0F);
    __m256i const three = _mm256_set1_epi8(3);
    for (size_t b = 0; b < nb; ++b) {
        __m256i sum = _mm256_setzero_si256();
        i32 osum = 0;
        for (u32 j = 0; j < 16; ++j)
            osum += x[b].scales[j] * y[b].bsums[j];
        for (u32 h = 0; h < 2; ++h) {
            u8 const* ql = x[b].ql + 64 * h;
            u8 const* qhp = x[b].qh + 32 * h;
            i8 const* sc = x[b].scales + 8 * h;
            i8 const* a8 = y[b].qs + 128 * h;
            __m256i l0 = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(ql));
            __m256i l1 = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(ql + 32));
            __m256i qh = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(qhp));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, mask), _mm256_slli_epi16(_mm256_and_si256(qh, three), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, mask), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), three), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), mask), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), three), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), mask), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), three), 4));
            for (u32 k = 0; k < 4; ++k) {
                __m256i av = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(a8 + 32 * k));
                __m256i scales = _mm256_set_m128i(_mm_set1_epi16(sc[2 * k + 1]), _mm_set1_epi16(sc[2 * k]));
                sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_maddubs_epi16(q[k], av), scales));
            }
        }
        float s = y[b].d * half(x[b].d);
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(s), acc);
        offset += s * 32.0f * static_cast<float>(osum);
    }
    return hsum_ps(acc) - offset;
}

// ---- GEMM (prefill) on AVX2: the AVX-512 tile layout, 8 tokens per register ----
//
// No vpdpbusd: vpmaddubsw (u8 x s8 -> saturating i16 pairs) then vpmaddwd.
// Q4 nibbles (<= 15) never saturate: 2 * 15 * 127. Q8_0 uses the sign trick
// instead of +128 (2 * 255 * 127 would): |w| meets sign(w) * a, 2 * 128 * 127.

enum class GemmKind {
    Q4_0,
    Q4_1,
    Q8_0,
};

template<GemmKind K>
AVX2_TARGET void decode_gemm_rows(void const* w, size_t w_row_bytes, u32 rows, size_t nb, u8* scratch)
{
    __m128i const mask = _mm_set1_epi8(0x0F);
    for (size_t k = 0; k < nb; ++k, scratch += s_gemm_weight_block_bytes) {
        float* d = reinterpret_cast<float*>(scratch + QK * s_gemm_rows);
        float* bias = d + s_gemm_rows;
        for (u32 r = 0; r < s_gemm_rows; ++r) {
            u8* u = scratch + r * QK;
            if (r >= rows) {
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(u), _mm256_setzero_si256());
                d[r] = 0;
                bias[r] = 0;
                continue;
            }
            u8 const* row = static_cast<u8 const*>(w) + r * w_row_bytes;
            if constexpr (K == GemmKind::Q8_0) {
                auto const& x = reinterpret_cast<BlockQ8_0 const*>(row)[k];
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(u), _mm256_loadu_si256(reinterpret_cast<__m256i const*>(x.qs)));
                d[r] = half(x.d);
                bias[r] = 0; // signed weights as they are (see above)
            } else {
                u8 const* qs;
                if constexpr (K == GemmKind::Q4_0) {
                    auto const& x = reinterpret_cast<BlockQ4_0 const*>(row)[k];
                    qs = x.qs;
                    d[r] = half(x.d);
                    bias[r] = -8.0f * d[r];
                } else {
                    auto const& x = reinterpret_cast<BlockQ4_1 const*>(row)[k];
                    qs = x.qs;
                    d[r] = half(x.d);
                    bias[r] = half(x.m);
                }
                __m128i raw = _mm_loadu_si128(reinterpret_cast<__m128i const*>(qs));
                _mm_storeu_si128(reinterpret_cast<__m128i*>(u), _mm_and_si128(raw, mask));
                _mm_storeu_si128(reinterpret_cast<__m128i*>(u + 16), _mm_and_si128(_mm_srli_epi16(raw, 4), mask));
            }
        }
    }
}

AVX2_TARGET inline __m256i broadcast32(u8 const* p)
{
    i32 v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

// Tokens [half * 8, half * 8 + 8) of one 16-token tile against all rows.
template<GemmKind K>
AVX2_TARGET void gemm_half_tile(u8 const* scratch, u8 const* tile, size_t nb, u32 half, __m256* acc)
{
    __m256i const ones = _mm256_set1_epi16(1);
    for (u32 r = 0; r < s_gemm_rows; ++r)
        acc[r] = _mm256_setzero_ps();
    for (size_t k = 0; k < nb; ++k, scratch += s_gemm_weight_block_bytes, tile += s_gemm_tile_block_bytes) {
        __m256i a[QK / 4];
        for (u32 j = 0; j < QK / 4; ++j)
            a[j] = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(tile + 64 * j + 32 * half));
        __m256 da = _mm256_loadu_ps(reinterpret_cast<float const*>(tile + QK * s_gemm_columns) + 8 * half);
        __m256 sa = _mm256_loadu_ps(reinterpret_cast<float const*>(tile + QK * s_gemm_columns) + s_gemm_columns + 8 * half);
        float const* dw = reinterpret_cast<float const*>(scratch + QK * s_gemm_rows);
        for (u32 r = 0; r < s_gemm_rows; ++r) {
            u8 const* u = scratch + r * QK;
            __m256i s16 = _mm256_setzero_si256();
            __m256i s32 = _mm256_setzero_si256();
            for (u32 j = 0; j < QK / 4; ++j) {
                __m256i wb = broadcast32(u + 4 * j);
                __m256i p;
                if constexpr (K == GemmKind::Q8_0)
                    p = _mm256_maddubs_epi16(_mm256_sign_epi8(wb, wb), _mm256_sign_epi8(a[j], wb));
                else
                    p = _mm256_maddubs_epi16(wb, a[j]);
                // Q4: pairs <= 3810 in magnitude, so two may be summed in i16 first.
                if constexpr (K != GemmKind::Q8_0) {
                    if (j % 2 == 0) {
                        s16 = p;
                        continue;
                    }
                    p = _mm256_add_epi16(s16, p);
                }
                s32 = _mm256_add_epi32(s32, _mm256_madd_epi16(p, ones));
            }
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32), _mm256_mul_ps(da, _mm256_set1_ps(dw[r])), acc[r]);
            if constexpr (K != GemmKind::Q8_0)
                acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dw[s_gemm_rows + r]), sa, acc[r]);
        }
    }
}

template<GemmKind K>
AVX2_TARGET void gemm(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    size_t nb = n / QK;
    auto* decoded = static_cast<u8*>(scratch);
    decode_gemm_rows<K>(w, w_row_bytes, rows, nb, decoded);
    for (u32 first = 0; first < columns; first += 8) {
        __m256 acc[s_gemm_rows];
        u8 const* tile = static_cast<u8 const*>(tiles) + size_t(first / s_gemm_columns) * nb * s_gemm_tile_block_bytes;
        gemm_half_tile<K>(decoded, tile, nb, (first % s_gemm_columns) / 8, acc);
        u32 count = columns - first < 8 ? columns - first : 8;
        for (u32 r = 0; r < rows; ++r) {
            float lanes[8];
            _mm256_storeu_ps(lanes, acc[r]);
            for (u32 c = 0; c < count; ++c)
                out[(first + c) * s_gemm_rows + r] = lanes[c];
        }
    }
}

void gemm_q4_0(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    gemm<GemmKind::Q4_0>(w, w_row_bytes, rows, tiles, columns, n, scratch, out);
}

void gemm_q4_1(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    gemm<GemmKind::Q4_1>(w, w_row_bytes, rows, tiles, columns, n, scratch, out);
}

void gemm_q8_0(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    gemm<GemmKind::Q8_0>(w, w_row_bytes, rows, tiles, columns, n, scratch, out);
}

// ---- k-quant GEMM (prefill) on AVX2: 8 tokens per register ----
//
// vpmaddubsw (u8 x s8 -> i16 pairs) never saturates: 2 * 63 * 127 at most.
// Consecutive products are summed in i16 while they cannot overflow (Q4_K:
// 8 groups of 4 elements, 8 * 2 * 15 * 127; Q5_K: 4, 4 * 2 * 31 * 127;
// Q6_K: 2, 2 * 2 * 63 * 127), then vpmaddwd multiplies them by the
// sub-block scale into i32: exact integer sums as in the scalar reference.

template<TensorType T>
constexpr u32 kgemm_sub = T == TensorType::Q6_K ? 16 : 32;
template<TensorType T>
constexpr u32 kgemm_i16_groups = T == TensorType::Q4_K ? 8 : T == TensorType::Q5_K ? 4 : 2;

// R rows from row0 of the decoded scratch against tokens [8 half, 8 half + 8) of one tile.
template<TensorType T, u32 R>
AVX2_TARGET void kgemm_half_tile(u8 const* scratch, u32 row0, u8 const* tile, size_t nb, u32 half, __m256* acc)
{
    constexpr u32 sub = kgemm_sub<T>;
    constexpr u32 groups = sub / 4;
    constexpr u32 i16_groups = kgemm_i16_groups<T>;
    for (u32 r = 0; r < R; ++r)
        acc[r] = _mm256_setzero_ps();
    for (size_t k = 0; k < nb; ++k, scratch += s_kgemm_weight_block_bytes, tile += s_kgemm_tile_block_bytes) {
        u8 const* u = scratch + row0 * QK_K;
        auto const* scales = reinterpret_cast<i32 const*>(scratch + s_kgemm_scales_offset) + row0 * 16;
        __m256i isum[R];
        for (u32 r = 0; r < R; ++r)
            isum[r] = _mm256_setzero_si256();
        for (u32 j = 0; j < QK_K / sub; ++j) {
            __m256i s16[R];
            for (u32 r = 0; r < R; ++r)
                s16[r] = _mm256_setzero_si256();
            for (u32 g = 0; g < groups; ++g) {
                u32 group = j * groups + g;
                __m256i a = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(tile + group * 64 + 32 * half));
                for (u32 r = 0; r < R; ++r) {
                    __m256i p = _mm256_maddubs_epi16(broadcast32(u + r * QK_K + 4 * group), a);
                    s16[r] = g % i16_groups == 0 ? p : _mm256_add_epi16(s16[r], p);
                    if (g % i16_groups == i16_groups - 1)
                        isum[r] = _mm256_add_epi32(isum[r], _mm256_madd_epi16(s16[r], _mm256_set1_epi16(static_cast<short>(scales[r * 16 + j]))));
                }
            }
        }
        constexpr bool q6 = T == TensorType::Q6_K;
        u8 const* sums = tile + (q6 ? s_kgemm_tile_sum16_offset : s_kgemm_tile_sum32_offset) + 32 * half;
        auto const* bias = reinterpret_cast<i32 const*>(scratch + s_kgemm_bias_offset) + row0 * 8;
        auto const* d = reinterpret_cast<float const*>(scratch + s_kgemm_d_offset) + row0;
        __m256 da = _mm256_loadu_ps(reinterpret_cast<float const*>(tile + s_kgemm_tile_d_offset) + 8 * half);
        for (u32 r = 0; r < R; ++r) {
            __m256i b = _mm256_setzero_si256();
            for (u32 p = 0; p < (q6 ? 8u : 4u); ++p)
                b = _mm256_add_epi32(b, _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<__m256i const*>(sums + 64 * p)), _mm256_set1_epi32(bias[r * 8 + p])));
            if constexpr (q6) {
                acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(isum[r], b)), _mm256_mul_ps(da, _mm256_set1_ps(d[r])), acc[r]);
            } else {
                acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r]), _mm256_mul_ps(da, _mm256_set1_ps(d[r])), acc[r]);
                acc[r] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(b), _mm256_mul_ps(da, _mm256_set1_ps(d[s_gemm_rows + r])), acc[r]);
            }
        }
    }
}

template<TensorType T>
AVX2_TARGET void kgemm(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    size_t nb = n / QK_K;
    auto* decoded = static_cast<u8*>(scratch);
    avx2::decode_kgemm_rows(T, w, w_row_bytes, rows, nb, decoded);
    // Four rows at a time: their i32 sums, i16 partial sums and float
    // accumulators stay in the 16 ymm registers.
    constexpr u32 R = 4;
    for (u32 first = 0; first < columns; first += 8) {
        u8 const* tile = static_cast<u8 const*>(tiles) + size_t(first / s_gemm_columns) * nb * s_kgemm_tile_block_bytes;
        u32 count = columns - first < 8 ? columns - first : 8;
        for (u32 row0 = 0; row0 < rows; row0 += R) {
            __m256 acc[R];
            kgemm_half_tile<T, R>(decoded, row0, tile, nb, (first % s_gemm_columns) / 8, acc);
            for (u32 r = row0; r < rows && r < row0 + R; ++r) {
                float lanes[8];
                _mm256_storeu_ps(lanes, acc[r - row0]);
                for (u32 c = 0; c < count; ++c)
                    out[(first + c) * s_gemm_rows + r] = lanes[c];
            }
        }
    }
}

void gemm_q4_k(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    kgemm<TensorType::Q4_K>(w, w_row_bytes, rows, tiles, columns, n, scratch, out);
}

void gemm_q5_k(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    kgemm<TensorType::Q5_K>(w, w_row_bytes, rows, tiles, columns, n, scratch, out);
}

void gemm_q6_k(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    kgemm<TensorType::Q6_K>(w, w_row_bytes, rows, tiles, columns, n, scratch, out);
}

} // namespace

namespace avx2 {

// The k-quant GEMM's weights: quants to bytes with SIMD (this runs once per
// 8 rows and batch, next to the tile math), scales and mins per block.
AVX2_TARGET void decode_kgemm_rows(TensorType type, void const* w, size_t w_row_bytes, u32 rows, size_t nb, u8* scratch)
{
    __m256i const mask = _mm256_set1_epi8(0x0F);
    __m256i const one = _mm256_set1_epi8(1);
    __m256i const three = _mm256_set1_epi8(3);
    size_t const block_bytes = type == TensorType::Q4_K ? sizeof(BlockQ4_K) : type == TensorType::Q5_K ? sizeof(BlockQ5_K) : sizeof(BlockQ6_K);
    // Row by row: the rows of a tile are adjacent in memory, so this reads
    // the weights as one sequential stream (they come from DRAM), with a
    // software prefetch 4 KiB ahead like the decode kernels.
    for (u32 r = 0; r < s_gemm_rows; ++r) {
        for (size_t k = 0; k < nb; ++k) {
            u8* block = scratch + k * s_kgemm_weight_block_bytes;
            auto* d = reinterpret_cast<float*>(block + s_kgemm_d_offset);
            float* dmin = d + s_gemm_rows;
            u8* u = block + r * QK_K;
            i32* sc_out = reinterpret_cast<i32*>(block + s_kgemm_scales_offset) + r * 16;
            i16* bias_out = reinterpret_cast<i16*>(block + s_kgemm_bias_offset) + r * 16;
            if (r >= rows) {
                // Zero rows: the tile math needs no edge cases.
                for (u32 i = 0; i < QK_K; i += 32)
                    _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + i), _mm256_setzero_si256());
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(sc_out), _mm256_setzero_si256());
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(sc_out + 8), _mm256_setzero_si256());
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(bias_out), _mm256_setzero_si256());
                d[r] = 0;
                dmin[r] = 0;
                continue;
            }
            u8 const* row = static_cast<u8 const*>(w) + r * w_row_bytes;
            char const* ahead = reinterpret_cast<char const*>(row + k * block_bytes) + 4096;
            _mm_prefetch(ahead, _MM_HINT_T0);
            _mm_prefetch(ahead + 64, _MM_HINT_T0);
            _mm_prefetch(ahead + 128, _MM_HINT_T0);
            if (type == TensorType::Q6_K) {
                auto const& x = reinterpret_cast<BlockQ6_K const*>(row)[k];
                for (u32 h = 0; h < 2; ++h) {
                    __m256i l0 = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(x.ql + 64 * h));
                    __m256i l1 = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(x.ql + 64 * h + 32));
                    __m256i qh = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(x.qh + 32 * h));
                    u8* o = u + 128 * h;
                    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), _mm256_or_si256(_mm256_and_si256(l0, mask), _mm256_slli_epi16(_mm256_and_si256(qh, three), 4)));
                    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 32), _mm256_or_si256(_mm256_and_si256(l1, mask), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), three), 4)));
                    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 64), _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), mask), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), three), 4)));
                    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 96), _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), mask), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), three), 4)));
                }
                __m128i sc = _mm_loadu_si128(reinterpret_cast<__m128i const*>(x.scales));
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(sc_out), _mm256_cvtepi8_epi32(sc));
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(sc_out + 8), _mm256_cvtepi8_epi32(_mm_srli_si128(sc, 8)));
                // 32 * sc is within [-4096, 4064]: an i16.
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(bias_out), _mm256_slli_epi16(_mm256_cvtepi8_epi16(sc), 5));
                d[r] = half(x.d);
                dmin[r] = 0;
                continue;
            }
            u8 const* qs;
            u8 const* packed;
            u16 d_bits, dmin_bits;
            __m256i qh = _mm256_setzero_si256();
            if (type == TensorType::Q4_K) {
                auto const& x = reinterpret_cast<BlockQ4_K const*>(row)[k];
                qs = x.qs;
                packed = x.scales;
                d_bits = x.d;
                dmin_bits = x.dmin;
            } else {
                auto const& x = reinterpret_cast<BlockQ5_K const*>(row)[k];
                qs = x.qs;
                packed = x.scales;
                d_bits = x.d;
                dmin_bits = x.dmin;
                qh = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(x.qh));
            }
            for (u32 chunk = 0; chunk < 4; ++chunk) {
                __m256i q = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(qs + 32 * chunk));
                __m256i lo = _mm256_and_si256(q, mask);
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), mask);
                if (type == TensorType::Q5_K) {
                    // Bit 2 chunk of qh[l] is bit 4 of element 64 chunk + l, bit 2 chunk + 1 of element 64 chunk + 32 + l.
                    lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(static_cast<int>(2 * chunk))), one), 4));
                    hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(static_cast<int>(2 * chunk + 1))), one), 4));
                }
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 64 * chunk), lo);
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 64 * chunk + 32), hi);
            }
            u8 sc[16], mn[16];
            for (u32 j = 0; j < 8; ++j) {
                k_scale_min(j, packed, sc[j], mn[j]);
                sc[8 + j] = 0;
                mn[8 + j] = 0;
            }
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(sc_out), _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<__m128i const*>(sc))));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(sc_out + 8), _mm256_setzero_si256());
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(bias_out), _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<__m128i const*>(mn))));
            d[r] = half(d_bits);
            dmin[r] = half(dmin_bits);
        }
    }
}

AVX2_TARGET void quantize_q8(float const* x, void* out, size_t n)
{
    auto* blocks = static_cast<BlockQ8*>(out);
    for (size_t b = 0; b < n / QK; ++b, x += QK) {
        float amax = block_amax(x, QK);
        float d = amax / 127.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        __m256i q = round_32(x, _mm256_set1_ps(id));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(blocks[b].qs), q);
        blocks[b].d = d;
        blocks[b].s = d * static_cast<float>(hsum_i8_32(q));
    }
    fill_q8_pair_scales(out, n / QK);
}

AVX2_TARGET void quantize_q8k(float const* x, void* out, size_t n)
{
    auto* blocks = static_cast<BlockQ8K*>(out);
    for (size_t b = 0; b < n / QK_K; ++b, x += QK_K) {
        float amax = block_amax(x, QK_K);
        float d = amax / 127.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        for (u32 g = 0; g < QK_K / 32; ++g) {
            __m256i q = round_32(x + 32 * g, _mm256_set1_ps(id));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(blocks[b].qs + 32 * g), q);
            // Sums of 4 in 8 lanes: lanes 0..3 cover elements 0..15, 4..7 cover 16..31.
            __m256i s32 = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
            __m128i sums = _mm_hadd_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
            sums = _mm_hadd_epi32(sums, sums);
            blocks[b].bsums[2 * g] = static_cast<i16>(_mm_extract_epi32(sums, 0));
            blocks[b].bsums[2 * g + 1] = static_cast<i16>(_mm_extract_epi32(sums, 1));
        }
        blocks[b].d = d;
    }
}

void dot_q4_k(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out)
{
    for (u32 c = 0; c < columns; ++c)
        out[c] = dot_q4_k_one(static_cast<BlockQ4_K const*>(w), reinterpret_cast<BlockQ8K const*>(static_cast<u8 const*>(a) + c * stride), n / QK_K);
}

void dot_q5_k(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out)
{
    for (u32 c = 0; c < columns; ++c)
        out[c] = dot_q5_k_one(static_cast<BlockQ5_K const*>(w), reinterpret_cast<BlockQ8K const*>(static_cast<u8 const*>(a) + c * stride), n / QK_K);
}

void dot_q6_k(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out)
{
    for (u32 c = 0; c < columns; ++c)
        out[c] = dot_q6_k_one(static_cast<BlockQ6_K const*>(w), reinterpret_cast<BlockQ8K const*>(static_cast<u8 const*>(a) + c * stride), n / QK_K);
}

AVX2_TARGET void axpy(float a, float const* x, float* y, size_t n)
{
    __m256 av = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; ++i)
        y[i] += a * x[i];
}

} // namespace avx2

static KernelSet const s_avx2_set {
    KernelIsa::Avx2,
    avx2::quantize_q8,
    avx2::quantize_q8k,
    dot_f32,
    dot_f16,
    dot_bf16,
    dot_q4_0,
    dot_q4_1,
    dot_q8_0,
    avx2::dot_q4_k,
    avx2::dot_q5_k,
    avx2::dot_q6_k,
    avx2::axpy,
    gemm_q4_0,
    gemm_q4_1,
    gemm_q8_0,
    gemm_q4_k,
    gemm_q5_k,
    gemm_q6_k,
    nullptr, // decode: one row at a time
    nullptr,
    nullptr,
};

KernelSet const& avx2_kernel_set() { return s_avx2_set; }

} // namespace aisos::engine

#else

namespace aisos::engine {
KernelSet const& avx2_kernel_set() { return scalar_kernel_set(); }
} // namespace aisos::engine

#endif
