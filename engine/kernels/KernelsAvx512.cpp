// AVX-512 (F, BW, VL, VNNI) kernels: two 32-element blocks per 512-bit
// register and vpdpbusd for the int8 dot products. The k-quants have their
// own file (KernelsAvx512KQuant.cpp); activation quantization and axpy use
// the AVX2 kernels, which run on any AVX-512 CPU.

#include "engine/kernels/KernelsX86.h"

#if defined(__x86_64__)

// GCC 12 warns inside its own 256->512 cast intrinsics (undefined upper half).
#    pragma GCC diagnostic ignored "-Wuninitialized"
#    if !defined(__clang__)
#        pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#    endif
#    include <cstring>
#    include <immintrin.h>

#    define AVX512_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

namespace aisos::engine {

// Defined in KernelsAvx512KQuant.cpp; only reachable through this table.
namespace avx512 {
void dot_q4_k(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out);
void dot_q5_k(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out);
void dot_q6_k(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out);
void gemm_q4_k(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out);
void gemm_q5_k(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out);
void gemm_q6_k(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out);
}

namespace {

AVX512_TARGET inline float half(u16 h) { return _cvtsh_ss(h); }

// Nibbles of two blocks as 64 unsigned bytes in element order:
// [block0 0..15 | block0 16..31 | block1 0..15 | block1 16..31].
AVX512_TARGET inline __m512i unpack_two(u8 const* qs0, u8 const* qs1)
{
    __m256i raw = _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<__m128i const*>(qs1)), _mm_loadu_si128(reinterpret_cast<__m128i const*>(qs0)));
    __m256i const mask = _mm256_set1_epi8(0x0F);
    __m256i lo = _mm256_and_si256(raw, mask);                        // [lo b0 | lo b1]
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), mask);  // [hi b0 | hi b1]
    __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); // [lo b0, lo b1, hi b0, hi b1]
    return _mm512_shuffle_i64x2(v, v, _MM_SHUFFLE(3, 1, 2, 0));
}

AVX512_TARGET inline __m256i unpack_one(u8 const* qs)
{
    __m128i raw = _mm_loadu_si128(reinterpret_cast<__m128i const*>(qs));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0F));
}

AVX512_TARGET inline __m512i load_two_q8(BlockQ8 const* y)
{
    __m256i a0 = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(y[0].qs));
    __m256i a1 = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(y[1].qs));
    return _mm512_inserti64x4(_mm512_castsi256_si512(a0), a1, 1);
}



