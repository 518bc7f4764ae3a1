// Every SIMD kernel against the scalar reference on random blocks, and the
// scalar dot products against dequantize-then-multiply.

#include "engine/kernels/Kernels.h"

#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <random>
#include <vector>

using namespace aisos::engine;

namespace {

std::vector<KernelIsa> simd_isas()
{
    std::vector<KernelIsa> isas;
    if (kernel_isa_supported(KernelIsa::Avx2))
        isas.push_back(KernelIsa::Avx2);
    if (kernel_isa_supported(KernelIsa::Avx512))
        isas.push_back(KernelIsa::Avx512);
    return isas;
}

u16 random_half(std::mt19937& rng, float scale)
{
    std::uniform_real_distribution<float> dist(-scale, scale);
    return fp32_to_fp16(dist(rng));
}

// Random weight row of n elements of `type`: random bytes with valid scales.
std::vector<u8> random_row(TensorType type, size_t n, std::mt19937& rng)
{
    size_t bytes = tensor_row_bytes(type, n).value();
    std::vector<u8> row(bytes);
    for (auto& b : row)
        b = static_cast<u8>(rng());
    auto set_half = [&](size_t offset, float scale) {
        u16 h = random_half(rng, scale);
        std::memcpy(row.data() + offset, &h, 2);
    };
    auto const& info = tensor_type_info(type);
    size_t blocks = n / info.block_elements;
    for (size_t b = 0; b < blocks; ++b) {
        size_t base = b * info.block_bytes;
        switch (type) {
        case TensorType::Q4_0:
        case TensorType::Q8_0:
            set_half(base, 0.05f);
            break;
        case TensorType::Q4_1:
            set_half(base, 0.05f);
            set_half(base + 2, 0.5f);
            break;
        case TensorType::Q4_K:
        case TensorType::Q5_K:
            set_half(base, 0.01f);
            set_half(base + 2, 0.01f);
            break;
        case TensorType::Q6_K:
            set_half(base + 208, 0.01f);
            break;
        default:
            break;
        }
    }
    if (type == TensorType::F32) {
        std::uniform_real_distribution<float> dist(-1, 1);
        for (size_t i = 0; i < n; ++i) {
            float v = dist(rng);
            std::memcpy(row.data() + 4 * i, &v, 4);
        }
    } else if (type == TensorType::F16 || type == TensorType::BF16) {
        std::uniform_real_distribution<float> dist(-1, 1);
        for (size_t i = 0; i < n; ++i) {
            float v = dist(rng);
            u16 h;
            if (type == TensorType::F16) {
                h = fp32_to_fp16(v);
            } else {
                u32 bits;
                std::memcpy(&bits, &v, 4);
                h = static_cast<u16>(bits >> 16);
            }
            std::memcpy(row.data() + 2 * i, &h, 2);
        }
    }
    return row;
}

std::vector<float> random_floats(size_t n, std::mt19937& rng)
{
    std::normal_distribution<float> dist(0, 1);
    std::vector<float> v(n);
    for (auto& x : v)
        x = dist(rng);
    return v;
}

TensorType const s_all_types[] = { TensorType::F32, TensorType::F16, TensorType::BF16, TensorType::Q4_0, TensorType::Q4_1, TensorType::Q8_0, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K };

} // namespace

TEST(Kernels, BlockSizesMatchTypeTable)
{
    EXPECT_EQ(tensor_type_info(TensorType::Q4_0).block_bytes, sizeof(BlockQ4_0));
    EXPECT_EQ(tensor_type_info(TensorType::Q4_1).block_bytes, sizeof(BlockQ4_1));
    EXPECT_EQ(tensor_type_info(TensorType::Q8_0).block_bytes, sizeof(BlockQ8_0));
    EXPECT_EQ(tensor_type_info(TensorType::Q4_K).block_bytes, sizeof(BlockQ4_K));
    EXPECT_EQ(tensor_type_info(TensorType::Q5_K).block_bytes, sizeof(BlockQ5_K));
    EXPECT_EQ(tensor_type_info(TensorType::Q6_K).block_bytes, sizeof(BlockQ6_K));
}

TEST(Kernels, HalfConversionRoundTrips)
{
    for (u32 h = 0; h < 0x10000; ++h) {
        if (((h >> 10) & 0x1f) == 0x1f)
            continue; // inf/nan
        float f = fp16_to_fp32(static_cast<u16>(h));
        EXPECT_EQ(fp32_to_fp16(f), h) << h;
    }
    EXPECT_EQ(fp16_to_fp32(0x3c00), 1.0f);
    EXPECT_EQ(fp16_to_fp32(0xc000), -2.0f);
    EXPECT_EQ(fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));
}

TEST(Kernels, Q4LowNibbleIsFirstHalf)
{
    BlockQ4_0 block {};
    block.d = fp32_to_fp16(1.0f);
    block.qs[0] = 0x9A; // element 0 = 0xA - 8 = 2, element 16 = 0x9 - 8 = 1
    float out[32];
    dequantize_row(TensorType::Q4_0, &block, out, 32);
    EXPECT_EQ(out[0], 2.0f);
    EXPECT_EQ(out[16], 1.0f);
    EXPECT_EQ(out[1], -8.0f);
}

