#pragma once

// Hyperparameters of a loaded model, from GGUF metadata or HF config.json.

#include "engine/base/Types.h"

namespace aisos::engine {

enum class Architecture {
    Llama, // SmolLM2, TinyLlama, Llama-2/3
    Gemma,
};

// Which pairs of a head's dimensions RoPE rotates together.
enum class RopeLayout {
    Interleaved, // (2i, 2i+1): llama GGUF after llama.cpp's Q/K permutation
    NeoX,        // (i, i + d/2): HF safetensors ("rotate_half"), Gemma GGUF
};

enum class FeedForwardActivation {
    Silu,     // SwiGLU
    GeluTanh, // GeGLU with the tanh approximation
};

enum class ModelSource {
    Gguf,
    Safetensors,
};

struct ModelConfig {
    Architecture architecture { Architecture::Llama };
    ModelSource source { ModelSource::Gguf };
    u32 n_layers { 0 };
    u32 n_embd { 0 };
    u32 n_heads { 0 };
    u32 n_kv_heads { 0 };
    u32 head_dim { 0 };
    u32 n_ff { 0 };
    u32 n_vocab { 0 };
    u32 context_length { 0 };
    float rms_eps { 1e-5f };
    float rope_theta { 10000.0f };
    RopeLayout rope_layout { RopeLayout::Interleaved };
    FeedForwardActivation activation { FeedForwardActivation::Silu };
    // RMSNorm multiplies by (1 + w): Gemma from safetensors. GGUF bakes the +1 in.
    bool norm_adds_one { false };
    float embedding_scale { 1.0f }; // sqrt(n_embd) for Gemma
    bool tied_embeddings { false };

    u32 q_dim() const { return n_heads * head_dim; }
    u32 kv_dim() const { return n_kv_heads * head_dim; }
};

char const* architecture_name(Architecture);

} // namespace aisos::engine
