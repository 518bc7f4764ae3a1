#include "engine/generate/Sampler.h"

#include <algorithm>
#include <cmath>

namespace aisos::engine {

ErrorOr<Sampler> Sampler::create(SamplingParams const& params, u32 vocab_size)
{
    if (!(params.temperature >= 0) || !(params.top_p > 0 && params.top_p <= 1) || !(params.min_p >= 0 && params.min_p <= 1) || !(params.repeat_penalty > 0))
        return Error::invalid("sampling parameters out of range (temp >= 0, 0 < top-p <= 1, 0 <= min-p <= 1, repeat-penalty > 0)");
    if (vocab_size == 0)
        return Error::invalid("empty vocabulary");
    Sampler sampler(params);
    sampler.m_vocab_size = vocab_size;
    TRY(sampler.m_logits.try_resize(vocab_size));
    TRY(sampler.m_candidates.try_reserve(vocab_size));
    return sampler;
}

ErrorOr<u32> Sampler::sample(float const* input, u32 const* recent, size_t recent_count)
{
    u32 n = m_vocab_size;
    float* logits = m_logits.data();
    std::memcpy(logits, input, n * sizeof(float));

    if (m_params.repeat_penalty != 1.0f && m_params.repeat_last_n > 0) {
        size_t start = recent_count > m_params.repeat_last_n ? recent_count - m_params.repeat_last_n : 0;
        for (size_t i = start; i < recent_count; ++i) {
            u32 id = recent[i];
            if (id >= n)
                continue;
            // Once per distinct token: skip if it appeared earlier in the window.
            bool seen = false;
            for (size_t j = start; j < i && !seen; ++j)
                seen = recent[j] == id;
            if (seen)
                continue;
            logits[id] = logits[id] > 0 ? logits[id] / m_params.repeat_penalty : logits[id] * m_params.repeat_penalty;
        }
    }

    u32 best = 0;
    for (u32 i = 1; i < n; ++i) {
        if (logits[i] > logits[best])
            best = i;
    }
    if (m_params.temperature == 0 || m_params.top_k == 1)
        return best;

    // min-p in logit space: p_i / p_max >= min_p  <=>  l_i - l_max >= log(min_p).
    float floor = m_params.min_p > 0 ? logits[best] + std::log(m_params.min_p) : -INFINITY;
    m_candidates.clear();
    for (u32 i = 0; i < n; ++i) {
        if (logits[i] >= floor && std::isfinite(logits[i]))
            MUST(m_candidates.try_append({ logits[i], i })); // capacity reserved in create()
    }
    if (m_candidates.is_empty())
        return best;
    auto by_logit = [](Candidate const& a, Candidate const& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); };
    size_t keep = m_candidates.size();
    if (m_params.top_k > 0 && m_params.top_k < keep) {
        std::partial_sort(m_candidates.begin(), m_candidates.begin() + m_params.top_k, m_candidates.end(), by_logit);
        keep = m_params.top_k;
    } else {
        std::sort(m_candidates.begin(), m_candidates.end(), by_logit);
    }

    // top-p over the softmax of the untempered logits.
    if (m_params.top_p < 1.0f) {
        double total = 0;
        for (size_t i = 0; i < keep; ++i)
            total += std::exp(static_cast<double>(m_candidates[i].logit - m_candidates[0].logit));
        double cumulative = 0;
        for (size_t i = 0; i < keep; ++i) {
            cumulative += std::exp(static_cast<double>(m_candidates[i].logit - m_candidates[0].logit)) / total;
            if (cumulative >= m_params.top_p) {
                keep = i + 1;
                break;
            }
        }
    }

    double total = 0;
    for (size_t i = 0; i < keep; ++i)
        total += std::exp(static_cast<double>(m_candidates[i].logit - m_candidates[0].logit) / m_params.temperature);
    double target = m_random.next_unit() * total;
    double cumulative = 0;
    for (size_t i = 0; i < keep; ++i) {
        cumulative += std::exp(static_cast<double>(m_candidates[i].logit - m_candidates[0].logit) / m_params.temperature);
        if (target < cumulative)
            return m_candidates[i].id;
    }
    return m_candidates[keep - 1].id;
}

} // namespace aisos::engine