TEST(Kernels, QuantizeActivationsMatchScalarExactly)
{
    std::mt19937 rng(1);
    size_t const n = 1024;
    for (int round = 0; round < 20; ++round) {
        auto x = random_floats(n, rng);
        if (round == 0)
            std::fill(x.begin(), x.begin() + 64, 0.0f); // an all-zero block
        std::vector<u8> ref(activation_row_bytes(ActivationFormat::Q8, n)), got(ref.size());
        std::vector<BlockQ8K> refk(n / QK_K), gotk(n / QK_K);
        scalar::quantize_q8(x.data(), ref.data(), n);
        scalar::quantize_q8k(x.data(), refk.data(), n);
        for (auto isa : simd_isas()) {
            auto const& set = kernel_set(isa);
            set.quantize_q8(x.data(), got.data(), n);
            set.quantize_q8k(x.data(), gotk.data(), n);
            ASSERT_EQ(std::memcmp(ref.data(), got.data(), ref.size()), 0) << kernel_isa_name(isa);
            ASSERT_EQ(std::memcmp(refk.data(), gotk.data(), refk.size() * sizeof(BlockQ8K)), 0) << kernel_isa_name(isa);
        }
    }
}

TEST(Kernels, ScalarDotMatchesDequantizedProduct)
{
    std::mt19937 rng(2);
    size_t const n = 512;
    auto const& set = scalar_kernel_set();
    for (auto type : s_all_types) {
        auto row = random_row(type, n, rng);
        auto x = random_floats(n, rng);
        auto format = activation_format(type);
        std::vector<u8> act(activation_row_bytes(format, n));
        std::vector<float> xa(n);
        if (format == ActivationFormat::F32) {
            std::memcpy(act.data(), x.data(), n * 4);
            xa = x;
        } else if (format == ActivationFormat::Q8) {
            set.quantize_q8(x.data(), act.data(), n);
            auto const* blocks = reinterpret_cast<BlockQ8 const*>(act.data());
            for (size_t i = 0; i < n; ++i)
                xa[i] = blocks[i / QK].d * blocks[i / QK].qs[i % QK];
        } else {
            set.quantize_q8k(x.data(), act.data(), n);
            auto const* blocks = reinterpret_cast<BlockQ8K const*>(act.data());
            for (size_t i = 0; i < n; ++i)
                xa[i] = blocks[i / QK_K].d * blocks[i / QK_K].qs[i % QK_K];
        }
        std::vector<float> w(n);
        dequantize_row(type, row.data(), w.data(), n);
        double expected = 0, magnitude = 0;
        for (size_t i = 0; i < n; ++i) {
            expected += static_cast<double>(w[i]) * xa[i];
            magnitude += std::fabs(static_cast<double>(w[i]) * xa[i]);
        }
        float got = 0;
        set.dot_for(type)(row.data(), act.data(), 0, 1, n, &got);
        EXPECT_NEAR(got, expected, 1e-5 * magnitude + 1e-6) << tensor_type_name(type);
    }
}

TEST(Kernels, SimdDotMatchesScalar)
{
    std::mt19937 rng(3);
    for (auto isa : simd_isas()) {
        auto const& simd = kernel_set(isa);
        auto const& ref = scalar_kernel_set();
        for (auto type : s_all_types) {
            for (size_t n : { 96u, 256u, 544u, 768u, 2304u }) {
                if (n % tensor_type_info(type).block_elements != 0 || (activation_format(type) == ActivationFormat::Q8K && n % QK_K != 0))
                    continue; // odd block counts exercise the single-block tails
                for (u32 columns = 1; columns <= s_max_dot_columns; ++columns) {
                    auto row = random_row(type, n, rng);
                    auto format = activation_format(type);
                    size_t stride = activation_row_bytes(format, n);
                    std::vector<u8> act(stride * columns);
                    double magnitude = 0;
                    for (u32 c = 0; c < columns; ++c) {
                        auto x = random_floats(n, rng);
                        for (float v : x)
                            magnitude += std::fabs(v);
                        if (format == ActivationFormat::F32)
                            std::memcpy(act.data() + c * stride, x.data(), n * 4);
                        else
                            ref.quantize_for(format)(x.data(), act.data() + c * stride, n);
                    }
                    float expected[4], got[4];
                    ref.dot_for(type)(row.data(), act.data(), stride, columns, n, expected);
                    simd.dot_for(type)(row.data(), act.data(), stride, columns, n, got);
                    for (u32 c = 0; c < columns; ++c) {
                        // Only the float accumulation order differs: relative 1e-5 of the row's magnitude.
                        EXPECT_NEAR(got[c], expected[c], 1e-5 * magnitude * 0.1 + 1e-4 * std::fabs(expected[c]))
                            << kernel_isa_name(isa) << " " << tensor_type_name(type) << " n=" << n << " columns=" << columns << " c=" << c;
                    }
                }
            }
        }
    }
}

