#include "engine/generate/Generator.h"
#include "engine/tokenizer/StreamDecoder.h"

namespace aisos::engine {

char const* stop_reason_name(StopReason reason)
{
    switch (reason) {
    case StopReason::MaxTokens: return "max tokens";
    case StopReason::EndOfGeneration: return "end of generation";
    case StopReason::StopSequence: return "stop sequence";
    case StopReason::ContextFull: return "context full";
    case StopReason::Cancelled: return "cancelled";
    }
    return "?";
}

namespace {

// Holds back text that could still turn into a stop sequence.
class StopFilter {
public:
    StopFilter(std::string_view const* stops, size_t count)
        : m_stops(stops)
        , m_count(count)
    {
    }

    // Adds text; returns true when a stop sequence completed. `ready` is the
    // length of the held text that can be emitted now.
    ErrorOr<bool> add(std::string_view text, size_t& ready)
    {
        TRY(m_held.try_append(text.data(), text.size()));
        std::string_view held(m_held.data(), m_held.size());
        for (size_t i = 0; i < m_count; ++i) {
            if (m_stops[i].empty())
                continue;
            size_t at = held.find(m_stops[i]);
            if (at != std::string_view::npos) {
                ready = at;
                return true;
            }
        }
        // Keep the longest suffix that is a prefix of some stop sequence.
        size_t keep = 0;
        for (size_t i = 0; i < m_count; ++i) {
            auto stop = m_stops[i];
            for (size_t length = stop.size() > 1 ? stop.size() - 1 : 0; length > keep; --length) {
                if (length <= held.size() && held.substr(held.size() - length) == stop.substr(0, length)) {
                    keep = length;
                    break;
                }
            }
        }
        // Never cut a UTF-8 character: move the cut back to a character start.
        size_t cut = held.size() - keep;
        while (cut > 0 && cut < held.size() && (static_cast<u8>(held[cut]) & 0xC0) == 0x80)
            --cut;
        ready = cut;
        return false;
    }

    std::string_view held() const { return { m_held.data(), m_held.size() }; }
    void consume(size_t count)
    {
        size_t rest = m_held.size() - count;
        for (size_t i = 0; i < rest; ++i)
            m_held[i] = m_held[count + i];
        m_held.shrink_size(rest);
    }

private:
    std::string_view const* m_stops;
    size_t m_count;
    Vector<char> m_held;
};

} // namespace

ErrorOr<GenerationResult> generate(Session& session, Tokenizer const& tokenizer, u32 const* prompt, size_t prompt_count, GenerationOptions const& options, GenerationCallbacks const& callbacks)
{
    GenerationResult result;
    if (prompt_count == 0)
        return Error::invalid("the prompt is empty");
    auto sampler = TRY(Sampler::create(options.sampling, session.vocab_size()));
    Vector<u32> history;
    TRY(history.try_append(prompt, prompt_count));
    StreamDecoder decoder(tokenizer);
    StopFilter stop_filter(options.stop_sequences, options.stop_sequence_count);
    Vector<char> text;

    auto cancelled = [&] { return options.cancel && options.cancel->load(std::memory_order_relaxed); };
    bool stop_requested = false;
    auto emit = [&](std::string_view chunk) -> ErrorOr<bool> {
        size_t ready = 0;
        bool hit = TRY(stop_filter.add(chunk, ready));
        if (ready > 0 && callbacks.on_text && !callbacks.on_text(callbacks.context, stop_filter.held().substr(0, ready)))
            stop_requested = true;
        stop_filter.consume(ready);
        return hit;
    };

    u64 start = platform_monotonic_ns();
    result.prompt_tokens = static_cast<u32>(prompt_count);
    if (auto evaluated = session.evaluate(prompt, prompt_count); evaluated.is_error()) {
        if (evaluated.error().code() == ErrorCode::OutOfRange && prompt_count > session.context_length() - session.position())
            return Error { ErrorCode::OutOfRange, "the prompt does not fit in the context length" };
        return evaluated.error();
    }
    u64 decode_start = platform_monotonic_ns();
    result.prefill_ns = decode_start - start;

    for (u32 step = 0; step < options.max_new_tokens; ++step) {
        if (cancelled()) {
            result.reason = StopReason::Cancelled;
            break;
        }
        if (callbacks.on_logits)
            callbacks.on_logits(callbacks.context, session.logits(), session.vocab_size());
        u32 token = TRY(sampler.sample(session.logits(), history.data(), history.size()));
        if (!options.ignore_end_of_generation && tokenizer.is_end_of_generation(token)) {
            result.reason = StopReason::EndOfGeneration;
            break;
        }
        ++result.generated_tokens;
        TRY(history.try_append(token));
        if (callbacks.on_token)
            callbacks.on_token(callbacks.context, token);
        text.clear();
        TRY(decoder.push(token, text));
        if (TRY(emit(std::string_view(text.data(), text.size())))) {
            result.reason = StopReason::StopSequence;
            break;
        }
        if (stop_requested) {
            result.reason = StopReason::Cancelled;
            break;
        }
        if (step + 1 == options.max_new_tokens)
            break;
        if (session.position() >= session.context_length()) {
            result.reason = StopReason::ContextFull;
            break;
        }
        TRY(session.evaluate(&token, 1));
        ++result.decode_evaluations;
    }
    if (result.reason != StopReason::StopSequence) {
        text.clear();
        TRY(decoder.flush(text));
        size_t ready = 0;
        bool hit = TRY(stop_filter.add(std::string_view(text.data(), text.size()), ready));
        if (hit)
            result.reason = StopReason::StopSequence;
        else
            ready = stop_filter.held().size();
        if (ready > 0 && callbacks.on_text)
            callbacks.on_text(callbacks.context, stop_filter.held().substr(0, ready));
    }
    result.decode_ns = platform_monotonic_ns() - decode_start;
    return result;
}

} // namespace aisos::engine
