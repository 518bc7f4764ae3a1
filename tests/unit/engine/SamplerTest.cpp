#include "engine/generate/Sampler.h"

#include <gtest/gtest.h>
#include <vector>

using namespace aisos;
using namespace aisos::engine;

static std::vector<float> logits_ramp(u32 n)
{
    std::vector<float> l(n);
    for (u32 i = 0; i < n; ++i)
        l[i] = static_cast<float>(i % 7) * 0.5f - static_cast<float>(i) * 0.01f;
    return l;
}

TEST(Sampler, GreedyIsArgmaxWithLowestIndexOnTies)
{
    SamplingParams p;
    p.temperature = 0;
    auto s = MUST(Sampler::create(p, 5));
    float logits[] = { 1, 3, 3, 2, -1 };
    EXPECT_EQ(MUST(s.sample(logits, nullptr, 0)), 1u);
}

TEST(Sampler, SameSeedSameSequence)
{
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0;
    p.seed = 1234;
    auto logits = logits_ramp(100);
    auto a = MUST(Sampler::create(p, 100));
    auto b = MUST(Sampler::create(p, 100));
    std::vector<u32> sa, sb;
    for (int i = 0; i < 200; ++i) {
        sa.push_back(MUST(a.sample(logits.data(), nullptr, 0)));
        sb.push_back(MUST(b.sample(logits.data(), nullptr, 0)));
    }
    EXPECT_EQ(sa, sb);
    p.seed = 99;
    auto c = MUST(Sampler::create(p, 100));
    std::vector<u32> sc;
    for (int i = 0; i < 200; ++i)
        sc.push_back(MUST(c.sample(logits.data(), nullptr, 0)));
    EXPECT_NE(sa, sc);
    // Random draws spread over more than one token.
    std::sort(sa.begin(), sa.end());
    EXPECT_GT(std::unique(sa.begin(), sa.end()) - sa.begin(), 3);
}

TEST(Sampler, TopKOneAndFiltersRestrictTheChoice)
{
    auto logits = logits_ramp(50);
    u32 best = 0;
    for (u32 i = 1; i < 50; ++i)
        best = logits[i] > logits[best] ? i : best;
    SamplingParams p;
    p.temperature = 5.0f;
    p.top_k = 1;
    auto s = MUST(Sampler::create(p, 50));
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(MUST(s.sample(logits.data(), nullptr, 0)), best);

    // min-p 1.0 keeps only tokens as likely as the best.
    p.top_k = 0;
    p.min_p = 1.0f;
    auto m = MUST(Sampler::create(p, 50));
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(logits[MUST(m.sample(logits.data(), nullptr, 0))], logits[best]);

    // A tiny top-p keeps only the most likely token.
    p.min_p = 0;
    p.top_p = 1e-6f;
    auto t = MUST(Sampler::create(p, 50));
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(MUST(t.sample(logits.data(), nullptr, 0)), best);
}

TEST(Sampler, RepetitionPenaltyChangesGreedyChoice)
{
    SamplingParams p;
    p.temperature = 0;
    p.repeat_penalty = 2.0f;
    auto s = MUST(Sampler::create(p, 3));
    float logits[] = { 1.0f, 1.5f, 0.2f };
    u32 recent[] = { 1 };
    EXPECT_EQ(MUST(s.sample(logits, recent, 1)), 0u); // 1.5 / 2 < 1.0
    EXPECT_EQ(MUST(s.sample(logits, nullptr, 0)), 1u);
}

TEST(Sampler, RejectsBadParameters)
{
    SamplingParams p;
    p.top_p = 0;
    EXPECT_TRUE(Sampler::create(p, 10).is_error());
    p = {};
    p.temperature = -1;
    EXPECT_TRUE(Sampler::create(p, 10).is_error());
    p = {};
    EXPECT_TRUE(Sampler::create(p, 0).is_error());
}
