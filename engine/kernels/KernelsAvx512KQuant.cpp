// AVX-512 (F, BW, VL, VNNI) dot products for the k-quants Q4_K, Q5_K and
// Q6_K against BlockQ8K activations, and their prefill GEMMs.
//
// Per 64 elements, vpmaddubsw multiplies the unsigned weight quants by the
// signed activations into i16 pairs (at most 2 * 63 * 127, so it never
// saturates) and VNNI vpdpwssd multiplies those pairs by the sub-block
// scale and accumulates in i32. A super-block's integer sum is therefore
// exact, as in the scalar reference; only the float accumulation across
// super-blocks differs. Unpacking quants and scales happens once per
// super-block and serves every column (token).

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

namespace aisos::engine::avx512 {

namespace {

AVX512_TARGET inline float half(u16 h) { return _cvtsh_ss(h); }

// Decode streams the weights once from DRAM; like the Q4_0 row kernels,
// prefetch 4 KiB ahead of the block being read (the next rows of a matmul
// follow the current one in memory).
constexpr size_t s_prefetch_distance = 4096;

// The 8 six-bit scales (bytes 0..7) and 8 mins (bytes 8..15) of a Q4_K/Q5_K
// block, the same numbers as k_scale_min, four at a time in u32 words.
AVX512_TARGET inline __m128i scales_and_mins(u8 const* packed)
{
    u32 q[3];
    std::memcpy(q, packed, sizeof(q));
    u32 const low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
    u32 scales_lo = q[0] & low6;
    u32 mins_lo = q[1] & low6;
    u32 scales_hi = (q[2] & low4) | (((q[0] >> 6) & low2) << 4);
    u32 mins_hi = ((q[2] >> 4) & low4) | (((q[1] >> 6) & low2) << 4);
    return _mm_setr_epi32(static_cast<int>(scales_lo), static_cast<int>(scales_hi), static_cast<int>(mins_lo), static_cast<int>(mins_hi));
}

// Index vector for vpermw: i16 lanes 0..15 take word `first`, 16..31 take `first + 1`.
AVX512_TARGET inline __m512i halves_index(int first)
{
    return _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(first)), _mm256_set1_epi16(static_cast<short>(first + 1)), 1);
}

// 32 packed bytes as their 64 nibbles: [low nibbles | high nibbles], which
// in Q4_K/Q5_K are two consecutive 32-element sub-blocks.
AVX512_TARGET inline __m512i nibbles_64(u8 const* qs)
{
    __m512i raw = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<__m256i const*>(qs)));
    __m512i shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
    return _mm512_and_si512(_mm512_srlv_epi16(raw, shift), _mm512_set1_epi8(0x0F));
}

enum class Kind {
    Q4_K,
    Q5_K,
};