TEST(Kernels, SimdExactOnIntegerValuedInputs)
{
    // With unit scales and integer activations every product is an exact
    // small integer, so SIMD and scalar must agree bit for bit.
    std::mt19937 rng(4);
    size_t const n = 1024;
    for (auto isa : simd_isas()) {
        for (auto type : { TensorType::Q4_0, TensorType::Q4_1, TensorType::Q8_0 }) {
            auto row = random_row(type, n, rng);
            auto const& info = tensor_type_info(type);
            for (size_t b = 0; b < n / QK; ++b) {
                u16 one = fp32_to_fp16(1.0f);
                std::memcpy(row.data() + b * info.block_bytes, &one, 2);
                if (type == TensorType::Q4_1)
                    std::memcpy(row.data() + b * info.block_bytes + 2, &one, 2);
            }
            std::vector<float> x(n);
            for (size_t i = 0; i < n; ++i)
                x[i] = static_cast<float>(static_cast<int>(rng() % 255) - 127);
            for (size_t b = 0; b < n / QK; ++b)
                x[b * QK] = 127.0f; // d = 1 for every block
            std::vector<u8> act(activation_row_bytes(ActivationFormat::Q8, n));
            scalar::quantize_q8(x.data(), act.data(), n);
            float expected, got;
            scalar_kernel_set().dot_for(type)(row.data(), act.data(), 0, 1, n, &expected);
            kernel_set(isa).dot_for(type)(row.data(), act.data(), 0, 1, n, &got);
            EXPECT_EQ(got, expected) << kernel_isa_name(isa) << " " << tensor_type_name(type);
        }
    }
}

namespace {

// `columns` activation rows of n elements, quantized and packed for the GEMM.
struct GemmActivations {
    size_t stride;
    std::vector<u8> rows;
    std::vector<u8> tiles;
};

GemmActivations gemm_activations(u32 columns, size_t n, std::mt19937& rng, bool integer_valued = false)
{
    GemmActivations a;
    a.stride = activation_row_bytes(ActivationFormat::Q8, n);
    a.rows.resize(a.stride * columns);
    for (u32 c = 0; c < columns; ++c) {
        auto x = random_floats(n, rng);
        if (integer_valued) {
            for (size_t i = 0; i < n; ++i)
                x[i] = static_cast<float>(static_cast<int>(rng() % 255) - 127);
            for (size_t b = 0; b < n / QK; ++b)
                x[b * QK] = 127.0f; // d = 1 for every block
        }
        scalar::quantize_q8(x.data(), a.rows.data() + c * a.stride, n);
    }
    a.tiles.resize(gemm_tiles_bytes(columns, n));
    pack_q8_tiles(a.rows.data(), a.stride, columns, n, a.tiles.data());
    return a;
}

TensorType const s_gemm_types[] = { TensorType::Q4_0, TensorType::Q4_1, TensorType::Q8_0 };

} // namespace

TEST(Kernels, PackQ8TilesLayout)
{
    std::mt19937 rng(5);
    size_t const n = 96;
    u32 const columns = 19; // a full tile and a partial one
    auto a = gemm_activations(columns, n, rng);
    ASSERT_EQ(a.tiles.size(), 2 * (n / QK) * s_gemm_tile_block_bytes);
    for (u32 c = 0; c < 2 * s_gemm_columns; ++c) {
        for (size_t k = 0; k < n / QK; ++k) {
            u8 const* block = a.tiles.data() + ((c / s_gemm_columns) * (n / QK) + k) * s_gemm_tile_block_bytes;
            u32 lane = c % s_gemm_columns;
            float d, s;
            std::memcpy(&d, block + QK * s_gemm_columns + 4 * lane, 4);
            std::memcpy(&s, block + QK * s_gemm_columns + 4 * (s_gemm_columns + lane), 4);
            auto const* ref = reinterpret_cast<BlockQ8 const*>(a.rows.data() + c * a.stride) + k;
            for (u32 e = 0; e < QK; ++e) {
                auto q = static_cast<i8>(block[((e / 4) * s_gemm_columns + lane) * 4 + e % 4]);
                EXPECT_EQ(q, c < columns ? ref->qs[e] : 0) << "c=" << c << " k=" << k << " e=" << e;
            }
            EXPECT_EQ(d, c < columns ? ref->d : 0.0f);
            EXPECT_EQ(s, c < columns ? ref->s : 0.0f);
        }
    }
}

TEST(Kernels, GemmMatchesRowDot)
{
    // Every kernel set's GEMM (the scalar one included) against the scalar
    // row dot product: partial row tiles, partial token tiles, odd block counts.
    std::mt19937 rng(6);
    std::vector<KernelIsa> isas { KernelIsa::Scalar };
    for (auto isa : simd_isas())
        isas.push_back(isa);
    auto const& ref = scalar_kernel_set();
    for (auto isa : isas) {
        auto const& set = kernel_set(isa);
        for (auto type : s_gemm_types) {
            if (!set.gemm_for(type))
                continue; // this set multiplies batches with its row kernels
            for (size_t n : { 32u, 96u, 544u }) {
                for (u32 columns : { 1u, 8u, 16u, 17u, 37u, 64u }) {
                    for (u32 rows : { 1u, 5u, s_gemm_rows }) {
                        size_t row_bytes = tensor_row_bytes(type, n).value();
                        std::vector<u8> w;
                        for (u32 r = 0; r < rows; ++r) {
                            auto row = random_row(type, n, rng);
                            w.insert(w.end(), row.begin(), row.end());
                        }
                        auto a = gemm_activations(columns, n, rng);
                        std::vector<u8> scratch(gemm_scratch_bytes(n));
                        std::vector<float> got(size_t(columns) * s_gemm_rows, -12345.0f);
                        set.gemm_for(type)(w.data(), row_bytes, rows, a.tiles.data(), columns, n, scratch.data(), got.data());
                        for (u32 c = 0; c < columns; ++c) {
                            for (u32 r = 0; r < rows; ++r) {
                                float expected;
                                ref.dot_for(type)(w.data() + r * row_bytes, a.rows.data() + c * a.stride, 0, 1, n, &expected);
                                EXPECT_NEAR(got[c * s_gemm_rows + r], expected, 1e-4 * (std::fabs(expected) + std::sqrt(float(n))))
                                    << kernel_isa_name(isa) << " " << tensor_type_name(type) << " n=" << n << " columns=" << columns << " rows=" << rows << " r=" << r << " c=" << c;
                            }
                            for (u32 r = rows; r < s_gemm_rows; ++r)
                                EXPECT_EQ(got[c * s_gemm_rows + r], -12345.0f) << "rows past `rows` are not written";
                        }
                    }
                }
            }
        }
    }
}

