// A tiny random Llama written as GGUF (F32, F16, Q8_0 and Q4_1 weights and
// a byte-level tokenizer), loaded and run end to end.

#include "GgufBuilder.h"
#include "engine/format/Gguf.h"
#include "engine/generate/Generator.h"
#include "engine/kernels/Kernels.h"
#include "engine/model/Session.h"

#include <cmath>
#include <cstdio>
#include <gtest/gtest.h>
#include <memory>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

using namespace aisos;
using namespace aisos::engine;
using aisos::engine::test::GgufBuilder;

namespace {

constexpr u32 s_embd = 64, s_heads = 4, s_kv = 2, s_ff = 96, s_layers = 2;

std::vector<uint8_t> as_f32(std::vector<float> const& v)
{
    std::vector<uint8_t> out(v.size() * 4);
    std::memcpy(out.data(), v.data(), out.size());
    return out;
}

std::vector<uint8_t> as_f16(std::vector<float> const& v)
{
    std::vector<uint8_t> out(v.size() * 2);
    for (size_t i = 0; i < v.size(); ++i) {
        u16 h = fp32_to_fp16(v[i]);
        std::memcpy(out.data() + 2 * i, &h, 2);
    }
    return out;
}

std::vector<uint8_t> as_q8_0(std::vector<float> const& v)
{
    std::vector<uint8_t> out;
    for (size_t b = 0; b < v.size() / 32; ++b) {
        float amax = 0;
        for (int j = 0; j < 32; ++j)
            amax = std::max(amax, std::fabs(v[b * 32 + j]));
        float d = amax / 127;
        BlockQ8_0 block {};
        block.d = fp32_to_fp16(d);
        for (int j = 0; j < 32; ++j)
            block.qs[j] = static_cast<i8>(d ? std::lround(v[b * 32 + j] / d) : 0);
        auto const* p = reinterpret_cast<uint8_t const*>(&block);
        out.insert(out.end(), p, p + sizeof(block));
    }
    return out;
}

std::vector<uint8_t> as_q4_1(std::vector<float> const& v)
{
    std::vector<uint8_t> out;
    for (size_t b = 0; b < v.size() / 32; ++b) {
        float lo = v[b * 32], hi = v[b * 32];
        for (int j = 0; j < 32; ++j) {
            lo = std::min(lo, v[b * 32 + j]);
            hi = std::max(hi, v[b * 32 + j]);
        }
        float d = (hi - lo) / 15;
        BlockQ4_1 block {};
        block.d = fp32_to_fp16(d);
        block.m = fp32_to_fp16(lo);
        for (int j = 0; j < 16; ++j) {
            auto q = [&](int k) { return static_cast<u8>(std::min(15l, std::max(0l, d ? std::lround((v[b * 32 + k] - lo) / d) : 0))); };
            block.qs[j] = static_cast<u8>(q(j) | (q(j + 16) << 4));
        }
        auto const* p = reinterpret_cast<uint8_t const*>(&block);
        out.insert(out.end(), p, p + sizeof(block));
    }
    return out;
}

class TinyModel : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        std::mt19937 rng(42);
        std::normal_distribution<float> dist(0, 0.3f);
        auto random = [&](size_t n, float mean = 0) {
            std::vector<float> v(n);
            for (auto& x : v)
                x = mean + dist(rng);
            return v;
        };
        GgufBuilder b;
        GgufBuilder f; // the same model with every tensor dequantized to F32
        struct Both {
            GgufBuilder& quantized;
            GgufBuilder& dequantized;
            void add_tensor(std::string const& name, std::vector<uint64_t> dims, uint32_t type, std::vector<uint8_t> data)
            {
                u64 n = 1;
                for (auto d : dims)
                    n *= d;
                std::vector<float> values(n);
                dequantize_row(static_cast<TensorType>(type), data.data(), values.data(), n);
                dequantized.add_tensor(name, dims, 0, as_f32(values));
                quantized.add_tensor(name, std::move(dims), type, std::move(data));
            }
        } both { b, f };
        b.add_string("general.architecture", "llama");
        f.add_string("general.architecture", "llama");
        b.add_u32("llama.block_count", s_layers);
        f.add_u32("llama.block_count", s_layers);
        b.add_u32("llama.embedding_length", s_embd);
        f.add_u32("llama.embedding_length", s_embd);
        b.add_u32("llama.feed_forward_length", s_ff);
        f.add_u32("llama.feed_forward_length", s_ff);
        b.add_u32("llama.attention.head_count", s_heads);
        f.add_u32("llama.attention.head_count", s_heads);
        b.add_u32("llama.attention.head_count_kv", s_kv);
        f.add_u32("llama.attention.head_count_kv", s_kv);
        b.add_u32("llama.context_length", 64);
        f.add_u32("llama.context_length", 64);
        b.add_f32("llama.rope.freq_base", 10000.0f);
        f.add_f32("llama.rope.freq_base", 10000.0f);
        b.add_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        f.add_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        b.add_string("tokenizer.ggml.model", "gpt2");
        f.add_string("tokenizer.ggml.model", "gpt2");
        b.add_string("tokenizer.ggml.pre", "smollm");
        f.add_string("tokenizer.ggml.pre", "smollm");
        std::vector<std::string> tokens;
        std::vector<int32_t> types;
        for (unsigned c = 0; c < 256; ++c) {
            char buf[4];
            size_t n = utf8_encode(byte_level_encode(static_cast<u8>(c)), buf);
            tokens.emplace_back(buf, n);
            types.push_back(1);
        }
        tokens.push_back("<|im_end|>");
        types.push_back(3);
        b.add_string_array("tokenizer.ggml.tokens", tokens);
        f.add_string_array("tokenizer.ggml.tokens", tokens);
        b.add_array<int32_t>("tokenizer.ggml.token_type", 5, types);
        f.add_array<int32_t>("tokenizer.ggml.token_type", 5, types);
        b.add_string_array("tokenizer.ggml.merges", {});
        f.add_string_array("tokenizer.ggml.merges", {});
        b.add_u32("tokenizer.ggml.eos_token_id", 256);
        f.add_u32("tokenizer.ggml.eos_token_id", 256);
        u32 vocab = static_cast<u32>(tokens.size());
        s_vocab = vocab;
        both.add_tensor("token_embd.weight", { s_embd, vocab }, 8, as_q8_0(random(size_t(s_embd) * vocab)));
        both.add_tensor("output_norm.weight", { s_embd }, 0, as_f32(random(s_embd, 1)));
        both.add_tensor("output.weight", { s_embd, vocab }, 1, as_f16(random(size_t(s_embd) * vocab)));
        u32 hd = s_embd / s_heads;
        for (u32 l = 0; l < s_layers; ++l) {
            std::string p = "blk." + std::to_string(l) + ".";
            both.add_tensor(p + "attn_norm.weight", { s_embd }, 0, as_f32(random(s_embd, 1)));
            both.add_tensor(p + "ffn_norm.weight", { s_embd }, 0, as_f32(random(s_embd, 1)));
            both.add_tensor(p + "attn_q.weight", { s_embd, s_embd }, 3, as_q4_1(random(s_embd * s_embd)));
            both.add_tensor(p + "attn_k.weight", { s_embd, s_kv * hd }, 8, as_q8_0(random(s_embd * s_kv * hd)));
            both.add_tensor(p + "attn_v.weight", { s_embd, s_kv * hd }, 0, as_f32(random(s_embd * s_kv * hd)));
            both.add_tensor(p + "attn_output.weight", { s_embd, s_embd }, 1, as_f16(random(s_embd * s_embd)));
            both.add_tensor(p + "ffn_gate.weight", { s_embd, s_ff }, 3, as_q4_1(random(s_embd * s_ff)));
            both.add_tensor(p + "ffn_up.weight", { s_embd, s_ff }, 8, as_q8_0(random(s_embd * s_ff)));
            both.add_tensor(p + "ffn_down.weight", { s_ff, s_embd }, 3, as_q4_1(random(s_ff * s_embd)));
        }
        auto bytes = b.build();
        char path[] = "/tmp/aisos-engine-test-XXXXXX.gguf";
        int fd = mkstemps(path, 5);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
        close(fd);
        s_path = path;
        auto f_bytes = f.build();
        char f_path[] = "/tmp/aisos-engine-test-f32-XXXXXX.gguf";
        int f_fd = mkstemps(f_path, 5);
        ASSERT_GE(f_fd, 0);
        ASSERT_EQ(write(f_fd, f_bytes.data(), f_bytes.size()), static_cast<ssize_t>(f_bytes.size()));
        close(f_fd);
        s_f32_path = f_path;
    }

    static void TearDownTestSuite()
    {
        unlink(s_path.c_str());
        unlink(s_f32_path.c_str());
    }

    static std::vector<float> run(std::vector<u32> const& tokens, unsigned threads, KernelIsa isa, bool one_by_one)
    {
        std::unique_ptr<Model> model(MUST(Model::load(s_path.c_str())));
        std::unique_ptr<ThreadPool, void (*)(ThreadPool*)> pool(MUST(platform_create_thread_pool(threads)), platform_destroy_thread_pool);
        std::unique_ptr<Session> session(MUST(Session::create(*model, *pool, kernel_set(isa), 64)));
        if (one_by_one) {
            for (u32 t : tokens)
                MUST(session->evaluate(&t, 1));
        } else {
            MUST(session->evaluate(tokens.data(), tokens.size()));
        }
        return std::vector<float>(session->logits(), session->logits() + session->vocab_size());
    }

    static std::string s_path;
    static std::string s_f32_path;
    static u32 s_vocab;
};