AVX512_TARGET inline float hsum256(__m256 v)
{
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

enum class Kind {
    Q4_0,
    Q4_1,
    Q8_0,
};

AVX512_TARGET inline __m512 pair(float const* first, float const* second)
{
    return _mm512_insertf32x8(_mm512_set1_ps(*first), _mm256_set1_ps(*second), 1);
}

// One template for the three 32-block types. Weight bytes become unsigned
// bytes once per pair of blocks and serve every column; all scale math is
// in vectors: lanes 0-7 belong to the first block, 8-15 to the second.
// The offset term (Q4_0's -8, Q4_1's minimum, Q8_0's +128 bias) is summed
// in `offset` with every value counted 8 times, hence the final factor.
template<Kind K, u32 C>
AVX512_TARGET void dot_small_columns(void const* w, u8 const* a, size_t stride, size_t nb, float* out)
{
    __m512 acc[C];
    __m512 offset[C];
    for (u32 c = 0; c < C; ++c) {
        acc[c] = _mm512_setzero_ps();
        offset[c] = _mm512_setzero_ps();
    }
    float tail[C];
    for (u32 c = 0; c < C; ++c)
        tail[c] = 0;
    size_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        __m512i wv;
        __m512 dw, bias;
        if constexpr (K == Kind::Q4_0) {
            auto const* x = static_cast<BlockQ4_0 const*>(w) + b;
            wv = unpack_two(x[0].qs, x[1].qs);
            float d0 = half(x[0].d), d1 = half(x[1].d);
            dw = pair(&d0, &d1);
            bias = dw;
        } else if constexpr (K == Kind::Q4_1) {
            auto const* x = static_cast<BlockQ4_1 const*>(w) + b;
            wv = unpack_two(x[0].qs, x[1].qs);
            float d0 = half(x[0].d), d1 = half(x[1].d), m0 = half(x[0].m), m1 = half(x[1].m);
            dw = pair(&d0, &d1);
            bias = pair(&m0, &m1);
        } else {
            auto const* x = static_cast<BlockQ8_0 const*>(w) + b;
            __m256i w0 = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(x[0].qs));
            __m256i w1 = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(x[1].qs));
            // Signed weights made unsigned by +128; 128 * sum(a) is removed through `offset`.
            wv = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(w0), w1, 1), _mm512_set1_epi8(static_cast<char>(0x80)));
            float d0 = half(x[0].d), d1 = half(x[1].d);
            dw = pair(&d0, &d1);
            bias = dw;
        }
        for (u32 c = 0; c < C; ++c) {
            u8 const* row = a + c * stride;
            auto const* y = reinterpret_cast<BlockQ8 const*>(row) + b;
            float const* scales = reinterpret_cast<float const*>(row + nb * sizeof(BlockQ8)) + (b / 2) * 32;
            __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wv, load_two_q8(y));
            __m512 scale = _mm512_mul_ps(dw, _mm512_loadu_ps(scales));
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), scale, acc[c]);
            offset[c] = _mm512_fmadd_ps(bias, _mm512_loadu_ps(scales + 16), offset[c]);
        }
    }
    for (; b < nb; ++b) {
        __m256i wv;
        float d0, m0 = 0;
        if constexpr (K == Kind::Q4_0) {
            auto const* x = static_cast<BlockQ4_0 const*>(w) + b;
            wv = unpack_one(x->qs);
            d0 = half(x->d);
        } else if constexpr (K == Kind::Q4_1) {
            auto const* x = static_cast<BlockQ4_1 const*>(w) + b;
            wv = unpack_one(x->qs);
            d0 = half(x->d);
            m0 = half(x->m);
        } else {
            auto const* x = static_cast<BlockQ8_0 const*>(w) + b;
            wv = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<__m256i const*>(x->qs)), _mm256_set1_epi8(static_cast<char>(0x80)));
            d0 = half(x->d);
        }
        for (u32 c = 0; c < C; ++c) {
            auto const* y = reinterpret_cast<BlockQ8 const*>(a + c * stride) + b;
            __m256i p = _mm256_dpbusd_epi32(_mm256_setzero_si256(), wv, _mm256_loadu_si256(reinterpret_cast<__m256i const*>(y->qs)));
            tail[c] += d0 * y->d * hsum256(_mm256_cvtepi32_ps(p));
            if constexpr (K == Kind::Q4_0)
                tail[c] -= 8.0f * d0 * y->s;
            else if constexpr (K == Kind::Q4_1)
                tail[c] += m0 * y->s;
            else
                tail[c] -= 128.0f * d0 * y->s;
        }
    }
    constexpr float factor = K == Kind::Q4_0 ? -1.0f : K == Kind::Q4_1 ? 0.125f : -16.0f;
    for (u32 c = 0; c < C; ++c)
        out[c] = _mm512_reduce_add_ps(acc[c]) + factor * _mm512_reduce_add_ps(offset[c]) + tail[c];
}

enum class FloatKind {
    F32,
    F16,
    BF16,
};