TEST(Kernels, GemmExactOnIntegerValuedInputs)
{
    // Unit scales and integer activations: every partial sum is an exact
    // small integer, so the SIMD GEMM equals the scalar GEMM bit for bit.
    std::mt19937 rng(7);
    size_t const n = 1024;
    u32 const columns = 23;
    for (auto isa : simd_isas()) {
        auto const& set = kernel_set(isa);
        for (auto type : s_gemm_types) {
            if (!set.gemm_for(type))
                continue;
            auto const& info = tensor_type_info(type);
            size_t row_bytes = tensor_row_bytes(type, n).value();
            std::vector<u8> w;
            for (u32 r = 0; r < s_gemm_rows; ++r) {
                auto row = random_row(type, n, rng);
                for (size_t b = 0; b < n / QK; ++b) {
                    u16 one = fp32_to_fp16(1.0f);
                    std::memcpy(row.data() + b * info.block_bytes, &one, 2);
                    if (type == TensorType::Q4_1)
                        std::memcpy(row.data() + b * info.block_bytes + 2, &one, 2);
                }
                w.insert(w.end(), row.begin(), row.end());
            }
            auto a = gemm_activations(columns, n, rng, true);
            std::vector<u8> scratch(gemm_scratch_bytes(n));
            std::vector<float> expected(size_t(columns) * s_gemm_rows), got(expected.size());
            scalar_kernel_set().gemm_for(type)(w.data(), row_bytes, s_gemm_rows, a.tiles.data(), columns, n, scratch.data(), expected.data());
            set.gemm_for(type)(w.data(), row_bytes, s_gemm_rows, a.tiles.data(), columns, n, scratch.data(), got.data());
            for (size_t i = 0; i < got.size(); ++i)
                ASSERT_EQ(got[i], expected[i]) << kernel_isa_name(isa) << " " << tensor_type_name(type) << " i=" << i;
        }
    }
}

TEST(Kernels, DotRowsMatchesRowDot)
{
    std::mt19937 rng(8);
    auto const& ref = scalar_kernel_set();
    for (auto isa : simd_isas()) {
        auto const& set = kernel_set(isa);
        for (auto type : s_gemm_types) {
            if (!set.dot_rows_for(type))
                continue;
            for (size_t n : { 32u, 96u, 544u, 2048u }) {
                for (u32 rows = 1; rows <= s_dot_rows; ++rows) {
                    size_t row_bytes = tensor_row_bytes(type, n).value();
                    std::vector<u8> w;
                    for (u32 r = 0; r < rows; ++r) {
                        auto row = random_row(type, n, rng);
                        w.insert(w.end(), row.begin(), row.end());
                    }
                    auto x = random_floats(n, rng);
                    std::vector<u8> act(activation_row_bytes(ActivationFormat::Q8, n));
                    scalar::quantize_q8(x.data(), act.data(), n);
                    float got[s_dot_rows + 1];
                    got[rows] = -12345.0f;
                    set.dot_rows_for(type)(w.data(), row_bytes, rows, act.data(), n, got);
                    EXPECT_EQ(got[rows], -12345.0f) << "wrote past `rows`";
                    for (u32 r = 0; r < rows; ++r) {
                        float expected;
                        ref.dot_for(type)(w.data() + r * row_bytes, act.data(), 0, 1, n, &expected);
                        EXPECT_NEAR(got[r], expected, 1e-4 * (std::fabs(expected) + std::sqrt(float(n))))
                            << kernel_isa_name(isa) << " " << tensor_type_name(type) << " n=" << n << " rows=" << rows << " r=" << r;
                    }
                }
            }
        }
    }
}

TEST(Kernels, DetectReturnsSupportedIsa)
{
    EXPECT_TRUE(kernel_isa_supported(detect_kernel_isa()));
}

