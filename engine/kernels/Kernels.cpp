#include "engine/kernels/Kernels.h"

namespace aisos::engine {

char const* kernel_isa_name(KernelIsa isa)
{
    switch (isa) {
    case KernelIsa::Scalar: return "scalar";
    case KernelIsa::Avx2: return "avx2";
    case KernelIsa::Avx512: return "avx512-vnni";
    }
    return "?";
}

#if defined(__x86_64__)
static void cpuid(u32 leaf, u32 subleaf, u32& a, u32& b, u32& c, u32& d)
{
    asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(subleaf));
}

static u64 xgetbv0()
{
    u32 lo, hi;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (static_cast<u64>(hi) << 32) | lo;
}
#endif

bool kernel_isa_supported(KernelIsa isa)
{
    if (isa == KernelIsa::Scalar)
        return true;
#if defined(__x86_64__)
    u32 a, b, c, d;
    cpuid(0, 0, a, b, c, d);
    u32 max_leaf = a;
    cpuid(1, 0, a, b, c, d);
    bool osxsave = c & (1u << 27);
    bool fma = c & (1u << 12);
    bool f16c = c & (1u << 29);
    bool avx = c & (1u << 28);
    if (!osxsave || !avx || !fma || !f16c || max_leaf < 7)
        return false;
    u64 xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) // SSE and AVX state enabled by the OS
        return false;
    cpuid(7, 0, a, b, c, d);
    bool avx2 = b & (1u << 5);
    if (isa == KernelIsa::Avx2)
        return avx2;
    bool avx512f = b & (1u << 16);
    bool avx512bw = b & (1u << 30);
    bool avx512vl = b & (1u << 31);
    bool avx512dq = b & (1u << 17);
    bool vnni = c & (1u << 11);
    bool zmm_state = (xcr0 & 0xe0) == 0xe0;
    return avx2 && avx512f && avx512bw && avx512vl && avx512dq && vnni && zmm_state;
#else
    return false;
#endif
}

KernelIsa detect_kernel_isa()
{
    if (kernel_isa_supported(KernelIsa::Avx512))
        return KernelIsa::Avx512;
    if (kernel_isa_supported(KernelIsa::Avx2))
        return KernelIsa::Avx2;
    return KernelIsa::Scalar;
}

ActivationFormat activation_format(TensorType type)
{
    switch (type) {
    case TensorType::Q4_0:
    case TensorType::Q4_1:
    case TensorType::Q8_0:
        return ActivationFormat::Q8;
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K:
        return ActivationFormat::Q8K;
    default:
        return ActivationFormat::F32;
    }
}

size_t activation_row_bytes(ActivationFormat format, size_t n)
{
    switch (format) {
    case ActivationFormat::F32: return n * sizeof(float);
    case ActivationFormat::Q8: return n / QK * sizeof(BlockQ8) + q8_pair_scales_bytes(n / QK);
    case ActivationFormat::Q8K: return n / QK_K * sizeof(BlockQ8K);
    }
    return 0;
}

DotFn KernelSet::dot_for(TensorType type) const
{
    switch (type) {
    case TensorType::F32: return dot_f32;
    case TensorType::F16: return dot_f16;
    case TensorType::BF16: return dot_bf16;
    case TensorType::Q4_0: return dot_q4_0;
    case TensorType::Q4_1: return dot_q4_1;
    case TensorType::Q8_0: return dot_q8_0;
    case TensorType::Q4_K: return dot_q4_k;
    case TensorType::Q5_K: return dot_q5_k;
    case TensorType::Q6_K: return dot_q6_k;
    }
    return nullptr;
}

GemmFn KernelSet::gemm_for(TensorType type) const
{
    switch (type) {
    case TensorType::Q4_0: return gemm_q4_0;
    case TensorType::Q4_1: return gemm_q4_1;
    case TensorType::Q8_0: return gemm_q8_0;
    case TensorType::Q4_K: return gemm_q4_k;
    case TensorType::Q5_K: return gemm_q5_k;
    case TensorType::Q6_K: return gemm_q6_k;
    default: return nullptr;
    }
}

DotRowsFn KernelSet::dot_rows_for(TensorType type) const
{
    switch (type) {
    case TensorType::Q4_0: return dot_rows_q4_0;
    case TensorType::Q4_1: return dot_rows_q4_1;
    case TensorType::Q8_0: return dot_rows_q8_0;
    default: return nullptr;
    }
}

