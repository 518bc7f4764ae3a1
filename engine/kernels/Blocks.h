#pragma once

// Quantized block layouts. Weight blocks are byte-identical to ggml's
// (ggml-common.h) so GGUF tensors are used in place; activation blocks are
// the engine's own (f32 scale, integer sums) because they never leave memory.

#include "engine/base/Types.h"

#include <cstring>

namespace aisos::engine {

constexpr u32 QK = 32;   // elements per small block
constexpr u32 QK_K = 256; // elements per k-quant super-block

struct BlockQ4_0 {
    u16 d; // f16 scale
    u8 qs[QK / 2]; // low nibble of qs[j] is element j, high nibble element j+16
};
static_assert(sizeof(BlockQ4_0) == 18);

struct BlockQ4_1 {
    u16 d; // f16 scale
    u16 m; // f16 minimum
    u8 qs[QK / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

struct BlockQ8_0 {
    u16 d;
    i8 qs[QK];
};
static_assert(sizeof(BlockQ8_0) == 34);

struct BlockQ4_K {
    u16 d;
    u16 dmin;
    u8 scales[12]; // 8 six-bit scales and 8 six-bit mins, packed
    u8 qs[QK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

struct BlockQ5_K {
    u16 d;
    u16 dmin;
    u8 scales[12];
    u8 qh[QK_K / 8];
    u8 qs[QK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

struct BlockQ6_K {
    u8 ql[QK_K / 2];
    u8 qh[QK_K / 4];
    i8 scales[QK_K / 16];
    u16 d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// Activations for Q4_0/Q4_1/Q8_0 weights: x[i] ~= d * qs[i], qs in [-127, 127].
struct BlockQ8 {
    float d;
    float s; // d * sum(qs), for the offset/minimum terms of Q4_0, Q4_1 (and Q8_0 on VNNI)
    i8 qs[QK];
};
static_assert(sizeof(BlockQ8) == 40);

// Activations for k-quant weights: one scale per 256, sums per 16 elements.
struct BlockQ8K {
    float d;
    i8 qs[QK_K];
    i16 bsums[QK_K / 16];
};
static_assert(sizeof(BlockQ8K) == 292);

inline float fp16_to_fp32(u16 h)
{
    u32 sign = static_cast<u32>(h & 0x8000) << 16;
    u32 exponent = (h >> 10) & 0x1f;
    u32 mantissa = h & 0x3ff;
    u32 bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {
            // Subnormal: renormalize.
            int shift = 0;
            while ((mantissa & 0x400) == 0) {
                mantissa <<= 1;
                ++shift;
            }
            mantissa &= 0x3ff;
            bits = sign | (static_cast<u32>(127 - 15 - shift + 1) << 23) | (mantissa << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

inline u16 fp32_to_fp16(float f)
{
    u32 x;
    std::memcpy(&x, &f, 4);
    u32 sign = (x >> 16) & 0x8000;
    u32 exponent = (x >> 23) & 0xff;
    u32 mantissa = x & 0x7fffff;
    if (exponent == 0xff)
        return static_cast<u16>(sign | 0x7c00 | (mantissa ? 0x200 : 0));
    int e = static_cast<int>(exponent) - 127 + 15;
    if (e >= 31)
        return static_cast<u16>(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10)
            return static_cast<u16>(sign);
        mantissa |= 0x800000;
        u32 shift = static_cast<u32>(14 - e);
        u32 half = mantissa >> shift;
        u32 rest = mantissa & ((1u << shift) - 1);
        u32 halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (half & 1)))
            ++half;
        return static_cast<u16>(sign | half);
    }
    u32 half = sign | (static_cast<u32>(e) << 10) | (mantissa >> 13);
    u32 rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
        ++half; // may carry into the exponent, which is the correct rounding
    return static_cast<u16>(half);
}

inline float bf16_to_fp32(u16 h)
{
    u32 bits = static_cast<u32>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// Six-bit scale and min number j (0..7) of a Q4_K/Q5_K block.
inline void k_scale_min(u32 j, u8 const* q, u8& scale, u8& min)
{
    if (j < 4) {
        scale = q[j] & 63;
        min = q[j + 4] & 63;
    } else {
        scale = static_cast<u8>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        min = static_cast<u8>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

} // namespace aisos::engine
