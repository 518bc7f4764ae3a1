#pragma once

// Picks the next token from logits: repetition penalty, then greedy
// (temperature 0) or top-k, top-p and min-p filtering, temperature and a
// seeded draw.

#include "engine/base/Vector.h"
#include "engine/generate/Random.h"

namespace aisos::engine {

struct SamplingParams {
    float temperature { 0.7f }; // 0 = greedy
    u32 top_k { 40 };           // 0 = off
    float top_p { 0.95f };      // 1 = off
    float min_p { 0.05f };      // 0 = off
    float repeat_penalty { 1.0f }; // 1 = off
    u32 repeat_last_n { 64 };
    u64 seed { 0 };
};

class Sampler {
public:
    static ErrorOr<Sampler> create(SamplingParams const&, u32 vocab_size);

    // recent: the tokens the repetition penalty looks at (prompt and output).
    ErrorOr<u32> sample(float const* logits, u32 const* recent, size_t recent_count);

private:
    Sampler(SamplingParams const& params)
        : m_params(params)
        , m_random(params.seed)
    {
    }

    struct Candidate {
        float logit;
        u32 id;
    };

    SamplingParams m_params;
    Random m_random;
    u32 m_vocab_size { 0 };
    Vector<float> m_logits;
    Vector<Candidate> m_candidates;
};

} // namespace aisos::engine