// Q4_K and Q5_K: sum_j d * sc_j * dot(q_j, a_j) - dmin * m_j * sum(a_j) over
// the 8 sub-blocks j of 32 elements; Q5_K adds bit 4 to each quant from qh.
template<Kind K, u32 C>
AVX512_TARGET void dot_q45_k_columns(void const* w, u8 const* a, size_t stride, size_t nb, float* out)
{
    __m512 acc[C];
    __m256 min_acc[C];
    for (u32 c = 0; c < C; ++c) {
        acc[c] = _mm512_setzero_ps();
        min_acc[c] = _mm256_setzero_ps();
    }
    // Mins as i16 pairs [m0, m0, m1, m1, ...] against the 16 bsums.
    __m256i const min_pairs = _mm256_setr_epi16(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    for (size_t b = 0; b < nb; ++b) {
        u16 d_bits, dmin_bits;
        u8 const* scales_bytes;
        u8 const* qs;
        [[maybe_unused]] u8 const* qh = nullptr;
        if constexpr (K == Kind::Q4_K) {
            auto const& x = static_cast<BlockQ4_K const*>(w)[b];
            d_bits = x.d;
            dmin_bits = x.dmin;
            scales_bytes = x.scales;
            qs = x.qs;
        } else {
            auto const& x = static_cast<BlockQ5_K const*>(w)[b];
            d_bits = x.d;
            dmin_bits = x.dmin;
            scales_bytes = x.scales;
            qs = x.qs;
            qh = x.qh;
        }
        _mm_prefetch(reinterpret_cast<char const*>(qs) + s_prefetch_distance, _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<char const*>(qs) + s_prefetch_distance + 64, _MM_HINT_T0);

        __m512i sm = _mm512_zextsi256_si512(_mm256_cvtepu8_epi16(scales_and_mins(scales_bytes)));
        __m512i q[4], scale[4];
        for (u32 chunk = 0; chunk < 4; ++chunk) {
            q[chunk] = nibbles_64(qs + 32 * chunk);
            scale[chunk] = _mm512_permutexvar_epi16(halves_index(static_cast<int>(2 * chunk)), sm);
        }
        if constexpr (K == Kind::Q5_K) {
            // Bit 2*chunk of qh[l] is bit 4 of element 64*chunk + l, bit 2*chunk+1 of element 64*chunk + 32 + l.
            __m512i bits = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<__m256i const*>(qh)));
            __m512i const sixteen = _mm512_set1_epi8(16);
            for (u32 chunk = 0; chunk < 4; ++chunk) {
                __m512i select = _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(1u << (2 * chunk))), _mm256_set1_epi8(static_cast<char>(1u << (2 * chunk + 1))), 1);
                q[chunk] = _mm512_mask_add_epi8(q[chunk], _mm512_test_epi8_mask(bits, select), q[chunk], sixteen);
            }
        }
        __m256i mins = _mm256_permutexvar_epi16(min_pairs, _mm512_castsi512_si256(sm));
        float d = half(d_bits);
        float dmin = half(dmin_bits);
        for (u32 c = 0; c < C; ++c) {
            auto const& y = reinterpret_cast<BlockQ8K const*>(a + c * stride)[b];
            // Two chains halve the dependent vpdpwssd latency.
            __m512i s0 = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_maddubs_epi16(q[0], _mm512_loadu_si512(y.qs)), scale[0]);
            __m512i s1 = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_maddubs_epi16(q[1], _mm512_loadu_si512(y.qs + 64)), scale[1]);
            s0 = _mm512_dpwssd_epi32(s0, _mm512_maddubs_epi16(q[2], _mm512_loadu_si512(y.qs + 128)), scale[2]);
            s1 = _mm512_dpwssd_epi32(s1, _mm512_maddubs_epi16(q[3], _mm512_loadu_si512(y.qs + 192)), scale[3]);
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), _mm512_set1_ps(y.d * d), acc[c]);
            __m256i m = _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<__m256i const*>(y.bsums)), mins);
            min_acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(m), _mm256_set1_ps(y.d * dmin), min_acc[c]);
        }
    }
    for (u32 c = 0; c < C; ++c) {
        __m256 m = min_acc[c];
        __m128 m4 = _mm_add_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_add_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_add_ss(m4, _mm_movehdup_ps(m4));
        out[c] = _mm512_reduce_add_ps(acc[c]) - _mm_cvtss_f32(m4);
    }
}

