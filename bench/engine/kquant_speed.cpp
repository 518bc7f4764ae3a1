// Single-thread speed of the k-quant dot products, AVX2 vs AVX-512, on the
// matrices of the ~1.1B Llama (TinyLlama shape): FFN gate/up (5632 rows x
// 2048 columns) and FFN down (2048 rows x 5632 columns).
//
//   hot:    one matrix again and again (it stays in L2/L3): kernel compute speed;
//   stream: 512 MiB of distinct copies walked once per pass (from DRAM),
//           as decode reads a model: the memory-bound case.
//
// tokens = 1 is decode (one activation row per weight row), 4 is the
// prefill batch the row kernels take. Best of several passes, alternating
// between the ISAs. Results of the two ISAs are compared first.
//
// Build and run (bench/engine.py --kquant-speed does the same), with R a
// Release build directory that has built aisos_engine:
//   g++ -O2 -std=c++20 -I. bench/engine/kquant_speed.cpp R/engine/libaisos_engine.a
//       R/engine/libaisos_engine_base.a -o build/bench/kquant_speed
//   build/bench/kquant_speed

#include "engine/kernels/Kernels.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string_view>
#include <vector>

using namespace aisos::engine;

namespace {

struct Shape {
    char const* name;
    size_t rows, cols;
};

double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Random blocks with sane f16 scales so the sums stay finite.
void fill_row(TensorType type, u8* row, size_t cols, std::mt19937& rng)
{
    auto const& info = tensor_type_info(type);
    for (size_t b = 0; b < cols / QK_K; ++b) {
        u8* block = row + b * info.block_bytes;
        for (u32 i = 0; i < info.block_bytes; ++i)
            block[i] = static_cast<u8>(rng());
        u16 d = fp32_to_fp16(0.001f * static_cast<float>(rng() % 100 + 1));
        if (type == TensorType::Q6_K) {
            std::memcpy(block + 208, &d, 2);
        } else {
            std::memcpy(block, &d, 2);
            std::memcpy(block + 2, &d, 2);
        }
    }
}

// Seconds for one pass of `dot` over `matrices` matrices starting at `w`.
double time_pass(DotFn dot, u8 const* w, size_t matrices, Shape shape, size_t row_bytes, u8 const* act, size_t stride, u32 tokens, float* sink)
{
    double start = now();
    for (size_t m = 0; m < matrices; ++m) {
        u8 const* base = w + m * shape.rows * row_bytes;
        for (size_t r = 0; r < shape.rows; ++r) {
            float out[s_max_dot_columns];
            dot(base + r * row_bytes, act, stride, tokens, shape.cols, out);
            sink[r % 64] += out[0];
        }
    }
    return now() - start;
}

} // namespace

// Usage: kquant_speed [TYPE...] (default Q4_K Q5_K Q6_K).
int main(int argc, char** argv)
{
    if (!kernel_isa_supported(KernelIsa::Avx512) || !kernel_isa_supported(KernelIsa::Avx2)) {
        std::fprintf(stderr, "kquant_speed: needs a CPU with AVX2 and AVX-512 VNNI\n");
        return 1;
    }
    KernelSet const& avx2 = kernel_set(KernelIsa::Avx2);
    KernelSet const& avx512 = kernel_set(KernelIsa::Avx512);
    Shape const shapes[] = { { "gate/up 5632x2048", 5632, 2048 }, { "down 2048x5632", 2048, 5632 } };
    std::vector<TensorType> types;
    for (int i = 1; i < argc; ++i) {
        std::string_view name = argv[i];
        if (name == "Q4_K")
            types.push_back(TensorType::Q4_K);
        else if (name == "Q5_K")
            types.push_back(TensorType::Q5_K);
        else if (name == "Q6_K")
            types.push_back(TensorType::Q6_K);
        else {
            std::fprintf(stderr, "kquant_speed: unknown type %s (Q4_K, Q5_K or Q6_K)\n", argv[i]);
            return 2;
        }
    }
    if (types.empty())
        types = { TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K };
    size_t const stream_bytes = size_t(512) << 20;
    std::mt19937 rng(1);
    float sink[64] = {};

    std::printf("%-5s %-18s %-6s %6s %11s %11s %7s %9s %9s\n", "type", "matrix", "mode", "tokens", "avx2 ms", "avx512 ms", "speedup", "avx2 GB/s", "a512 GB/s");
    for (auto type : types) {
        for (auto shape : shapes) {
            size_t row_bytes = tensor_row_bytes(type, shape.cols).value();
            size_t matrix_bytes = row_bytes * shape.rows;
            size_t copies = stream_bytes / matrix_bytes;
            std::vector<u8> w(copies * matrix_bytes);
            for (size_t r = 0; r < copies * shape.rows; ++r)
                fill_row(type, w.data() + r * row_bytes, shape.cols, rng);
            size_t stride = activation_row_bytes(ActivationFormat::Q8K, shape.cols);
            std::vector<u8> act(stride * s_max_dot_columns);
            std::normal_distribution<float> normal(0, 1);
            for (u32 c = 0; c < s_max_dot_columns; ++c) {
                std::vector<float> x(shape.cols);
                for (auto& v : x)
                    v = normal(rng);
                avx2.quantize_q8k(x.data(), act.data() + c * stride, shape.cols);
            }
            // The two ISAs agree (the unit tests check both against the scalar
            // reference): largest difference relative to the largest output.
            double worst = 0, largest = 0;
            for (size_t r = 0; r < shape.rows; ++r) {
                float a[s_max_dot_columns], b[s_max_dot_columns];
                avx2.dot_for(type)(w.data() + r * row_bytes, act.data(), stride, s_max_dot_columns, shape.cols, a);
                avx512.dot_for(type)(w.data() + r * row_bytes, act.data(), stride, s_max_dot_columns, shape.cols, b);
                for (u32 c = 0; c < s_max_dot_columns; ++c) {
                    worst = std::fmax(worst, std::fabs(a[c] - b[c]));
                    largest = std::fmax(largest, std::fabs(a[c]));
                }
            }
            for (u32 tokens : { 1u, 4u }) {
                for (int stream = 0; stream < 2; ++stream) {
                    size_t matrices = stream ? copies : 1;
                    int passes = stream ? 4 : 30;
                    // Passes alternate between the ISAs so both see the same load from other processes.
                    double t2 = 1e30, t5 = 1e30;
                    for (int p = 0; p < passes; ++p) {
                        t2 = std::fmin(t2, time_pass(avx2.dot_for(type), w.data(), matrices, shape, row_bytes, act.data(), stride, tokens, sink));
                        t5 = std::fmin(t5, time_pass(avx512.dot_for(type), w.data(), matrices, shape, row_bytes, act.data(), stride, tokens, sink));
                    }
                    double bytes = double(matrices) * double(matrix_bytes);
                    std::printf("%-5s %-18s %-6s %6u %11.3f %11.3f %6.2fx %9.2f %9.2f\n", tensor_type_name(type), shape.name, stream ? "stream" : "hot", tokens,
                        1e3 * t2 / double(matrices), 1e3 * t5 / double(matrices), t2 / t5, bytes / t2 / 1e9, bytes / t5 / 1e9);
                }
            }
            std::printf("%-5s %-18s max |avx2 - avx512| / max |output| = %.2e\n", tensor_type_name(type), shape.name, worst / largest);
        }
    }
    float total = 0;
    for (float v : sink)
        total += v;
    std::printf("(checksum %g)\n", static_cast<double>(total));
    return 0;
}