namespace {

TensorType const s_kquant_types[] = { TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K };

// What one k-quant super-block of a test row holds.
enum class KBlock {
    Random,     // random quants and packed scales
    Max,        // every quant at its maximum, six-bit scales and mins 63 (Q6_K: scales -128 and 127)
    ZeroQuants, // quants 0 with maximal scales/mins (Q6_K: every value -32)
    ZeroScales, // random quants, all scales and mins 0
    HighScales, // random quants, scale bytes with the two top bits set (the packed high bits of scales 4..7)
};
constexpr u32 s_kblock_kinds = 5;

struct KLayout {
    size_t d, dmin, scales, scales_bytes;
    size_t quants, quants_bytes; // qs/qh/ql: everything that is a quant bit
};

KLayout k_layout(TensorType type)
{
    switch (type) {
    case TensorType::Q4_K: return { 0, 2, 4, 12, 16, 128 };
    case TensorType::Q5_K: return { 0, 2, 4, 12, 16, 160 };
    default: return { 208, 208, 192, 16, 0, 192 }; // Q6_K: no dmin
    }
}

void set_half_at(u8* p, u16 h) { std::memcpy(p, &h, 2); }

// A k-quant row of nb super-blocks, block kinds and f16 scales drawn from
// rng, including huge (60000), subnormal and zero scales. With unit_scales
// d (and dmin) are 1 in every block.
std::vector<u8> kquant_row(TensorType type, size_t nb, std::mt19937& rng, bool unit_scales = false)
{
    auto const& info = tensor_type_info(type);
    KLayout const l = k_layout(type);
    std::vector<u8> row(nb * info.block_bytes);
    for (auto& b : row)
        b = static_cast<u8>(rng());
    for (size_t b = 0; b < nb; ++b) {
        u8* block = row.data() + b * info.block_bytes;
        auto kind = static_cast<KBlock>(rng() % s_kblock_kinds);
        switch (kind) {
        case KBlock::Random: break;
        case KBlock::Max:
            std::memset(block + l.quants, 0xFF, l.quants_bytes);
            if (type == TensorType::Q6_K) {
                for (size_t j = 0; j < l.scales_bytes; ++j)
                    block[l.scales + j] = j % 2 ? 0x7F : 0x80;
            } else {
                std::memset(block + l.scales, 0xFF, l.scales_bytes);
            }
            break;
        case KBlock::ZeroQuants:
            std::memset(block + l.quants, 0, l.quants_bytes);
            std::memset(block + l.scales, type == TensorType::Q6_K ? 0x80 : 0xFF, l.scales_bytes);
            break;
        case KBlock::ZeroScales: std::memset(block + l.scales, 0, l.scales_bytes); break;
        case KBlock::HighScales:
            for (size_t j = 0; j < l.scales_bytes; ++j)
                block[l.scales + j] |= 0xC0;
            break;
        }
        auto draw = [&]() -> u16 {
            if (unit_scales)
                return fp32_to_fp16(1.0f);
            switch (rng() % 8) {
            case 0: return fp32_to_fp16(rng() % 2 ? 60000.0f : -60000.0f);
            case 1: return static_cast<u16>(1 + rng() % 0x3ff); // subnormal
            case 2: return 0;
            default: return random_half(rng, 0.01f);
            }
        };
        set_half_at(block + l.d, draw());
        if (type != TensorType::Q6_K)
            set_half_at(block + l.dmin, draw());
    }
    return row;
}

// n activations, per 256-block one of: normal, all +1000 (every q 127,
// bsums at their limit), random +-1000 (q +-127), all zero.
std::vector<float> kquant_activations(size_t n, std::mt19937& rng)
{
    auto x = random_floats(n, rng);
    for (size_t b = 0; b < n / QK_K; ++b) {
        float* block = x.data() + b * QK_K;
        switch (rng() % 5) {
        case 0: std::fill(block, block + QK_K, 1000.0f); break;
        case 1:
            for (u32 i = 0; i < QK_K; ++i)
                block[i] = rng() % 2 ? 1000.0f : -1000.0f;
            break;
        case 2: std::fill(block, block + QK_K, 0.0f); break;
        default: break;
        }
    }
    return x;
}

// Sum over elements of |activation| times the largest term the weight
// contributes (d * sc * q and dmin * m taken apart for Q4_K/Q5_K, whose
// difference may cancel): the scale of every float rounding in the dot.
double kquant_magnitude(TensorType type, std::vector<u8> const& row, u8 const* act, size_t n)
{
    auto const& info = tensor_type_info(type);
    KLayout const l = k_layout(type);
    auto const* blocks = reinterpret_cast<BlockQ8K const*>(act);
    std::vector<float> terms(n, 0.0f), part(n);
    for (int which = 0; which < (type == TensorType::Q6_K ? 1 : 2); ++which) {
        auto copy = row;
        for (size_t b = 0; b < n / QK_K; ++b)
            if (type != TensorType::Q6_K)
                set_half_at(copy.data() + b * info.block_bytes + (which == 0 ? l.dmin : l.d), 0);
        dequantize_row(type, copy.data(), part.data(), n);
        for (size_t i = 0; i < n; ++i)
            terms[i] += std::fabs(part[i]);
    }
    double magnitude = 0;
    for (size_t i = 0; i < n; ++i)
        magnitude += static_cast<double>(terms[i]) * std::fabs(blocks[i / QK_K].d * blocks[i / QK_K].qs[i % QK_K]);
    return magnitude;
}

} // namespace