// Q6_K: sum_j d * sc_j * dot(q_j - 32, a_j) over 16 sub-blocks of 16; the
// -32 is taken out as 32 * sc_j * bsums_j so the quants stay unsigned.
template<u32 C>
AVX512_TARGET void dot_q6_k_columns(BlockQ6_K const* x, u8 const* a, size_t stride, size_t nb, float* out)
{
    __m512 acc[C];
    for (u32 c = 0; c < C; ++c)
        acc[c] = _mm512_setzero_ps();
    __m512i const low = _mm512_set1_epi8(0x0F);
    __m512i const high = _mm512_set1_epi8(0x30);
    // Bits 0-1 of qh[l] go to element l, 2-3 to l+32, 4-5 to l+64, 6-7 to l+96
    // (of each half of 128): shifted to bits 4-5 per 256-bit half.
    __m512i const shift_first = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);  // left
    __m512i const shift_second = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1); // right
    // vpermw index: i16 lane i of group g (64 elements) takes scale 4g + i / 8.
    __m512i group_index[4];
    for (u32 g = 0; g < 4; ++g) {
        __m128i i0 = _mm_set1_epi16(static_cast<short>(4 * g));
        __m128i i1 = _mm_set1_epi16(static_cast<short>(4 * g + 1));
        __m128i i2 = _mm_set1_epi16(static_cast<short>(4 * g + 2));
        __m128i i3 = _mm_set1_epi16(static_cast<short>(4 * g + 3));
        group_index[g] = _mm512_inserti64x4(_mm512_zextsi256_si512(_mm256_set_m128i(i1, i0)), _mm256_set_m128i(i3, i2), 1);
    }
    for (size_t b = 0; b < nb; ++b) {
        _mm_prefetch(reinterpret_cast<char const*>(x[b].ql) + s_prefetch_distance, _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<char const*>(x[b].ql) + s_prefetch_distance + 64, _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<char const*>(x[b].ql) + s_prefetch_distance + 128, _MM_HINT_T0);
        __m512i q[4];
        for (u32 h = 0; h < 2; ++h) {
            __m512i ql = _mm512_loadu_si512(x[b].ql + 64 * h);
            __m512i bits = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<__m256i const*>(x[b].qh + 32 * h)));
            q[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, low), _mm512_and_si512(_mm512_sllv_epi16(bits, shift_first), high));
            q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low), _mm512_and_si512(_mm512_srlv_epi16(bits, shift_second), high));
        }
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<__m128i const*>(x[b].scales)));
        __m512i sc = _mm512_zextsi256_si512(sc16);
        __m512i scale[4];
        for (u32 g = 0; g < 4; ++g)
            scale[g] = _mm512_permutexvar_epi16(group_index[g], sc);
        float d = half(x[b].d);
        for (u32 c = 0; c < C; ++c) {
            auto const& y = reinterpret_cast<BlockQ8K const*>(a + c * stride)[b];
            __m512i s0 = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_maddubs_epi16(q[0], _mm512_loadu_si512(y.qs)), scale[0]);
            __m512i s1 = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_maddubs_epi16(q[1], _mm512_loadu_si512(y.qs + 64)), scale[1]);
            s0 = _mm512_dpwssd_epi32(s0, _mm512_maddubs_epi16(q[2], _mm512_loadu_si512(y.qs + 128)), scale[2]);
            s1 = _mm512_dpwssd_epi32(s1, _mm512_maddubs_epi16(q[3], _mm512_loadu_si512(y.qs + 192)), scale[3]);
            // Per lane |32 * (sc * bsum + sc * bsum)| <= 32 * 2 * 128 * 2032: exact in i32.
            __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<__m256i const*>(y.bsums)), sc16), 5);
            __m512i sum = _mm512_sub_epi32(_mm512_add_epi32(s0, s1), _mm512_zextsi256_si512(offset));
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_set1_ps(y.d * d), acc[c]);
        }
    }
    for (u32 c = 0; c < C; ++c)
        out[c] = _mm512_reduce_add_ps(acc[c]);
}

// ---- GEMM (prefill): s_gemm_rows decoded rows x s_gemm_columns tokens per pass ----
//
// Per sub-block (32 elements for Q4_K/Q5_K, 16 for Q6_K) the tokens' bytes
// are 8 (or 4) registers of 4 elements x 16 tokens; every row meets them
// with vpdpbusd on its broadcast 4-byte groups (unsigned quants, signed
// activations: exact i32), vpmulld applies the sub-block scale, and the
// super-block's sum stays an exact i32 (|sum| < 256 * 63 * 127 * 128).
// The mins (Q4_K/Q5_K) and Q6_K's -32 are vpdpwssd of the decoded bias
// pairs with the tile's activation sums.

AVX512_TARGET inline __m512i broadcast32(u8 const* p)
{
    i32 v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

template<TensorType T>
AVX512_TARGET void kgemm_tile(u8 const* scratch, u8 const* tile, size_t nb, __m512* acc)
{
    constexpr bool q6 = T == TensorType::Q6_K;
    constexpr u32 sub = q6 ? 16 : 32;
    constexpr u32 groups = sub / 4;
    for (u32 r = 0; r < s_gemm_rows; ++r)
        acc[r] = _mm512_setzero_ps();
    for (size_t k = 0; k < nb; ++k, scratch += s_kgemm_weight_block_bytes, tile += s_kgemm_tile_block_bytes) {
        auto const* scales = reinterpret_cast<i32 const*>(scratch + s_kgemm_scales_offset);
        __m512i isum[s_gemm_rows];
        for (u32 r = 0; r < s_gemm_rows; ++r)
            isum[r] = _mm512_setzero_si512();
        for (u32 j = 0; j < QK_K / sub; ++j) {
            __m512i a[groups];
            for (u32 g = 0; g < groups; ++g)
                a[g] = _mm512_loadu_si512(tile + (j * groups + g) * 64);
            for (u32 r = 0; r < s_gemm_rows; ++r) {
                u8 const* u = scratch + r * QK_K + j * sub;
                // Two chains halve the dependent vpdpbusd latency.
                __m512i p0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), broadcast32(u), a[0]);
                __m512i p1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), broadcast32(u + 4), a[1]);
                for (u32 g = 2; g < groups; g += 2) {
                    p0 = _mm512_dpbusd_epi32(p0, broadcast32(u + 4 * g), a[g]);
                    p1 = _mm512_dpbusd_epi32(p1, broadcast32(u + 4 * g + 4), a[g + 1]);
                }
                isum[r] = _mm512_add_epi32(isum[r], _mm512_mullo_epi32(_mm512_add_epi32(p0, p1), _mm512_set1_epi32(scales[r * 16 + j])));
            }
        }
        constexpr u32 pairs = q6 ? 8 : 4;
        u8 const* sums_base = tile + (q6 ? s_kgemm_tile_sum16_offset : s_kgemm_tile_sum32_offset);
        __m512i sums[pairs];
        for (u32 p = 0; p < pairs; ++p)
            sums[p] = _mm512_loadu_si512(sums_base + 64 * p);
        auto const* bias = reinterpret_cast<i32 const*>(scratch + s_kgemm_bias_offset);
        auto const* d = reinterpret_cast<float const*>(scratch + s_kgemm_d_offset);
        __m512 da = _mm512_loadu_ps(tile + s_kgemm_tile_d_offset);
        for (u32 r = 0; r < s_gemm_rows; ++r) {
            __m512i b = _mm512_setzero_si512();
            for (u32 p = 0; p < pairs; ++p)
                b = _mm512_dpwssd_epi32(b, sums[p], _mm512_set1_epi32(bias[r * 8 + p]));
            if constexpr (q6) {
                acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(isum[r], b)), _mm512_mul_ps(da, _mm512_set1_ps(d[r])), acc[r]);
            } else {
                acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[r]), _mm512_mul_ps(da, _mm512_set1_ps(d[r])), acc[r]);
                acc[r] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(b), _mm512_mul_ps(da, _mm512_set1_ps(d[s_gemm_rows + r])), acc[r]);
            }
        }
    }
}