std::string TinyModel::s_path;
std::string TinyModel::s_f32_path;
u32 TinyModel::s_vocab;

} // namespace

TEST_F(TinyModel, LoadsWithExpectedConfig)
{
    std::unique_ptr<Model> model(MUST(Model::load(s_path.c_str())));
    auto const& c = model->config();
    EXPECT_EQ(c.n_layers, s_layers);
    EXPECT_EQ(c.head_dim, s_embd / s_heads);
    EXPECT_EQ(c.n_kv_heads, s_kv);
    EXPECT_EQ(c.rope_layout, RopeLayout::Interleaved);
    EXPECT_FALSE(c.tied_embeddings);
    EXPECT_TRUE(model->tokenizer().is_end_of_generation(256));
    EXPECT_NE(model->find_tensor("blk.1.ffn_down.weight"), nullptr);
}

TEST_F(TinyModel, ForwardIsDeterministicAcrossThreadCountsAndBatching)
{
    std::vector<u32> tokens = { 72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100 };
    auto isa = detect_kernel_isa();
    auto a = run(tokens, 1, isa, false);
    auto b = run(tokens, 3, isa, false);
    EXPECT_EQ(a, b); // rows are split, never the sums inside a row
    bool finite = true;
    for (float v : a)
        finite = finite && std::isfinite(v);
    EXPECT_TRUE(finite);
    auto c = run(tokens, 2, isa, true);
    for (size_t i = 0; i < a.size(); ++i)
        EXPECT_NEAR(a[i], c[i], 1e-4f * (1 + std::fabs(a[i])));
}