TEST(Kernels, KQuantSimdMatchesScalarOnExtremeBlocks)
{
    // Many rows of mixed block kinds (maximal and zero quants, scales and
    // mins; huge, subnormal and zero f16 scales) against activations with
    // saturated and zero blocks, 1 to 22 super-blocks (5632 = the 1B FFN
    // width), 1 to 4 columns.
    std::mt19937 rng(9);
    auto const& ref = scalar_kernel_set();
    for (auto isa : simd_isas()) {
        auto const& simd = kernel_set(isa);
        for (auto type : s_kquant_types) {
            for (size_t nb : { 1u, 2u, 3u, 5u, 8u, 22u }) {
                size_t n = nb * QK_K;
                size_t stride = activation_row_bytes(ActivationFormat::Q8K, n);
                for (u32 columns = 1; columns <= s_max_dot_columns; ++columns) {
                    for (int rep = 0; rep < 4; ++rep) {
                        auto row = kquant_row(type, nb, rng);
                        std::vector<u8> act(stride * columns);
                        for (u32 c = 0; c < columns; ++c)
                            ref.quantize_q8k(kquant_activations(n, rng).data(), act.data() + c * stride, n);
                        float expected[4], got[4];
                        ref.dot_for(type)(row.data(), act.data(), stride, columns, n, expected);
                        simd.dot_for(type)(row.data(), act.data(), stride, columns, n, got);
                        for (u32 c = 0; c < columns; ++c) {
                            double magnitude = kquant_magnitude(type, row, act.data() + c * stride, n);
                            ASSERT_TRUE(std::isfinite(expected[c]));
                            // Only the float accumulation order differs: relative 1e-5 of the row's magnitude.
                            EXPECT_NEAR(got[c], expected[c], 1e-5 * magnitude)
                                << kernel_isa_name(isa) << " " << tensor_type_name(type) << " blocks=" << nb << " columns=" << columns << " c=" << c << " rep=" << rep;
                        }
                    }
                }
            }
        }
    }
}

TEST(Kernels, KQuantSimdExactOnIntegerValuedInputs)
{
    // d = dmin = 1 and integer activations (|a| <= 4 but one 127 per block,
    // so the activation scale is 1): every partial sum is an integer below
    // 2^24 over 3 super-blocks, so SIMD and scalar agree bit for bit, with
    // maximal and zero quants, scales and mins in the mix.
    std::mt19937 rng(10);
    size_t const nb = 3, n = nb * QK_K;
    size_t stride = activation_row_bytes(ActivationFormat::Q8K, n);
    for (auto isa : simd_isas()) {
        for (auto type : s_kquant_types) {
            for (int rep = 0; rep < 16; ++rep) {
                auto row = kquant_row(type, nb, rng, true);
                std::vector<u8> act(stride * s_max_dot_columns);
                for (u32 c = 0; c < s_max_dot_columns; ++c) {
                    std::vector<float> x(n);
                    for (size_t i = 0; i < n; ++i)
                        x[i] = static_cast<float>(static_cast<int>(rng() % 9) - 4);
                    for (size_t b = 0; b < nb; ++b)
                        x[b * QK_K + rng() % QK_K] = rng() % 2 ? 127.0f : -127.0f;
                    scalar::quantize_q8k(x.data(), act.data() + c * stride, n);
                    ASSERT_EQ(reinterpret_cast<BlockQ8K const*>(act.data() + c * stride)->d, 1.0f);
                }
                for (u32 columns = 1; columns <= s_max_dot_columns; ++columns) {
                    float expected[4], got[4];
                    scalar_kernel_set().dot_for(type)(row.data(), act.data(), stride, columns, n, expected);
                    kernel_set(isa).dot_for(type)(row.data(), act.data(), stride, columns, n, got);
                    for (u32 c = 0; c < columns; ++c)
                        EXPECT_EQ(got[c], expected[c]) << kernel_isa_name(isa) << " " << tensor_type_name(type) << " columns=" << columns << " c=" << c << " rep=" << rep;
                }
            }
        }
    }
}

TEST(Kernels, Avx512SetHasItsOwnKQuantKernels)
{
    // The AVX-512 set once borrowed the AVX2 k-quant kernels; the tests above
    // compare whatever each set holds, so check the set holds its own.
    if (!kernel_isa_supported(KernelIsa::Avx512))
        GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
    auto const& avx512 = kernel_set(KernelIsa::Avx512);
    auto const& avx2 = kernel_set(KernelIsa::Avx2);
    EXPECT_EQ(avx512.isa, KernelIsa::Avx512);
    for (auto type : s_kquant_types) {
        EXPECT_NE(avx512.dot_for(type), avx2.dot_for(type)) << tensor_type_name(type);
        EXPECT_NE(avx512.dot_for(type), scalar_kernel_set().dot_for(type)) << tensor_type_name(type);
    }
}

