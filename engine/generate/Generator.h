#pragma once

// The generation loop: prefill the prompt in batches, then sample and
// decode token by token until max tokens, an end-of-generation token, a
// stop sequence, the context limit, or cancellation. Text is streamed
// through a callback in chunks that are always whole UTF-8 characters and
// never contain (part of) a stop sequence.

#include "engine/generate/Sampler.h"
#include "engine/model/Session.h"

#include <atomic>
#include <string_view>

namespace aisos::engine {

enum class StopReason {
    MaxTokens,
    EndOfGeneration,
    StopSequence,
    ContextFull,
    Cancelled,
};
char const* stop_reason_name(StopReason);

struct GenerationCallbacks {
    void* context { nullptr };
    // A piece of generated text; return false to stop generating.
    bool (*on_text)(void* context, std::string_view text) { nullptr };
    // Every sampled token id (including one that ends generation, excluding EOS).
    void (*on_token)(void* context, u32 token) { nullptr };
    // The logits the next token is sampled from (n_vocab floats).
    void (*on_logits)(void* context, float const* logits, u32 count) { nullptr };
};

struct GenerationOptions {
    u32 max_new_tokens { 128 };
    SamplingParams sampling;
    std::string_view const* stop_sequences { nullptr };
    size_t stop_sequence_count { 0 };
    std::atomic<bool> const* cancel { nullptr };
    // Sample on past end-of-generation tokens (benchmarks that must decode max_new_tokens).
    bool ignore_end_of_generation { false };
};

struct GenerationResult {
    u32 prompt_tokens { 0 };
    u32 generated_tokens { 0 };
    u32 decode_evaluations { 0 };
    u64 prefill_ns { 0 };
    u64 decode_ns { 0 };
    StopReason reason { StopReason::MaxTokens };
};

ErrorOr<GenerationResult> generate(Session&, Tokenizer const&, u32 const* prompt, size_t prompt_count, GenerationOptions const&, GenerationCallbacks const&);

} // namespace aisos::engine