TEST_F(TinyModel, ScalarAndSimdKernelsAgree)
{
    std::vector<u32> tokens = { 1, 2, 3, 200, 100 };
    auto a = run(tokens, 2, KernelIsa::Scalar, false);
    auto b = run(tokens, 2, detect_kernel_isa(), false);
    for (size_t i = 0; i < a.size(); ++i)
        EXPECT_NEAR(a[i], b[i], 2e-3f * (1 + std::fabs(a[i])));
}

TEST_F(TinyModel, ScalarAndSimdKernelsAgreeOnBatches)
{
    // 21 tokens: one pass through the batched GEMM (16-token tiles, the
    // second partial) in every kernel set that has one.
    std::vector<u32> tokens;
    for (u32 i = 0; i < 21; ++i)
        tokens.push_back((i * 37 + 5) % 250);
    auto a = run(tokens, 2, KernelIsa::Scalar, false);
    auto b = run(tokens, 2, detect_kernel_isa(), false);
    auto c = run(tokens, 1, detect_kernel_isa(), true);
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_NEAR(a[i], b[i], 2e-3f * (1 + std::fabs(a[i])));
        EXPECT_NEAR(b[i], c[i], 2e-3f * (1 + std::fabs(b[i])));
    }
}

TEST_F(TinyModel, IgnoreEndOfGenerationDecodesEveryToken)
{
    std::unique_ptr<Model> model(MUST(Model::load(s_path.c_str())));
    std::unique_ptr<ThreadPool, void (*)(ThreadPool*)> pool(MUST(platform_create_thread_pool(2)), platform_destroy_thread_pool);
    // A tokenizer for which every token ends generation.
    std::vector<u8> file;
    {
        FILE* f = std::fopen(s_path.c_str(), "rb");
        ASSERT_NE(f, nullptr);
        u8 buffer[4096];
        for (size_t got; (got = std::fread(buffer, 1, sizeof(buffer), f)) > 0;)
            file.insert(file.end(), buffer, buffer + got);
        std::fclose(f);
    }
    auto gguf = MUST(GgufFile::parse(file.data(), file.size()));
    Tokenizer ending;
    MUST(Tokenizer::load_from_gguf(gguf, ending));
    for (u32 id = 0; id < s_vocab; ++id)
        MUST(ending.add_end_of_generation(id));
    u32 prompt[] = { 72, 105 };
    for (bool ignore : { false, true }) {
        std::unique_ptr<Session> session(MUST(Session::create(*model, *pool, kernel_set(detect_kernel_isa()), 64)));
        GenerationOptions options;
        options.max_new_tokens = 9;
        options.ignore_end_of_generation = ignore;
        auto result = MUST(generate(*session, ending, prompt, 2, options, GenerationCallbacks {}));
        EXPECT_EQ(result.generated_tokens, ignore ? 9u : 0u);
        EXPECT_EQ(result.reason, ignore ? StopReason::MaxTokens : StopReason::EndOfGeneration);
    }
}