namespace {

// `columns` Q8K activation rows (kquant_activations: saturated and zero
// blocks in the mix, or integer-valued with d = 1), packed for the GEMM.
struct KGemmActivations {
    size_t stride;
    std::vector<u8> rows;
    std::vector<u8> tiles;
};

KGemmActivations kgemm_activations(u32 columns, size_t n, std::mt19937& rng, bool integer_valued = false)
{
    KGemmActivations a;
    a.stride = activation_row_bytes(ActivationFormat::Q8K, n);
    a.rows.resize(a.stride * columns);
    for (u32 c = 0; c < columns; ++c) {
        std::vector<float> x;
        if (integer_valued) {
            x.resize(n);
            for (size_t i = 0; i < n; ++i)
                x[i] = static_cast<float>(static_cast<int>(rng() % 9) - 4);
            for (size_t b = 0; b < n / QK_K; ++b)
                x[b * QK_K + rng() % QK_K] = rng() % 2 ? 127.0f : -127.0f; // d = 1
        } else {
            x = kquant_activations(n, rng);
        }
        scalar::quantize_q8k(x.data(), a.rows.data() + c * a.stride, n);
    }
    a.tiles.resize(kgemm_tiles_bytes(columns, n));
    pack_q8k_tiles(a.rows.data(), a.stride, columns, n, a.tiles.data());
    return a;
}

// Per element, the largest term the weight contributes (see kquant_magnitude).
std::vector<double> kquant_terms(TensorType type, u8 const* row, size_t n)
{
    auto const& info = tensor_type_info(type);
    KLayout const l = k_layout(type);
    std::vector<double> terms(n, 0.0);
    std::vector<float> part(n);
    for (int which = 0; which < (type == TensorType::Q6_K ? 1 : 2); ++which) {
        std::vector<u8> copy(row, row + n / QK_K * info.block_bytes);
        for (size_t b = 0; b < n / QK_K; ++b)
            if (type != TensorType::Q6_K)
                set_half_at(copy.data() + b * info.block_bytes + (which == 0 ? l.dmin : l.d), 0);
        dequantize_row(type, copy.data(), part.data(), n);
        for (size_t i = 0; i < n; ++i)
            terms[i] += std::fabs(part[i]);
    }
    return terms;
}

std::vector<KernelIsa> all_isas()
{
    std::vector<KernelIsa> isas { KernelIsa::Scalar };
    for (auto isa : simd_isas())
        isas.push_back(isa);
    return isas;
}

} // namespace

TEST(Kernels, PackQ8KTilesLayout)
{
    std::mt19937 rng(11);
    size_t const n = 2 * QK_K;
    u32 const columns = 19; // a full tile and a partial one
    auto a = kgemm_activations(columns, n, rng);
    ASSERT_EQ(a.tiles.size(), 2 * (n / QK_K) * s_kgemm_tile_block_bytes);
    for (u32 c = 0; c < 2 * s_gemm_columns; ++c) {
        u32 lane = c % s_gemm_columns;
        for (size_t k = 0; k < n / QK_K; ++k) {
            u8 const* block = a.tiles.data() + ((c / s_gemm_columns) * (n / QK_K) + k) * s_kgemm_tile_block_bytes;
            BlockQ8K zero {};
            auto const* ref = c < columns ? reinterpret_cast<BlockQ8K const*>(a.rows.data() + c * a.stride) + k : &zero;
            for (u32 e = 0; e < QK_K; ++e)
                ASSERT_EQ(static_cast<i8>(block[((e / 4) * s_gemm_columns + lane) * 4 + e % 4]), ref->qs[e]) << "c=" << c << " k=" << k << " e=" << e;
            for (u32 j = 0; j < 16; ++j) {
                i16 v;
                std::memcpy(&v, block + s_kgemm_tile_sum16_offset + ((j / 2) * s_gemm_columns + lane) * 4 + (j % 2) * 2, 2);
                EXPECT_EQ(v, ref->bsums[j]) << "c=" << c << " j=" << j;
            }
            for (u32 j = 0; j < 8; ++j) {
                i16 v;
                std::memcpy(&v, block + s_kgemm_tile_sum32_offset + ((j / 2) * s_gemm_columns + lane) * 4 + (j % 2) * 2, 2);
                EXPECT_EQ(v, ref->bsums[2 * j] + ref->bsums[2 * j + 1]) << "c=" << c << " j=" << j;
            }
            float d;
            std::memcpy(&d, block + s_kgemm_tile_d_offset + 4 * lane, 4);
            EXPECT_EQ(d, ref->d);
        }
    }
}