template<TensorType T>
AVX512_TARGET void kgemm(void const* w, size_t w_row_bytes, u32 rows, void const* tiles, u32 columns, size_t n, void* scratch, float* out)
{
    size_t nb = n / QK_K;
    auto* decoded = static_cast<u8*>(scratch);
    avx2::decode_kgemm_rows(T, w, w_row_bytes, rows, nb, decoded);
    __m512i const lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    // Token c of a tile goes to out[(first + c) * s_gemm_rows + r].
    __m512i const index = _mm512_mullo_epi32(lane, _mm512_set1_epi32(s_gemm_rows));
    for (u32 first = 0; first < columns; first += s_gemm_columns) {
        __m512 acc[s_gemm_rows];
        kgemm_tile<T>(decoded, static_cast<u8 const*>(tiles) + size_t(first / s_gemm_columns) * nb * s_kgemm_tile_block_bytes, nb, acc);
        u32 count = columns - first < s_gemm_columns ? columns - first : s_gemm_columns;
        __mmask16 valid = static_cast<__mmask16>((1u << count) - 1);
        float* base = out + size_t(first) * s_gemm_rows;
        for (u32 r = 0; r < rows; ++r)
            _mm512_mask_i32scatter_ps(base + r, valid, index, acc[r], 4);
    }
}

} // namespace

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

// 1-4 activation columns, each a compile-time count (the accumulators stay in registers).
template<Kind K>
void dot_q45_k(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out)
{
    auto const* bytes = static_cast<u8 const*>(a);
    switch (columns) {
    case 1: dot_q45_k_columns<K, 1>(w, bytes, stride, n / QK_K, out); break;
    case 2: dot_q45_k_columns<K, 2>(w, bytes, stride, n / QK_K, out); break;
    case 3: dot_q45_k_columns<K, 3>(w, bytes, stride, n / QK_K, out); break;
    default: dot_q45_k_columns<K, 4>(w, bytes, stride, n / QK_K, out); break;
    }
}

void dot_q4_k(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out) { dot_q45_k<Kind::Q4_K>(w, a, stride, columns, n, out); }

void dot_q5_k(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out) { dot_q45_k<Kind::Q5_K>(w, a, stride, columns, n, out); }

void dot_q6_k(void const* w, void const* a, size_t stride, u32 columns, size_t n, float* out)
{
    auto const* x = static_cast<BlockQ6_K const*>(w);
    auto const* bytes = static_cast<u8 const*>(a);
    switch (columns) {
    case 1: dot_q6_k_columns<1>(x, bytes, stride, n / QK_K, out); break;
    case 2: dot_q6_k_columns<2>(x, bytes, stride, n / QK_K, out); break;
    case 3: dot_q6_k_columns<3>(x, bytes, stride, n / QK_K, out); break;
    default: dot_q6_k_columns<4>(x, bytes, stride, n / QK_K, out); break;
    }
}

} // namespace aisos::engine::avx512

#endif