TEST_F(TinyModel, ContextLimitIsAnError)
{
    std::unique_ptr<Model> model(MUST(Model::load(s_path.c_str())));
    std::unique_ptr<ThreadPool, void (*)(ThreadPool*)> pool(MUST(platform_create_thread_pool(2)), platform_destroy_thread_pool);
    std::unique_ptr<Session> session(MUST(Session::create(*model, *pool, kernel_set(detect_kernel_isa()), 8)));
    std::vector<u32> tokens(9, 65);
    auto result = session->evaluate(tokens.data(), tokens.size());
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), ErrorCode::OutOfRange);
    MUST(session->evaluate(tokens.data(), 8));
    EXPECT_TRUE(session->evaluate(tokens.data(), 1).is_error());
    u32 bad = 100000;
    session->reset();
    EXPECT_TRUE(session->evaluate(&bad, 1).is_error());
}

TEST_F(TinyModel, GenerationIsDeterministicWithASeedAndStopsAtContext)
{
    std::unique_ptr<Model> model(MUST(Model::load(s_path.c_str())));
    std::unique_ptr<ThreadPool, void (*)(ThreadPool*)> pool(MUST(platform_create_thread_pool(2)), platform_destroy_thread_pool);
    auto generate_once = [&](u64 seed, u32 context, StopReason& reason) {
        std::unique_ptr<Session> session(MUST(Session::create(*model, *pool, kernel_set(detect_kernel_isa()), context)));
        GenerationOptions options;
        options.max_new_tokens = 20;
        options.sampling.temperature = 1.5f;
        options.sampling.top_k = 0;
        options.sampling.min_p = 0;
        options.sampling.seed = seed;
        struct Collected {
            std::vector<u32> ids;
            std::string text;
            u32 logit_rows = 0;
        } collected;
        GenerationCallbacks callbacks;
        callbacks.context = &collected;
        callbacks.on_token = [](void* c, u32 id) { static_cast<Collected*>(c)->ids.push_back(id); };
        callbacks.on_text = [](void* c, std::string_view t) {
            static_cast<Collected*>(c)->text.append(t);
            return true;
        };
        callbacks.on_logits = [](void* c, float const*, u32) { ++static_cast<Collected*>(c)->logit_rows; };
        u32 prompt[] = { 72, 105 };
        auto result = MUST(generate(*session, model->tokenizer(), prompt, 2, options, callbacks));
        reason = result.reason;
        EXPECT_EQ(result.generated_tokens, collected.ids.size());
        EXPECT_GE(collected.logit_rows, collected.ids.size());
        return collected.ids;
    };
    StopReason reason;
    auto a = generate_once(7, 64, reason);
    auto b = generate_once(7, 64, reason);
    EXPECT_EQ(a, b);
    auto c = generate_once(8, 64, reason);
    EXPECT_NE(a, c);
    generate_once(7, 6, reason);
    if (reason != StopReason::EndOfGeneration) {
        EXPECT_EQ(reason, StopReason::ContextFull);
    }
}

