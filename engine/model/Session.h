#pragma once

// One inference stream over a Model: KV cache, scratch buffers and the
// forward pass. evaluate() runs a batch of tokens (the whole prompt at
// once during prefill, one token while decoding) and leaves the logits of
// the last one.

#include "engine/kernels/Kernels.h"
#include "engine/model/Model.h"

#include <atomic>

namespace aisos::engine {

// How matmul inputs meet quantized weights. Int8 is the fast path (integer
// dot products); Float32 dequantizes each weight row and multiplies it with
// unquantized activations, for comparisons against float references.
enum class ActivationPrecision {
    Int8,
    Float32,
};

class Session {
public:
    static constexpr u32 s_max_batch = 64;
    // From this many tokens on, Q4_0/Q4_1/Q8_0 and Q4_K/Q5_K/Q6_K matmuls
    // use the kernel set's GEMM (weights decoded once per 8 rows, 16 tokens
    // per pass); below it the padding to 16 tokens costs more than the row
    // kernels.
    static constexpr u32 s_gemm_min_batch = 8;

    // context_length: the limit for this session (capped by the model's).
    static ErrorOr<Session*> create(Model const&, ThreadPool&, KernelSet const&, u32 context_length, ActivationPrecision = ActivationPrecision::Int8);
    ~Session();

    // Fails with ErrorCode::OutOfRange when the tokens do not fit in the context.
    ErrorOr<void> evaluate(u32 const* tokens, size_t count);
    float const* logits() const { return m_logits.data(); }
    u32 vocab_size() const { return m_model.config().n_vocab; }
    u32 position() const { return m_position; }
    u32 context_length() const { return m_context_length; }
    void reset() { m_position = 0; }

    // Internal: the parallel steps of the forward pass (public for the pool trampoline).
    struct Step;
    void run_step(Step const&, unsigned index, unsigned count);

private:
    Session(Model const& model, ThreadPool& pool, KernelSet const& kernels)
        : m_model(model)
        , m_pool(pool)
        , m_kernels(kernels)
    {
    }

    ErrorOr<void> evaluate_batch(u32 const* tokens, u32 count);
    void prepare_activations(float const* x, u32 rows, u32 n, Weight const* const* weights, u32 weight_count);
    void parallel(Step const&);
    bool use_gemm(Weight const&, u32 batch) const;
    u8 const* gemm_tiles(Weight const&) const;

    Model const& m_model;
    ThreadPool& m_pool;
    KernelSet const& m_kernels;
    ActivationPrecision m_precision { ActivationPrecision::Int8 };
    Vector<float> m_row_scratch; // per thread, Float32 precision only
    u32 m_context_length { 0 };
    u32 m_position { 0 };

    Vector<float> m_x;      // residual stream [batch][n_embd]
    Vector<float> m_xb;     // normed input / attention output [batch][max(n_embd, q_dim)]
    Vector<float> m_q;      // [batch][q_dim]
    Vector<float> m_k;      // [batch][kv_dim]
    Vector<float> m_v;      // [batch][kv_dim]
    Vector<float> m_hb;     // [batch][n_ff]
    Vector<u8> m_act_q8;    // quantized activations, BlockQ8 rows
    Vector<u8> m_act_q8k;   // BlockQ8K rows
    Vector<u8> m_act_tiles; // the Q8 rows packed for the GEMM (pack_q8_tiles)
    Vector<u8> m_act_ktiles; // the Q8K rows packed for the k-quant GEMM (pack_q8k_tiles)
    Vector<u8> m_gemm_scratch; // per thread, decoded weight rows for the GEMM
    Vector<float> m_scores; // per thread [context]
    Vector<float> m_logits;
    Vector<float> m_key_cache;   // [layer][position][kv_dim]
    Vector<float> m_value_cache; // [layer][position][kv_dim]
    Vector<float> m_rope_cos;    // [position][head_dim / 2]
    Vector<float> m_rope_sin;
    // Work in a parallel step is claimed chunk by chunk (see ThreadPool).
    alignas(64) std::atomic<u32> m_next_chunk { 0 };
};

} // namespace aisos::engine