void pack_q8_tiles(u8 const* rows, size_t row_stride, u32 columns, size_t n, void* tiles)
{
    size_t nb = n / QK;
    auto* out = static_cast<u8*>(tiles);
    for (u32 first = 0; first < columns; first += s_gemm_columns) {
        for (size_t k = 0; k < nb; ++k, out += s_gemm_tile_block_bytes) {
            float* d = reinterpret_cast<float*>(out + QK * s_gemm_columns);
            float* s = d + s_gemm_columns;
            for (u32 c = 0; c < s_gemm_columns; ++c) {
                if (first + c >= columns) {
                    for (u32 j = 0; j < QK / 4; ++j)
                        std::memset(out + (j * s_gemm_columns + c) * 4, 0, 4);
                    d[c] = 0;
                    s[c] = 0;
                    continue;
                }
                auto const* block = reinterpret_cast<BlockQ8 const*>(rows + size_t(first + c) * row_stride) + k;
                for (u32 j = 0; j < QK / 4; ++j)
                    std::memcpy(out + (j * s_gemm_columns + c) * 4, block->qs + 4 * j, 4);
                d[c] = block->d;
                s[c] = block->s;
            }
        }
    }
}

void pack_q8k_tiles(u8 const* rows, size_t row_stride, u32 columns, size_t n, void* tiles)
{
    size_t nb = n / QK_K;
    auto* out = static_cast<u8*>(tiles);
    for (u32 first = 0; first < columns; first += s_gemm_columns) {
        for (size_t k = 0; k < nb; ++k, out += s_kgemm_tile_block_bytes) {
            auto* sum16 = reinterpret_cast<i16*>(out + s_kgemm_tile_sum16_offset);
            auto* sum32 = reinterpret_cast<i16*>(out + s_kgemm_tile_sum32_offset);
            float* d = reinterpret_cast<float*>(out + s_kgemm_tile_d_offset);
            for (u32 c = 0; c < s_gemm_columns; ++c) {
                if (first + c >= columns) {
                    for (u32 g = 0; g < QK_K / 4; ++g)
                        std::memset(out + (g * s_gemm_columns + c) * 4, 0, 4);
                    for (u32 p = 0; p < 8; ++p)
                        sum16[(p * s_gemm_columns + c) * 2] = sum16[(p * s_gemm_columns + c) * 2 + 1] = 0;
                    for (u32 p = 0; p < 4; ++p)
                        sum32[(p * s_gemm_columns + c) * 2] = sum32[(p * s_gemm_columns + c) * 2 + 1] = 0;
                    d[c] = 0;
                    continue;
                }
                auto const* block = reinterpret_cast<BlockQ8K const*>(rows + size_t(first + c) * row_stride) + k;
                for (u32 g = 0; g < QK_K / 4; ++g)
                    std::memcpy(out + (g * s_gemm_columns + c) * 4, block->qs + 4 * g, 4);
                for (u32 p = 0; p < 8; ++p) {
                    sum16[(p * s_gemm_columns + c) * 2] = block->bsums[2 * p];
                    sum16[(p * s_gemm_columns + c) * 2 + 1] = block->bsums[2 * p + 1];
                }
                // |sum of 32| <= 32 * 127: an i16.
                for (u32 p = 0; p < 4; ++p) {
                    sum32[(p * s_gemm_columns + c) * 2] = static_cast<i16>(block->bsums[4 * p] + block->bsums[4 * p + 1]);
                    sum32[(p * s_gemm_columns + c) * 2 + 1] = static_cast<i16>(block->bsums[4 * p + 2] + block->bsums[4 * p + 3]);
                }
                d[c] = block->d;
            }
        }
    }
}

QuantizeFn KernelSet::quantize_for(ActivationFormat format) const
{
    switch (format) {
    case ActivationFormat::F32: return nullptr;
    case ActivationFormat::Q8: return quantize_q8;
    case ActivationFormat::Q8K: return quantize_q8k;
    }
    return nullptr;
}

KernelSet const& kernel_set(KernelIsa isa)
{
    switch (isa) {
    case KernelIsa::Avx512: return avx512_kernel_set();
    case KernelIsa::Avx2: return avx2_kernel_set();
    case KernelIsa::Scalar: break;
    }
    return scalar_kernel_set();
}

} // namespace aisos::engine
