#pragma once

// Chat prompt formats, chosen from the model's chat template text
// (tokenizer.chat_template / tokenizer_config.json) or its architecture.
// Hard-coded renderers of the three families, not a Jinja interpreter.

#include "engine/base/Arena.h"
#include "engine/model/ModelConfig.h"

#include <optional>
#include <string_view>

namespace aisos::engine {

class Tokenizer;

enum class ChatFormat {
    None,
    ChatMl, // <|im_start|>role\n...<|im_end|>\n (SmolLM2, Qwen)
    Gemma,  // <start_of_turn>user\n...<end_of_turn>\n<start_of_turn>model\n
    Llama3, // <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
};

struct ChatMessage {
    std::string_view role;
    std::string_view content;
};

class ChatTemplate {
public:
    static ErrorOr<ChatTemplate> choose(std::optional<std::string_view> template_text, Architecture, Tokenizer const&);

    ChatFormat format() const { return m_format; }
    std::string_view default_system_prompt() const { return m_default_system; }
    char const* name() const;

    // The text (special tokens written out) the model sees for these messages.
    ErrorOr<void> render(ChatMessage const* messages, size_t count, bool add_generation_prompt, Vector<char>& out) const;

private:
    ChatFormat m_format { ChatFormat::None };
    Arena m_storage;
    std::string_view m_default_system;
    std::string_view m_bos_text;
};

} // namespace aisos::engine