TEST(ModelLoad, RejectsMissingAndBadFiles)
{
    EXPECT_TRUE(Model::load("/nonexistent/model.gguf").is_error());
    EXPECT_TRUE(Model::load("/nonexistent-directory").is_error());
    char path[] = "/tmp/aisos-engine-bad-XXXXXX.gguf";
    int fd = mkstemps(path, 5);
    ASSERT_GE(fd, 0);
    GgufBuilder b;
    b.add_string("general.architecture", "mamba");
    auto bytes = b.build();
    ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    close(fd);
    auto result = Model::load(path);
    ASSERT_TRUE(result.is_error());
    EXPECT_EQ(result.error().code(), ErrorCode::Unsupported);
    unlink(path);
}

TEST_F(TinyModel, Float32ActivationsEqualTheDequantizedModel)
{
    std::unique_ptr<ThreadPool, void (*)(ThreadPool*)> pool(MUST(platform_create_thread_pool(2)), platform_destroy_thread_pool);
    std::vector<u32> tokens = { 10, 20, 30, 40 };
    auto logits = [&](std::string const& path, ActivationPrecision precision) {
        std::unique_ptr<Model> model(MUST(Model::load(path.c_str())));
        std::unique_ptr<Session> session(MUST(Session::create(*model, *pool, kernel_set(detect_kernel_isa()), 64, precision)));
        MUST(session->evaluate(tokens.data(), tokens.size()));
        return std::vector<float>(session->logits(), session->logits() + session->vocab_size());
    };
    auto reference = logits(s_f32_path, ActivationPrecision::Int8); // F32 weights: float path anyway
    auto exact = logits(s_path, ActivationPrecision::Float32);
    auto int8 = logits(s_path, ActivationPrecision::Int8);
    double exact_diff = 0, int8_diff = 0;
    for (size_t i = 0; i < exact.size(); ++i) {
        exact_diff = std::max(exact_diff, static_cast<double>(std::fabs(exact[i] - reference[i])));
        int8_diff = std::max(int8_diff, static_cast<double>(std::fabs(int8[i] - reference[i])));
    }
    EXPECT_LT(exact_diff, 1e-4);  // same math, only summation order differs
    EXPECT_GT(int8_diff, exact_diff); // 8-bit activations add quantization noise
}