template<FloatKind K>
AVX512_TARGET inline __m512 load16(void const* w, size_t i)
{
    if constexpr (K == FloatKind::F32)
        return _mm512_loadu_ps(static_cast<float const*>(w) + i);
    else if constexpr (K == FloatKind::F16)
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<__m256i const*>(static_cast<u16 const*>(w) + i)));
    else
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<__m256i const*>(static_cast<u16 const*>(w) + i))), 16));
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
AVX512_TARGET void dot_float_columns(void const* w, u8 const* a, size_t stride, size_t n, float* out)
{
    __m512 acc[C];
    for (u32 c = 0; c < C; ++c)
        acc[c] = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 wv = load16<K>(w, i);
        for (u32 c = 0; c < C; ++c)
            acc[c] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(reinterpret_cast<float const*>(a + c * stride) + i), acc[c]);
    }
    for (u32 c = 0; c < C; ++c) {
        auto const* y = reinterpret_cast<float const*>(a + c * stride);
        float sum = _mm512_reduce_add_ps(acc[c]);
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

#    define AISOS_DEFINE_SMALL(name, kind)                                                                   \
        void name(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out)             \
        {                                                                                                     \
            auto const* bytes = static_cast<u8 const*>(a);                                                    \
            switch (columns) {                                                                                \
            case 1: dot_small_columns<kind, 1>(w, bytes, stride, n / QK, out); break;                         \
            case 2: dot_small_columns<kind, 2>(w, bytes, stride, n / QK, out); break;                         \
            case 3: dot_small_columns<kind, 3>(w, bytes, stride, n / QK, out); break;                         \
            default: dot_small_columns<kind, 4>(w, bytes, stride, n / QK, out); break;                        \
            }                                                                                                 \
        }

AISOS_DEFINE_SMALL(dot_q4_0, Kind::Q4_0)
AISOS_DEFINE_SMALL(dot_q4_1, Kind::Q4_1)
AISOS_DEFINE_SMALL(dot_q8_0, Kind::Q8_0)

#    define AISOS_DEFINE_FLOAT(name, kind)                                                                   \
        void name(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out)             \
        {                                                                                                     \
            auto const* bytes = static_cast<u8 const*>(a);                                                    \
            switch (columns) {                                                                                \
            case 1: dot_float_columns<kind, 1>(w, bytes, stride, n, out); break;                              \
            case 2: dot_float_columns<kind, 2>(w, bytes, stride, n, out); break;                              \
            case 3: dot_float_columns<kind, 3>(w, bytes, stride, n, out); break;                              \
            default: dot_float_columns<kind, 4>(w, bytes, stride, n, out); break;                             \
            }                                                                                                 \
        }

AISOS_DEFINE_FLOAT(dot_f32, FloatKind::F32)
AISOS_DEFINE_FLOAT(dot_f16, FloatKind::F16)
AISOS_DEFINE_FLOAT(dot_bf16, FloatKind::BF16)

// ---- decode: s_dot_rows weight rows share each activation pair ----

// Two f16 scales (of blocks 0 and 1 of a pair) as 16 floats in the lane
// order of the products: `natural` [d0 x8, d1 x8] (Q8_0), else
// [d0 x4, d1 x4, d0 x4, d1 x4] (the nibble order of unpack_pair_rows).
template<bool Natural>
AVX512_TARGET inline __m512 pair_scales(u16 h0, u16 h1)
{
    __m256i both = _mm256_set1_epi32(static_cast<int>(h0 | (u32(h1) << 16)));
    __m256i pattern = Natural ? _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3)
                              : _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3);
    return _mm512_cvtph_ps(_mm256_shuffle_epi8(both, pattern));
}

// Decode streams every weight byte once from DRAM (the model is larger than
// the caches); the hardware prefetcher alone left one core at ~5 GB/s.
// Prefetching 4 KiB ahead of each row (about the next group of rows) gave
// 6.5-7.5 GB/s per core on a 600 MB Q4_0 matrix (1 KiB was worse than none).
constexpr size_t s_prefetch_distance = 4096;

template<Kind K, u32 R>
AVX512_TARGET void dot_rows_one_column(u8 const* w, size_t row_bytes, u8 const* a, size_t nb, float* out)
{
    constexpr bool natural = K == Kind::Q8_0;
    constexpr size_t block_bytes = K == Kind::Q4_0 ? sizeof(BlockQ4_0) : K == Kind::Q4_1 ? sizeof(BlockQ4_1) : sizeof(BlockQ8_0);
    __m512 acc[R], offset[R];
    for (u32 r = 0; r < R; ++r) {
        acc[r] = _mm512_setzero_ps();
        offset[r] = _mm512_setzero_ps();
    }
    auto const* y = reinterpret_cast<BlockQ8 const*>(a);
    float const* scales = reinterpret_cast<float const*>(a + nb * sizeof(BlockQ8));
    // Activations as [b0 0..15 | b1 0..15 | b0 16..31 | b1 16..31], the
    // order in which one shift of [qs0 | qs1] yields the weight nibbles.
    __m512i const order = _mm512_setr_epi64(0, 1, 4, 5, 2, 3, 6, 7);
    __m512i const scale_order = _mm512_setr_epi32(0, 0, 0, 0, 8, 8, 8, 8, 0, 0, 0, 0, 8, 8, 8, 8);
    __m512i const shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
    __m512i const nibble = _mm512_set1_epi8(0x0F);
    size_t b = 0;
    for (; b + 2 <= nb; b += 2, scales += 32) {
        __m512i av = load_two_q8(y + b);
        __m512 da = _mm512_loadu_ps(scales);
        __m512 sa = _mm512_loadu_ps(scales + 16);
        if constexpr (!natural) {
            av = _mm512_permutexvar_epi64(order, av);
            da = _mm512_permutexvar_ps(scale_order, da);
            sa = _mm512_permutexvar_ps(scale_order, sa);
        }
        for (u32 r = 0; r < R; ++r) {
            u8 const* row = w + r * row_bytes;
            _mm_prefetch(reinterpret_cast<char const*>(row + b * block_bytes + s_prefetch_distance), _MM_HINT_T0);
            __m512i wv;
            __m512 dw, bias;
            if constexpr (K == Kind::Q8_0) {
                auto const* x = reinterpret_cast<BlockQ8_0 const*>(row) + b;
                __m256i w0 = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(x[0].qs));
                __m256i w1 = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(x[1].qs));
                wv = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(w0), w1, 1), _mm512_set1_epi8(static_cast<char>(0x80)));
                dw = pair_scales<natural>(x[0].d, x[1].d);
                bias = dw;
            } else {
                u8 const* qs0;
                u8 const* qs1;
                if constexpr (K == Kind::Q4_0) {
                    auto const* x = reinterpret_cast<BlockQ4_0 const*>(row) + b;
                    qs0 = x[0].qs;
                    qs1 = x[1].qs;
                    dw = pair_scales<natural>(x[0].d, x[1].d);
                    bias = dw;
                } else {
                    auto const* x = reinterpret_cast<BlockQ4_1 const*>(row) + b;
                    qs0 = x[0].qs;
                    qs1 = x[1].qs;
                    dw = pair_scales<natural>(x[0].d, x[1].d);
                    bias = pair_scales<natural>(x[0].m, x[1].m);
                }
                __m256i raw = _mm256_loadu2_m128i(reinterpret_cast<__m128i const*>(qs1), reinterpret_cast<__m128i const*>(qs0));
                wv = _mm512_and_si512(_mm512_srlv_epi16(_mm512_broadcast_i64x4(raw), shift), nibble);
            }
            __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wv, av);
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_mul_ps(dw, da), acc[r]);
            offset[r] = _mm512_fmadd_ps(bias, sa, offset[r]);
        }
    }
    constexpr float factor = K == Kind::Q4_0 ? -1.0f : K == Kind::Q4_1 ? 0.125f : -16.0f;
    for (u32 r = 0; r < R; ++r) {
        float tail = 0;
        if (b < nb) {
            // Odd block count: the last block alone through the column
            // kernel (with one block it reads no pair scales).
            u8 const* row = w + r * row_bytes;
            dot_small_columns<K, 1>(row + b * block_bytes, reinterpret_cast<u8 const*>(y + b), 0, 1, &tail);
        }
        out[r] = _mm512_reduce_add_ps(acc[r]) + factor * _mm512_reduce_add_ps(offset[r]) + tail;
    }
}

