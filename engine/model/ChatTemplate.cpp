#include "engine/model/ChatTemplate.h"
#include "engine/tokenizer/Tokenizer.h"

namespace aisos::engine {

static bool contains(std::string_view haystack, std::string_view needle) { return haystack.find(needle) != std::string_view::npos; }

static std::string_view trim(std::string_view text)
{
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    while (!text.empty() && is_space(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_space(text.back()))
        text.remove_suffix(1);
    return text;
}

ErrorOr<ChatTemplate> ChatTemplate::choose(std::optional<std::string_view> text, Architecture architecture, Tokenizer const& tokenizer)
{
    ChatTemplate result;
    if (text && contains(*text, "<|im_start|>"))
        result.m_format = ChatFormat::ChatMl;
    else if (text && contains(*text, "<start_of_turn>"))
        result.m_format = ChatFormat::Gemma;
    else if (text && contains(*text, "<|start_header_id|>"))
        result.m_format = ChatFormat::Llama3;
    else if (architecture == Architecture::Gemma && tokenizer.find_token("<start_of_turn>"))
        result.m_format = ChatFormat::Gemma;
    else if (tokenizer.find_token("<|im_start|>"))
        result.m_format = ChatFormat::ChatMl;
    else if (tokenizer.find_token("<|start_header_id|>"))
        result.m_format = ChatFormat::Llama3;

    // SmolLM2-style ChatML templates insert a default system message when
    // the conversation has none; keep its exact text.
    if (text && result.m_format == ChatFormat::ChatMl && contains(*text, "messages[0]['role'] != 'system'")) {
        constexpr std::string_view marker = "<|im_start|>system\n";
        size_t start = text->find(marker);
        if (start != std::string_view::npos) {
            start += marker.size();
            size_t end = text->find("<|im_end|>", start);
            if (end != std::string_view::npos && !contains(text->substr(start, end - start), "{"))
                result.m_default_system = TRY(result.m_storage.copy(text->substr(start, end - start)));
        }
    }
    if (auto bos = tokenizer.bos(); bos && (result.m_format == ChatFormat::Gemma || result.m_format == ChatFormat::Llama3))
        result.m_bos_text = TRY(result.m_storage.copy(tokenizer.token_text(*bos)));
    return result;
}

char const* ChatTemplate::name() const
{
    switch (m_format) {
    case ChatFormat::None: return "none";
    case ChatFormat::ChatMl: return "chatml";
    case ChatFormat::Gemma: return "gemma";
    case ChatFormat::Llama3: return "llama3";
    }
    return "?";
}

ErrorOr<void> ChatTemplate::render(ChatMessage const* messages, size_t count, bool add_generation_prompt, Vector<char>& out) const
{
    auto put = [&](std::string_view text) { return out.try_append(text.data(), text.size()); };
    switch (m_format) {
    case ChatFormat::None:
        return Error::unsupported("this model has no known chat template");
    case ChatFormat::ChatMl:
        if (!m_default_system.empty() && (count == 0 || messages[0].role != "system")) {
            TRY(put("<|im_start|>system\n"));
            TRY(put(m_default_system));
            TRY(put("<|im_end|>\n"));
        }
        for (size_t i = 0; i < count; ++i) {
            TRY(put("<|im_start|>"));
            TRY(put(messages[i].role));
            TRY(put("\n"));
            TRY(put(messages[i].content));
            TRY(put("<|im_end|>\n"));
        }
        if (add_generation_prompt)
            TRY(put("<|im_start|>assistant\n"));
        return {};
    case ChatFormat::Gemma: {
        TRY(put(m_bos_text));
        std::string_view system;
        for (size_t i = 0; i < count; ++i) {
            if (messages[i].role == "system") {
                system = trim(messages[i].content);
                continue;
            }
            TRY(put("<start_of_turn>"));
            TRY(put(messages[i].role == "assistant" ? std::string_view("model") : messages[i].role));
            TRY(put("\n"));
            if (!system.empty()) {
                // Gemma has no system role: it is folded into the next user turn.
                TRY(put(system));
                TRY(put("\n\n"));
                system = {};
            }
            TRY(put(trim(messages[i].content)));
            TRY(put("<end_of_turn>\n"));
        }
        if (add_generation_prompt)
            TRY(put("<start_of_turn>model\n"));
        return {};
    }
    case ChatFormat::Llama3:
        TRY(put(m_bos_text));
        for (size_t i = 0; i < count; ++i) {
            TRY(put("<|start_header_id|>"));
            TRY(put(messages[i].role));
            TRY(put("<|end_header_id|>\n\n"));
            TRY(put(trim(messages[i].content)));
            TRY(put("<|eot_id|>"));
        }
        if (add_generation_prompt)
            TRY(put("<|start_header_id|>assistant<|end_header_id|>\n\n"));
        return {};
    }
    return {};
}

} // namespace aisos::engine