TEST(Kernels, KQuantGemmMatchesRowDot)
{
    // Every kernel set's k-quant GEMM (the scalar one included) against
    // running dot_for column by column, the scalar reference's and the
    // set's own: random and extreme blocks, partial row tiles (1, 5),
    // partial token tiles (9, 33), 1 to 22 super-blocks.
    std::mt19937 rng(12);
    auto const& ref = scalar_kernel_set();
    struct Shape {
        size_t nb;
        u32 rows;
    };
    for (auto type : s_kquant_types) {
        for (Shape shape : { Shape { 1, 1 }, Shape { 1, 8 }, Shape { 3, 5 }, Shape { 3, 8 }, Shape { 22, 5 }, Shape { 22, 8 } }) {
            size_t n = shape.nb * QK_K;
            size_t row_bytes = tensor_row_bytes(type, n).value();
            for (u32 columns : { 8u, 9u, 16u, 33u, 128u }) {
                std::vector<u8> w;
                for (u32 r = 0; r < shape.rows; ++r) {
                    auto row = kquant_row(type, shape.nb, rng);
                    w.insert(w.end(), row.begin(), row.end());
                }
                auto a = kgemm_activations(columns, n, rng);
                std::vector<float> expected(size_t(columns) * shape.rows), magnitude(expected.size());
                for (u32 r = 0; r < shape.rows; ++r) {
                    auto terms = kquant_terms(type, w.data() + r * row_bytes, n);
                    for (u32 c = 0; c < columns; ++c) {
                        u8 const* act = a.rows.data() + c * a.stride;
                        ref.dot_for(type)(w.data() + r * row_bytes, act, 0, 1, n, &expected[c * shape.rows + r]);
                        ASSERT_TRUE(std::isfinite(expected[c * shape.rows + r]));
                        auto const* blocks = reinterpret_cast<BlockQ8K const*>(act);
                        double m = 0;
                        for (size_t i = 0; i < n; ++i)
                            m += terms[i] * std::fabs(blocks[i / QK_K].d * blocks[i / QK_K].qs[i % QK_K]);
                        magnitude[c * shape.rows + r] = static_cast<float>(m);
                    }
                }
                for (auto isa : all_isas()) {
                    auto const& set = kernel_set(isa);
                    ASSERT_NE(set.gemm_for(type), nullptr) << kernel_isa_name(isa);
                    // Garbage in the scratch (it is reused across matrices): the GEMM must rewrite what it reads.
                    std::vector<u8> scratch(kgemm_scratch_bytes(n), 0xA5);
                    std::vector<float> got(size_t(columns) * s_gemm_rows + 8, -12345.0f);
                    set.gemm_for(type)(w.data(), row_bytes, shape.rows, a.tiles.data(), columns, n, scratch.data(), got.data());
                    for (u32 c = 0; c < columns; ++c) {
                        for (u32 r = 0; r < shape.rows; ++r) {
                            float own;
                            set.dot_for(type)(w.data() + r * row_bytes, a.rows.data() + c * a.stride, 0, 1, n, &own);
                            float e = expected[c * shape.rows + r];
                            // Only the float accumulation order differs: relative 1e-5 of the dot's magnitude.
                            double tolerance = 1e-5 * magnitude[c * shape.rows + r];
                            EXPECT_NEAR(got[c * s_gemm_rows + r], e, tolerance)
                                << kernel_isa_name(isa) << " " << tensor_type_name(type) << " blocks=" << shape.nb << " columns=" << columns << " rows=" << shape.rows << " r=" << r << " c=" << c;
                            EXPECT_NEAR(got[c * s_gemm_rows + r], own, 2 * tolerance)
                                << kernel_isa_name(isa) << " own dot_for, " << tensor_type_name(type) << " r=" << r << " c=" << c;
                            if (isa == KernelIsa::Scalar) {
                                EXPECT_EQ(got[c * s_gemm_rows + r], e) << "the scalar GEMM sums in the scalar dot's order";
                            }
                        }
                        for (u32 r = shape.rows; r < s_gemm_rows; ++r)
                            EXPECT_EQ(got[c * s_gemm_rows + r], -12345.0f) << "rows past `rows` are not written";
                    }
                    for (size_t i = size_t(columns) * s_gemm_rows; i < got.size(); ++i)
                        EXPECT_EQ(got[i], -12345.0f) << "tokens past `columns` are not written";
                }
            }
        }
    }
}

TEST(Kernels, KQuantGemmExactOnIntegerValuedInputs)
{
    // d = dmin = 1 and integer activations with d = 1 (as in
    // KQuantSimdExactOnIntegerValuedInputs): every partial sum is an integer
    // below 2^24, so every set's GEMM equals the scalar dot bit for bit.
    std::mt19937 rng(13);
    size_t const nb = 3, n = nb * QK_K;
    u32 const columns = 37;
    for (auto type : s_kquant_types) {
        size_t row_bytes = tensor_row_bytes(type, n).value();
        for (int rep = 0; rep < 4; ++rep) {
            std::vector<u8> w;
            for (u32 r = 0; r < s_gemm_rows; ++r) {
                auto row = kquant_row(type, nb, rng, true);
                w.insert(w.end(), row.begin(), row.end());
            }
            auto a = kgemm_activations(columns, n, rng, true);
            for (auto isa : all_isas()) {
                std::vector<u8> scratch(kgemm_scratch_bytes(n));
                std::vector<float> got(size_t(columns) * s_gemm_rows);
                kernel_set(isa).gemm_for(type)(w.data(), row_bytes, s_gemm_rows, a.tiles.data(), columns, n, scratch.data(), got.data());
                for (u32 c = 0; c < columns; ++c) {
                    ASSERT_EQ(reinterpret_cast<BlockQ8K const*>(a.rows.data() + c * a.stride)->d, 1.0f);
                    for (u32 r = 0; r < s_gemm_rows; ++r) {
                        float expected;
                        scalar_kernel_set().dot_for(type)(w.data() + r * row_bytes, a.rows.data() + c * a.stride, 0, 1, n, &expected);
                        ASSERT_EQ(got[c * s_gemm_rows + r], expected) << kernel_isa_name(isa) << " " << tensor_type_name(type) << " r=" << r << " c=" << c << " rep=" << rep;
                    }
                }
            }
        }
    }
}