template<Kind K>
void dot_rows(void const* w, size_t row_bytes, u32 rows, void const* a, size_t n, float* out)
{
    auto const* bytes = static_cast<u8 const*>(w);
    auto const* act = static_cast<u8 const*>(a);
    switch (rows) {
    case 1: dot_rows_one_column<K, 1>(bytes, row_bytes, act, n / QK, out); break;
    case 2: dot_rows_one_column<K, 2>(bytes, row_bytes, act, n / QK, out); break;
    case 3: dot_rows_one_column<K, 3>(bytes, row_bytes, act, n / QK, out); break;
    default: dot_rows_one_column<K, 4>(bytes, row_bytes, act, n / QK, out); break;
    }
}

void dot_rows_q4_0(void const* w, size_t row_bytes, u32 rows, void const* a, size_t n, float* out) { dot_rows<Kind::Q4_0>(w, row_bytes, rows, a, n, out); }
void dot_rows_q4_1(void const* w, size_t row_bytes, u32 rows, void const* a, size_t n, float* out) { dot_rows<Kind::Q4_1>(w, row_bytes, rows, a, n, out); }
void dot_rows_q8_0(void const* w, size_t row_bytes, u32 rows, void const* a, size_t n, float* out) { dot_rows<Kind::Q8_0>(w, row_bytes, rows, a, n, out); }

// ---- GEMM (prefill): s_gemm_rows weight rows x s_gemm_columns tokens per pass ----

