// The forward pass. evaluate_batch() reads top to bottom like llama2.c:
// embed, then per layer: norm, QKV, RoPE + KV cache, attention, output
// projection, norm, gated FFN; final norm and logits. The heavy steps run
// on all threads through parallel(); each splits its work by output rows
// (or by heads) so one dispatch covers a whole step.

#include "engine/model/Session.h"

#include <cmath>

namespace aisos::engine {

namespace {

enum class StepKind {
    Quantize,
    Matmul,
    GateUp,
    Attention,
};

struct MatmulTarget {
    Weight const* weight { nullptr };
    float* out { nullptr };
    u32 out_stride { 0 };
    bool accumulate { false };
};

float silu(float x) { return x / (1.0f + std::exp(-x)); }

float gelu_tanh(float x)
{
    constexpr float sqrt_2_over_pi = 0.7978845608028654f;
    return 0.5f * x * (1.0f + std::tanh(sqrt_2_over_pi * (x + 0.044715f * x * x * x)));
}

void rms_norm(float* out, float const* x, float const* weight, u32 n, float eps)
{
    double sum = 0;
    for (u32 i = 0; i < n; ++i)
        sum += static_cast<double>(x[i]) * x[i];
    float scale = static_cast<float>(1.0 / std::sqrt(sum / n + eps));
    for (u32 i = 0; i < n; ++i)
        out[i] = x[i] * scale * weight[i];
}

} // namespace

struct Session::Step {
    StepKind kind { StepKind::Matmul };
    u32 batch { 1 };
    // Quantize: rows of `input` (n wide) into the activation buffers.
    float const* input { nullptr };
    u32 n { 0 };
    bool want_q8 { false };
    bool want_q8k { false };
    bool pack_tiles { false }; // Q8 rows also packed for the GEMM, 16 rows per claim
    bool pack_ktiles { false }; // Q8K rows also packed for the k-quant GEMM
    // Matmul: up to three weights sharing the input, their rows concatenated.
    MatmulTarget targets[3];
    u32 target_count { 0 };
    // GateUp: the gated feed-forward's first half into m_hb.
    Weight const* gate { nullptr };
    Weight const* up { nullptr };
    // Attention over the cache of `layer` for the batch at `position`.
    u32 layer { 0 };
    u32 position { 0 };
};

static void step_trampoline(void* context, unsigned index, unsigned count);

struct StepContext {
    Session* session;
    Session::Step const* step;
};

static void step_trampoline(void* context, unsigned index, unsigned count)
{
    auto* c = static_cast<StepContext*>(context);
    c->session->run_step(*c->step, index, count);
}

ErrorOr<Session*> Session::create(Model const& model, ThreadPool& pool, KernelSet const& kernels, u32 context_length, ActivationPrecision precision)
{
    auto const& c = model.config();
    if (context_length == 0)
        return Error::invalid("context length must be at least 1");
    if (context_length > c.context_length)
        context_length = c.context_length;
    auto* session = new (std::nothrow) Session(model, pool, kernels);
    if (!session)
        return Error::no_memory();
    auto init = [&]() -> ErrorOr<void> {
        session->m_context_length = context_length;
        session->m_precision = precision;
        u32 b = s_max_batch;
        u32 widest = c.n_embd > c.q_dim() ? c.n_embd : c.q_dim();
        u32 widest_input = widest > c.n_ff ? widest : c.n_ff;
        TRY(session->m_x.try_resize(size_t(b) * c.n_embd));
        TRY(session->m_xb.try_resize(size_t(b) * widest));
        TRY(session->m_q.try_resize(size_t(b) * c.q_dim()));
        TRY(session->m_k.try_resize(size_t(b) * c.kv_dim()));
        TRY(session->m_v.try_resize(size_t(b) * c.kv_dim()));
        TRY(session->m_hb.try_resize(size_t(b) * c.n_ff * 2));
        TRY(session->m_act_q8.try_resize(size_t(b) * activation_row_bytes(ActivationFormat::Q8, widest_input)));
        TRY(session->m_act_q8k.try_resize(size_t(b) * activation_row_bytes(ActivationFormat::Q8K, widest_input + QK_K)));
        size_t scratch = 0;
        if (precision == ActivationPrecision::Int8 && kernels.gemm_for(TensorType::Q4_0)) {
            TRY(session->m_act_tiles.try_resize(gemm_tiles_bytes(b, widest_input)));
            scratch = gemm_scratch_bytes(widest_input);
        }
        if (precision == ActivationPrecision::Int8 && kernels.gemm_for(TensorType::Q4_K) && widest_input >= QK_K) {
            TRY(session->m_act_ktiles.try_resize(kgemm_tiles_bytes(b, widest_input)));
            scratch = scratch > kgemm_scratch_bytes(widest_input) ? scratch : kgemm_scratch_bytes(widest_input);
        }
        if (scratch)
            TRY(session->m_gemm_scratch.try_resize(size_t(pool.thread_count()) * scratch));
        TRY(session->m_scores.try_resize(size_t(pool.thread_count()) * context_length));
        if (precision == ActivationPrecision::Float32)
            TRY(session->m_row_scratch.try_resize(size_t(pool.thread_count()) * widest_input));
        TRY(session->m_logits.try_resize(c.n_vocab));
        size_t cache = size_t(c.n_layers) * context_length * c.kv_dim();
        // Reserved, not touched: pages are only committed as positions fill.
        TRY(session->m_key_cache.try_reserve(cache));
        TRY(session->m_value_cache.try_reserve(cache));
        u32 half = c.head_dim / 2;
        TRY(session->m_rope_cos.try_resize(size_t(context_length) * half));
        TRY(session->m_rope_sin.try_resize(size_t(context_length) * half));
        for (u32 p = 0; p < context_length; ++p) {
            for (u32 i = 0; i < half; ++i) {
                double inv_freq = 1.0 / std::pow(static_cast<double>(c.rope_theta), 2.0 * i / c.head_dim);
                double angle = p * inv_freq;
                session->m_rope_cos[size_t(p) * half + i] = static_cast<float>(std::cos(angle));
                session->m_rope_sin[size_t(p) * half + i] = static_cast<float>(std::sin(angle));
            }
        }
        return {};
    };
    if (auto result = init(); result.is_error()) {
        delete session;
        return result.error();
    }
    return session;
}

Session::~Session() = default;

void Session::parallel(Step const& step)
{
    m_next_chunk.store(0, std::memory_order_relaxed);
    StepContext context { this, &step };
    m_pool.run(step_trampoline, &context);
}

static u8* activation_for(Weight const& w, u8* q8, u8* q8k, float const* input, u32 n, size_t& stride, ActivationPrecision precision)
{
    switch (precision == ActivationPrecision::Float32 ? ActivationFormat::F32 : activation_format(w.type)) {
    case ActivationFormat::Q8:
        stride = activation_row_bytes(ActivationFormat::Q8, n);
        return q8;
    case ActivationFormat::Q8K:
        stride = activation_row_bytes(ActivationFormat::Q8K, n);
        return q8k;
    case ActivationFormat::F32:
        break;
    }
    stride = size_t(n) * sizeof(float);
    return reinterpret_cast<u8*>(const_cast<float*>(input));
}

// Rows per claimed chunk: small enough that a late or slow thread leaves
// little behind, large enough that the atomic claim is noise; whole GEMM
// row tiles.
static u64 chunk_rows(u64 total, unsigned count)
{
    u64 rows = total / (u64(count) * 8);
    rows = rows < s_gemm_rows ? s_gemm_rows : rows;
    return (rows + s_gemm_rows - 1) / s_gemm_rows * s_gemm_rows;
}

bool Session::use_gemm(Weight const& w, u32 batch) const
{
    if (batch < s_gemm_min_batch || m_precision != ActivationPrecision::Int8 || !m_kernels.gemm_for(w.type))
        return false;
    return activation_format(w.type) == ActivationFormat::Q8K ? !m_act_ktiles.is_empty() : !m_act_tiles.is_empty();
}

// The packed activations a weight's GEMM takes (see KernelSet::gemm_for).
u8 const* Session::gemm_tiles(Weight const& w) const
{
    return activation_format(w.type) == ActivationFormat::Q8K ? m_act_ktiles.data() : m_act_tiles.data();
}

void Session::run_step(Step const& step, unsigned index, unsigned count)
{
    auto const& c = m_model.config();
    switch (step.kind) {
    case StepKind::Quantize: {
        if (step.pack_tiles || step.pack_ktiles) {
            size_t q8_stride = activation_row_bytes(ActivationFormat::Q8, step.n);
            size_t q8k_stride = activation_row_bytes(ActivationFormat::Q8K, step.n);
            u32 tiles = (step.batch + s_gemm_columns - 1) / s_gemm_columns;
            for (u32 t; (t = m_next_chunk.fetch_add(1, std::memory_order_relaxed)) < tiles;) {
                u32 first = t * s_gemm_columns;
                u32 end = first + s_gemm_columns < step.batch ? first + s_gemm_columns : step.batch;
                for (u32 b = first; b < end; ++b) {
                    float const* x = step.input + b * step.n;
                    if (step.want_q8)
                        m_kernels.quantize_q8(x, m_act_q8.data() + b * q8_stride, step.n);
                    if (step.want_q8k)
                        m_kernels.quantize_q8k(x, m_act_q8k.data() + b * q8k_stride, step.n);
                }
                if (step.pack_tiles)
                    pack_q8_tiles(m_act_q8.data() + first * q8_stride, q8_stride, end - first, step.n, m_act_tiles.data() + size_t(t) * (step.n / QK) * s_gemm_tile_block_bytes);
                if (step.pack_ktiles)
                    pack_q8k_tiles(m_act_q8k.data() + first * q8k_stride, q8k_stride, end - first, step.n, m_act_ktiles.data() + size_t(t) * (step.n / QK_K) * s_kgemm_tile_block_bytes);
            }
            return;
        }
        for (u32 b; (b = m_next_chunk.fetch_add(1, std::memory_order_relaxed)) < step.batch;) {
            float const* x = step.input + b * step.n;
            if (step.want_q8)
                m_kernels.quantize_q8(x, m_act_q8.data() + b * activation_row_bytes(ActivationFormat::Q8, step.n), step.n);
            if (step.want_q8k)
                m_kernels.quantize_q8k(x, m_act_q8k.data() + b * activation_row_bytes(ActivationFormat::Q8K, step.n), step.n);
        }
        return;
    }
    case StepKind::Matmul: {
        u64 total = 0;
        for (u32 t = 0; t < step.target_count; ++t)
            total += step.targets[t].weight->rows;
        u64 rows_per_chunk = chunk_rows(total, count);
        for (;;) {
            u64 begin = u64(m_next_chunk.fetch_add(1, std::memory_order_relaxed)) * rows_per_chunk;
            if (begin >= total)
                break;
            u64 end = begin + rows_per_chunk < total ? begin + rows_per_chunk : total;
            // The chunk may span the end of one weight and the start of the next.
            u64 base = 0;
            for (u32 t = 0; t < step.target_count && base < end; ++t) {
                auto const& target = step.targets[t];
                Weight const& w = *target.weight;
                u64 lo = begin > base ? begin - base : 0;
                u64 hi = end - base < w.rows ? end - base : w.rows;
                base += w.rows;
                if (lo >= hi)
                    continue;
                size_t stride;
                u8 const* act = activation_for(w, m_act_q8.data(), m_act_q8k.data(), step.input, static_cast<u32>(w.cols), stride, m_precision);
                bool dequantize = m_precision == ActivationPrecision::Float32 && activation_format(w.type) != ActivationFormat::F32;
                DotFn dot = dequantize ? m_kernels.dot_f32 : m_kernels.dot_for(w.type);
                float* scratch = dequantize ? m_row_scratch.data() + size_t(index) * (m_row_scratch.size() / count) : nullptr;
                if (use_gemm(w, step.batch)) {
                    GemmFn gemm = m_kernels.gemm_for(w.type);
                    u8* decoded = m_gemm_scratch.data() + size_t(index) * (m_gemm_scratch.size() / count);
                    float result[s_max_batch * s_gemm_rows];
                    for (u64 r0 = lo; r0 < hi; r0 += s_gemm_rows) {
                        u32 rows = hi - r0 < s_gemm_rows ? static_cast<u32>(hi - r0) : s_gemm_rows;
                        gemm(w.row(r0), w.row_bytes, rows, gemm_tiles(w), step.batch, w.cols, decoded, result);
                        for (u32 b = 0; b < step.batch; ++b) {
                            float* out = target.out + size_t(b) * target.out_stride + r0;
                            for (u32 k = 0; k < rows; ++k)
                                out[k] = target.accumulate ? out[k] + result[b * s_gemm_rows + k] : result[b * s_gemm_rows + k];
                        }
                    }
                    continue;
                }
                if (DotRowsFn dot_rows = step.batch == 1 && !dequantize ? m_kernels.dot_rows_for(w.type) : nullptr) {
                    for (u64 r0 = lo; r0 < hi; r0 += s_dot_rows) {
                        u32 rows = hi - r0 < s_dot_rows ? static_cast<u32>(hi - r0) : s_dot_rows;
                        float result[s_dot_rows];
                        dot_rows(w.row(r0), w.row_bytes, rows, act, w.cols, result);
                        float* out = target.out + r0;
                        for (u32 k = 0; k < rows; ++k)
                            out[k] = target.accumulate ? out[k] + result[k] : result[k];
                    }
                    continue;
                }
                for (u64 r = lo; r < hi; ++r) {
                    void const* row = w.row(r);
                    if (dequantize) {
                        dequantize_row(w.type, row, scratch, w.cols);
                        row = scratch;
                    }
                    for (u32 b = 0; b < step.batch; b += s_max_dot_columns) {
                        u32 columns = step.batch - b < s_max_dot_columns ? step.batch - b : s_max_dot_columns;
                        float result[s_max_dot_columns];
                        dot(row, act + b * stride, stride, columns, w.cols, result);
                        for (u32 k = 0; k < columns; ++k) {
                            float* out = target.out + size_t(b + k) * target.out_stride + r;
                            *out = target.accumulate ? *out + result[k] : result[k];
                        }
                    }
                }
            }
        }
        return;
    }
    case StepKind::GateUp: {
        u64 rows_per_chunk = chunk_rows(step.gate->rows, count);
        size_t gate_stride, up_stride;
        u8 const* gate_act = activation_for(*step.gate, m_act_q8.data(), m_act_q8k.data(), step.input, c.n_embd, gate_stride, m_precision);
        u8 const* up_act = activation_for(*step.up, m_act_q8.data(), m_act_q8k.data(), step.input, c.n_embd, up_stride, m_precision);
        bool dequantize_gate = m_precision == ActivationPrecision::Float32 && activation_format(step.gate->type) != ActivationFormat::F32;
        bool dequantize_up = m_precision == ActivationPrecision::Float32 && activation_format(step.up->type) != ActivationFormat::F32;
        DotFn gate_dot = dequantize_gate ? m_kernels.dot_f32 : m_kernels.dot_for(step.gate->type);
        DotFn up_dot = dequantize_up ? m_kernels.dot_f32 : m_kernels.dot_for(step.up->type);
        float* scratch = m_precision == ActivationPrecision::Float32 ? m_row_scratch.data() + size_t(index) * (m_row_scratch.size() / count) : nullptr;
        bool gelu = c.activation == FeedForwardActivation::GeluTanh;
        bool gemm = use_gemm(*step.gate, step.batch) && use_gemm(*step.up, step.batch);
        bool rows_path = step.batch == 1 && m_precision == ActivationPrecision::Int8;
        DotRowsFn gate_rows = rows_path ? m_kernels.dot_rows_for(step.gate->type) : nullptr;
        DotRowsFn up_rows = rows_path ? m_kernels.dot_rows_for(step.up->type) : nullptr;
        for (;;) {
            u64 begin = u64(m_next_chunk.fetch_add(1, std::memory_order_relaxed)) * rows_per_chunk;
            if (begin >= step.gate->rows)
                break;
            u64 end = begin + rows_per_chunk < step.gate->rows ? begin + rows_per_chunk : step.gate->rows;
            if (gemm) {
                u8* decoded = m_gemm_scratch.data() + size_t(index) * (m_gemm_scratch.size() / count);
                float g[s_max_batch * s_gemm_rows], u[s_max_batch * s_gemm_rows];
                for (u64 r0 = begin; r0 < end; r0 += s_gemm_rows) {
                    u32 rows = end - r0 < s_gemm_rows ? static_cast<u32>(end - r0) : s_gemm_rows;
                    m_kernels.gemm_for(step.gate->type)(step.gate->row(r0), step.gate->row_bytes, rows, gemm_tiles(*step.gate), step.batch, c.n_embd, decoded, g);
                    m_kernels.gemm_for(step.up->type)(step.up->row(r0), step.up->row_bytes, rows, gemm_tiles(*step.up), step.batch, c.n_embd, decoded, u);
                    for (u32 b = 0; b < step.batch; ++b) {
                        for (u32 k = 0; k < rows; ++k) {
                            float gv = g[b * s_gemm_rows + k];
                            m_hb[size_t(b) * c.n_ff + r0 + k] = (gelu ? gelu_tanh(gv) : silu(gv)) * u[b * s_gemm_rows + k];
                        }
                    }
                }
                continue;
            }
            if (gate_rows && up_rows) {
                for (u64 r0 = begin; r0 < end; r0 += s_dot_rows) {
                    u32 rows = end - r0 < s_dot_rows ? static_cast<u32>(end - r0) : s_dot_rows;
                    float g[s_dot_rows], u[s_dot_rows];
                    gate_rows(step.gate->row(r0), step.gate->row_bytes, rows, gate_act, c.n_embd, g);
                    up_rows(step.up->row(r0), step.up->row_bytes, rows, up_act, c.n_embd, u);
                    for (u32 k = 0; k < rows; ++k)
                        m_hb[r0 + k] = (gelu ? gelu_tanh(g[k]) : silu(g[k])) * u[k];
                }
                continue;
            }
            for (u64 r = begin; r < end; ++r) {
            for (u32 b = 0; b < step.batch; b += s_max_dot_columns) {
                u32 columns = step.batch - b < s_max_dot_columns ? step.batch - b : s_max_dot_columns;
                float g[s_max_dot_columns], u[s_max_dot_columns];
                void const* gate_row = step.gate->row(r);
                if (dequantize_gate) {
                    dequantize_row(step.gate->type, gate_row, scratch, c.n_embd);
                    gate_row = scratch;
                }
                gate_dot(gate_row, gate_act + b * gate_stride, gate_stride, columns, c.n_embd, g);
                void const* up_row = step.up->row(r);
                if (dequantize_up) {
                    dequantize_row(step.up->type, up_row, scratch, c.n_embd);
                    up_row = scratch;
                }
                up_dot(up_row, up_act + b * up_stride, up_stride, columns, c.n_embd, u);
                for (u32 k = 0; k < columns; ++k)
                    m_hb[size_t(b + k) * c.n_ff + r] = (gelu ? gelu_tanh(g[k]) : silu(g[k])) * u[k];
            }
            }
        }
        return;
    }
    case StepKind::Attention: {
        u32 hd = c.head_dim;
        u32 group = c.n_heads / c.n_kv_heads;
        u64 total = u64(step.batch) * c.n_heads;
        float* scores = m_scores.data() + size_t(index) * m_context_length;
        float scale = 1.0f / std::sqrt(static_cast<float>(hd));
        size_t layer_base = size_t(step.layer) * m_context_length * c.kv_dim();
        for (u64 job; (job = m_next_chunk.fetch_add(1, std::memory_order_relaxed)) < total;) {
            u32 b = static_cast<u32>(job / c.n_heads);
            u32 h = static_cast<u32>(job % c.n_heads);
            u32 kv = h / group;
            u32 pos = step.position + b;
            float const* q = m_q.data() + size_t(b) * c.q_dim() + size_t(h) * hd;
            float max_score = -INFINITY;
            for (u32 t = 0; t <= pos; ++t) {
                float const* k = m_key_cache.data() + layer_base + size_t(t) * c.kv_dim() + size_t(kv) * hd;
                float dot;
                m_kernels.dot_f32(k, q, 0, 1, hd, &dot);
                scores[t] = dot * scale;
                max_score = scores[t] > max_score ? scores[t] : max_score;
            }
            float sum = 0;
            for (u32 t = 0; t <= pos; ++t) {
                scores[t] = std::exp(scores[t] - max_score);
                sum += scores[t];
            }
            float inv = 1.0f / sum;
            float* out = m_xb.data() + size_t(b) * c.q_dim() + size_t(h) * hd;
            for (u32 i = 0; i < hd; ++i)
                out[i] = 0;
            for (u32 t = 0; t <= pos; ++t) {
                float const* v = m_value_cache.data() + layer_base + size_t(t) * c.kv_dim() + size_t(kv) * hd;
                m_kernels.axpy(scores[t] * inv, v, out, hd);
            }
        }
        return;
    }
    }
}

void Session::prepare_activations(float const* x, u32 rows, u32 n, Weight const* const* weights, u32 weight_count)
{
    Step step;
    step.kind = StepKind::Quantize;
    step.batch = rows;
    step.input = x;
    step.n = n;
    for (u32 i = 0; i < weight_count; ++i) {
        auto format = activation_format(weights[i]->type);
        step.want_q8 = step.want_q8 || format == ActivationFormat::Q8;
        step.want_q8k = step.want_q8k || format == ActivationFormat::Q8K;
        bool gemm = use_gemm(*weights[i], rows);
        step.pack_tiles = step.pack_tiles || (gemm && format == ActivationFormat::Q8);
        step.pack_ktiles = step.pack_ktiles || (gemm && format == ActivationFormat::Q8K);
    }
    if ((!step.want_q8 && !step.want_q8k) || m_precision == ActivationPrecision::Float32)
        return;
    if (rows == 1) {
        m_next_chunk.store(0, std::memory_order_relaxed);
        run_step(step, 0, 1); // one row: not worth waking the pool
    } else {
        parallel(step);
    }
}

ErrorOr<void> Session::evaluate(u32 const* tokens, size_t count)
{
    if (count == 0)
        return Error::invalid("nothing to evaluate");
    if (count > m_context_length - m_position)
        return Error { ErrorCode::OutOfRange, "context length exceeded" };
    for (size_t i = 0; i < count; ++i) {
        if (tokens[i] >= m_model.config().n_vocab)
            return Error { ErrorCode::OutOfRange, "token id is outside the vocabulary" };
    }
    while (count > 0) {
        u32 batch = count > s_max_batch ? s_max_batch : static_cast<u32>(count);
        TRY(evaluate_batch(tokens, batch));
        tokens += batch;
        count -= batch;
    }
    return {};
}

static void apply_rope(float* head, float const* cos, float const* sin, u32 head_dim, RopeLayout layout)
{
    u32 half = head_dim / 2;
    for (u32 i = 0; i < half; ++i) {
        u32 a = layout == RopeLayout::Interleaved ? 2 * i : i;
        u32 b = layout == RopeLayout::Interleaved ? 2 * i + 1 : i + half;
        float x0 = head[a], x1 = head[b];
        head[a] = x0 * cos[i] - x1 * sin[i];
        head[b] = x0 * sin[i] + x1 * cos[i];
    }
}

ErrorOr<void> Session::evaluate_batch(u32 const* tokens, u32 batch)
{
    auto const& c = m_model.config();
    u32 const n_embd = c.n_embd, q_dim = c.q_dim(), kv_dim = c.kv_dim(), hd = c.head_dim;
    u32 const pos0 = m_position;

    // The KV cache storage was reserved up front; positions are written before they are read.
    size_t needed = size_t(c.n_layers) * m_context_length * kv_dim;
    if (m_key_cache.size() < needed) {
        TRY(m_key_cache.try_resize_uninitialized(needed));
        TRY(m_value_cache.try_resize_uninitialized(needed));
    }

    for (u32 b = 0; b < batch; ++b)
        TRY(m_model.embed(tokens[b], m_x.data() + size_t(b) * n_embd));

    for (u32 l = 0; l < c.n_layers; ++l) {
        auto const& layer = m_model.layer(l);

        // Attention: norm, Q/K/V in one dispatch.
        for (u32 b = 0; b < batch; ++b)
            rms_norm(m_xb.data() + size_t(b) * n_embd, m_x.data() + size_t(b) * n_embd, layer.attn_norm.data(), n_embd, c.rms_eps);
        Weight const* qkv[3] = { &layer.wq, &layer.wk, &layer.wv };
        prepare_activations(m_xb.data(), batch, n_embd, qkv, 3);
        Step step;
        step.kind = StepKind::Matmul;
        step.batch = batch;
        step.input = m_xb.data();
        step.targets[0] = { &layer.wq, m_q.data(), q_dim, false };
        step.targets[1] = { &layer.wk, m_k.data(), kv_dim, false };
        step.targets[2] = { &layer.wv, m_v.data(), kv_dim, false };
        step.target_count = 3;
        parallel(step);

        // RoPE on Q and K, then K and V into the cache.
        size_t layer_base = size_t(l) * m_context_length * kv_dim;
        for (u32 b = 0; b < batch; ++b) {
            u32 pos = pos0 + b;
            float const* cos = m_rope_cos.data() + size_t(pos) * (hd / 2);
            float const* sin = m_rope_sin.data() + size_t(pos) * (hd / 2);
            for (u32 h = 0; h < c.n_heads; ++h)
                apply_rope(m_q.data() + size_t(b) * q_dim + size_t(h) * hd, cos, sin, hd, c.rope_layout);
            for (u32 h = 0; h < c.n_kv_heads; ++h)
                apply_rope(m_k.data() + size_t(b) * kv_dim + size_t(h) * hd, cos, sin, hd, c.rope_layout);
            std::memcpy(m_key_cache.data() + layer_base + size_t(pos) * kv_dim, m_k.data() + size_t(b) * kv_dim, kv_dim * sizeof(float));
            std::memcpy(m_value_cache.data() + layer_base + size_t(pos) * kv_dim, m_v.data() + size_t(b) * kv_dim, kv_dim * sizeof(float));
        }

        Step attention;
        attention.kind = StepKind::Attention;
        attention.batch = batch;
        attention.layer = l;
        attention.position = pos0;
        parallel(attention);

        // Output projection, added to the residual stream.
        Weight const* wo[1] = { &layer.wo };
        prepare_activations(m_xb.data(), batch, q_dim, wo, 1);
        Step output;
        output.kind = StepKind::Matmul;
        output.batch = batch;
        output.input = m_xb.data();
        output.targets[0] = { &layer.wo, m_x.data(), n_embd, true };
        output.target_count = 1;
        parallel(output);

        // Feed-forward: norm, gate and up (fused with the activation), down.
        for (u32 b = 0; b < batch; ++b)
            rms_norm(m_xb.data() + size_t(b) * n_embd, m_x.data() + size_t(b) * n_embd, layer.ffn_norm.data(), n_embd, c.rms_eps);
        Weight const* gate_up[2] = { &layer.w_gate, &layer.w_up };
        prepare_activations(m_xb.data(), batch, n_embd, gate_up, 2);
        Step ffn;
        ffn.kind = StepKind::GateUp;
        ffn.batch = batch;
        ffn.input = m_xb.data();
        ffn.gate = &layer.w_gate;
        ffn.up = &layer.w_up;
        parallel(ffn);

        Weight const* down[1] = { &layer.w_down };
        prepare_activations(m_hb.data(), batch, c.n_ff, down, 1);
        Step ffn_down;
        ffn_down.kind = StepKind::Matmul;
        ffn_down.batch = batch;
        ffn_down.input = m_hb.data();
        ffn_down.targets[0] = { &layer.w_down, m_x.data(), n_embd, true };
        ffn_down.target_count = 1;
        parallel(ffn_down);
    }

    // Final norm and logits, for the last token only.
    float* last = m_xb.data();
    rms_norm(last, m_x.data() + size_t(batch - 1) * n_embd, m_model.output_norm().data(), n_embd, c.rms_eps);
    Weight const* out[1] = { &m_model.output() };
    prepare_activations(last, 1, n_embd, out, 1);
    Step logits;
    logits.kind = StepKind::Matmul;
    logits.batch = 1;
    logits.input = last;
    logits.targets[0] = { &m_model.output(), m_logits.data(), c.n_vocab, false };
    logits.target_count = 1;
    parallel(logits);

    m_position += batch;
    return {};
}

} // namespace aisos::engine