template<Kind K>
AVX512_TARGET void decode_gemm_rows(void const* w, size_t w_row_bytes, u32 rows, size_t nb, u8* scratch)
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
            if constexpr (K == Kind::Q8_0) {
                auto const& x = reinterpret_cast<BlockQ8_0 const*>(row)[k];
                __m256i q = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(x.qs));
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(u), _mm256_xor_si256(q, _mm256_set1_epi8(static_cast<char>(0x80))));
                d[r] = half(x.d);
                bias[r] = -128.0f * d[r];
            } else {
                u8 const* qs;
                if constexpr (K == Kind::Q4_0) {
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

AVX512_TARGET inline __m512i broadcast32(u8 const* p)
{
    i32 v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// All rows of the decoded scratch against one tile of 16 tokens. Per block:
// the tokens' 32 bytes are 8 registers (4 elements x 16 tokens each), every
// row meets them with 8 vpdpbusd on its broadcast 4-byte groups.
AVX512_TARGET void gemm_tile(u8 const* scratch, u8 const* tile, size_t nb, __m512* acc)
{
    for (u32 r = 0; r < s_gemm_rows; ++r)
        acc[r] = _mm512_setzero_ps();
    for (size_t k = 0; k < nb; ++k, scratch += s_gemm_weight_block_bytes, tile += s_gemm_tile_block_bytes) {
        __m512i a[QK / 4];
        for (u32 j = 0; j < QK / 4; ++j)
            a[j] = _mm512_loadu_si512(tile + 64 * j);
        __m512 da = _mm512_loadu_ps(tile + QK * s_gemm_columns);
        __m512 sa = _mm512_loadu_ps(tile + QK * s_gemm_columns + 64);
        float const* dw = reinterpret_cast<float const*>(scratch + QK * s_gemm_rows);
        for (u32 r = 0; r < s_gemm_rows; ++r) {
            u8 const* u = scratch + r * QK;
            // Two chains of four halve the dependent vpdpbusd latency.
            __m512i p0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), broadcast32(u + 0), a[0]);
            __m512i p1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), broadcast32(u + 4), a[1]);
            p0 = _mm512_dpbusd_epi32(p0, broadcast32(u + 8), a[2]);
            p1 = _mm512_dpbusd_epi32(p1, broadcast32(u + 12), a[3]);
            p0 = _mm512_dpbusd_epi32(p0, broadcast32(u + 16), a[4]);
            p1 = _mm512_dpbusd_epi32(p1, broadcast32(u + 20), a[5]);
            p0 = _mm512_dpbusd_epi32(p0, broadcast32(u + 24), a[6]);
            p1 = _mm512_dpbusd_epi32(p1, broadcast32(u + 28), a[7]);
            __m512 p = _mm512_cvtepi32_ps(_mm512_add_epi32(p0, p1));
            acc[r] = _mm512_fmadd_ps(p, _mm512_mul_ps(da, _mm512_set1_ps(dw[r])), acc[r]);
            acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(dw[s_gemm_rows + r]), sa, acc[r]);
        }
    }
}

template<Kind K>
AVX512_TARGET void gemm(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    size_t nb = n / QK;
    auto* decoded = static_cast<u8*>(scratch);
    decode_gemm_rows<K>(w, w_row_bytes, rows, nb, decoded);
    __m512i const lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (u32 first = 0; first < columns; first += s_gemm_columns) {
        __m512 acc[s_gemm_rows];
        gemm_tile(decoded, static_cast<u8 const*>(tiles) + size_t(first / s_gemm_columns) * nb * s_gemm_tile_block_bytes, nb, acc);
        u32 count = columns - first < s_gemm_columns ? columns - first : s_gemm_columns;
        __mmask16 valid = static_cast<__mmask16>((1u << count) - 1);
        // Token c of this tile goes to out[(first + c) * s_gemm_rows + r].
        __m512i index = _mm512_mullo_epi32(lane, _mm512_set1_epi32(s_gemm_rows));
        float* base = out + size_t(first) * s_gemm_rows;
        for (u32 r = 0; r < rows; ++r)
            _mm512_mask_i32scatter_ps(base + r, valid, index, acc[r], 4);
    }
}

void gemm_q4_0(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    gemm<Kind::Q4_0>(w, w_row_bytes, rows, tiles, columns, n, scratch, out);
}

void gemm_q4_1(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    gemm<Kind::Q4_1>(w, w_row_bytes, rows, tiles, columns, n, scratch, out);
}

void gemm_q8_0(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    gemm<Kind::Q8_0>(w, w_row_bytes, rows, tiles, columns, n, scratch, out);
}

} // namespace

static KernelSet const s_avx512_set {
    KernelIsa::Avx512,
    avx2::quantize_q8,
    avx2::quantize_q8k,
    dot_f32,
    dot_f16,
    dot_bf16,
    dot_q4_0,
    dot_q4_1,
    dot_q8_0,
    avx512::dot_q4_k,
    avx512::dot_q5_k,
    avx512::dot_q6_k,
    avx2::axpy,
    gemm_q4_0,
    gemm_q4_1,
    gemm_q8_0,
    avx512::gemm_q4_k,
    avx512::gemm_q5_k,
    avx512::gemm_q6_k,
    dot_rows_q4_0,
    dot_rows_q4_1,
    dot_rows_q8_0,
};

KernelSet const& avx512_kernel_set() { return s_avx512_set; }

} // namespace aisos::engine

#else

namespace aisos::engine {
KernelSet const& avx512_kernel_set() { return scalar_kernel_set(); }
} // namespace aisos::engine

#endif
