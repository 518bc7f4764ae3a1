// See Api.h. Nothing here touches the kernel: the module and the host unit
// tests (tests/unit/llm) share this file.

#include "rpk/llm/Api.h"

namespace aisos::llm {

using engine::JsonDocument;
using engine::JsonType;
using engine::JsonValue;

void ApiError::set(u32 code, std::string_view first, std::string_view second, std::string_view third)
{
    status = code;
    size_t length = 0;
    for (auto part : { first, second, third }) {
        for (char c : part) {
            if (length + 1 >= sizeof(message))
                break;
            message[length++] = c;
        }
    }
    message[length] = 0;
}

namespace {

// Generation also ends when the context is full (finish_reason "length").
constexpr u32 max_tokens_limit = 65536;

bool parse_object(std::string_view body, GenerationRequest& request, ApiError& error)
{
    auto parsed = JsonDocument::parse(body);
    if (parsed.is_error()) {
        error.set(400, "invalid JSON: ", parsed.error().reason() ? parsed.error().reason() : "malformed");
        return false;
    }
    request.document = parsed.release_value();
    if (!request.document.root().is_object()) {
        error.set(400, "the body must be a JSON object");
        return false;
    }
    return true;
}

// The options every endpoint shares, from object `o`.
bool parse_options(JsonDocument const& document, JsonValue const& o, GenerationRequest& request, ApiError& error)
{
    if (auto const* v = document.get(o, "max_tokens"); v && !v->is_null()) {
        if (!v->is_number() || !v->is_integer || v->integer < 1 || v->integer > max_tokens_limit) {
            error.set(400, "\"max_tokens\" must be an integer from 1 to 65536");
            return false;
        }
        request.max_tokens = static_cast<u32>(v->integer);
    }
    if (auto const* v = document.get(o, "temperature"); v && !v->is_null()) {
        if (!v->is_number() || !(v->number >= 0 && v->number <= 2)) {
            error.set(400, "\"temperature\" must be a number from 0 to 2");
            return false;
        }
        request.sampling.temperature = static_cast<float>(v->number);
    }
    if (auto const* v = document.get(o, "top_p"); v && !v->is_null()) {
        if (!v->is_number() || !(v->number > 0 && v->number <= 1)) {
            error.set(400, "\"top_p\" must be a number above 0 and at most 1");
            return false;
        }
        request.sampling.top_p = static_cast<float>(v->number);
    }
    if (auto const* v = document.get(o, "top_k"); v && !v->is_null()) {
        if (!v->is_number() || !v->is_integer || v->integer < 0 || v->integer > (1 << 30)) {
            error.set(400, "\"top_k\" must be a non-negative integer");
            return false;
        }
        request.sampling.top_k = static_cast<u32>(v->integer);
    }
    if (auto const* v = document.get(o, "seed"); v && !v->is_null()) {
        if (!v->is_number() || !v->is_integer || v->integer < 0) {
            error.set(400, "\"seed\" must be a non-negative integer");
            return false;
        }
        request.sampling.seed = static_cast<u64>(v->integer);
        request.seed_given = true;
    }
    if (auto const* v = document.get(o, "model"); v && !v->is_null()) {
        if (!v->is_string() || v->string.size() > 255 || v->string.find('/') != std::string_view::npos) {
            error.set(400, "\"model\" must be the name of a model under /fs/models");
            return false;
        }
        request.model = v->string;
    }
    if (auto const* v = document.get(o, "stream"); v && !v->is_null()) {
        if (!v->is_bool()) {
            error.set(400, "\"stream\" must be true or false");
            return false;
        }
        request.stream = v->boolean;
    }
    if (auto const* v = document.get(o, "stop"); v && !v->is_null()) {
        auto add = [&](JsonValue const& s) {
            if (!s.is_string() || s.string.empty() || request.stop_count == max_stop_sequences)
                return false;
            request.stops[request.stop_count++] = s.string;
            return true;
        };
        bool ok = true;
        if (v->is_string())
            ok = add(*v);
        else if (v->is_array())
            for (u32 i = 0; ok && i < v->count; ++i)
                ok = add(document.element(*v, i));
        else
            ok = false;
        if (!ok) {
            error.set(400, "\"stop\" must be a non-empty string or an array of up to 4 of them");
            return false;
        }
    }
    return true;
}

bool parse_messages(JsonDocument const& document, JsonValue const* messages, GenerationRequest& request, ApiError& error)
{
    if (!messages || !messages->is_array() || messages->count == 0) {
        error.set(400, "\"messages\" must be a non-empty array of {\"role\", \"content\"}");
        return false;
    }
    for (u32 i = 0; i < messages->count; ++i) {
        auto const& m = document.element(*messages, i);
        auto role = document.get_string(m, "role");
        auto content = document.get_string(m, "content");
        if (!role || !content) {
            error.set(400, "every message needs a string \"role\" and a string \"content\"");
            return false;
        }
        std::string_view r = *role;
        if (r == "developer")
            r = "system";
        if (r != "system" && r != "user" && r != "assistant") {
            error.set(400, "a message role must be \"system\", \"user\" or \"assistant\"");
            return false;
        }
        if (request.messages.try_append(engine::ChatMessage { r, *content }).is_error()) {
            error.set(503, "out of memory");
            return false;
        }
    }
    return true;
}

} // namespace

bool parse_ai(std::string_view content_type, std::string_view body, GenerationRequest& request, ApiError& error)
{
    request.endpoint = Endpoint::Ai;
    request.use_chat_template = true;
    auto base = content_type.substr(0, content_type.find(';'));
    while (!base.empty() && base.back() == ' ')
        base.remove_suffix(1);
    bool json = base == "application/json";
    if (json) {
        if (!parse_object(body, request, error))
            return false;
        auto const& root = request.document.root();
        auto prompt = request.document.get_string(root, "prompt");
        if (!prompt || prompt->empty()) {
            error.set(400, "\"prompt\" must be a non-empty string");
            return false;
        }
        if (!parse_options(request.document, root, request, error))
            return false;
        request.prompt = *prompt;
    } else {
        if (!base.empty() && base != "text/plain" && base != "application/x-www-form-urlencoded") {
            error.set(415, "POST /ai takes text/plain or application/json");
            return false;
        }
        for (size_t i = 0; i < body.size();) {
            size_t n = engine::utf8_sequence_length(body.substr(i));
            if (n == 0) {
                error.set(400, "the prompt is not valid UTF-8");
                return false;
            }
            i += n;
        }
        request.prompt = body;
    }
    while (!request.prompt.empty() && (request.prompt.back() == '\n' || request.prompt.back() == '\r'))
        request.prompt.remove_suffix(1);
    if (request.prompt.empty()) {
        error.set(400, "the prompt is empty: send it as the body (curl -d \"What is Rust?\")");
        return false;
    }
    if (request.messages.try_append(engine::ChatMessage { "user", request.prompt }).is_error()) {
        error.set(503, "out of memory");
        return false;
    }
    return true;
}

bool parse_chat_completions(std::string_view body, GenerationRequest& request, ApiError& error)
{
    request.endpoint = Endpoint::ChatCompletions;
    request.use_chat_template = true;
    if (!parse_object(body, request, error))
        return false;
    auto const& root = request.document.root();
    if (!parse_options(request.document, root, request, error))
        return false;
    if (auto const* v = request.document.get(root, "max_completion_tokens"); v && !v->is_null()) {
        if (!v->is_number() || !v->is_integer || v->integer < 1 || v->integer > max_tokens_limit) {
            error.set(400, "\"max_completion_tokens\" must be an integer from 1 to 65536");
            return false;
        }
        request.max_tokens = static_cast<u32>(v->integer);
    }
    return parse_messages(request.document, request.document.get(root, "messages"), request, error);
}

bool parse_completions(std::string_view body, GenerationRequest& request, ApiError& error)
{
    request.endpoint = Endpoint::Completions;
    request.use_chat_template = false;
    if (!parse_object(body, request, error))
        return false;
    auto const& root = request.document.root();
    if (!parse_options(request.document, root, request, error))
        return false;
    auto const* prompt = request.document.get(root, "prompt");
    if (prompt && prompt->is_array() && prompt->count == 1)
        prompt = &request.document.element(*prompt, 0);
    if (!prompt || !prompt->is_string() || prompt->string.empty()) {
        error.set(400, "\"prompt\" must be a non-empty string");
        return false;
    }
    request.prompt = prompt->string;
    return true;
}

bool parse_websocket_message(std::string_view body, WebSocketMessageType& type, GenerationRequest& request, ApiError& error)
{
    request.endpoint = Endpoint::WebSocketChat;
    request.use_chat_template = true;
    request.stream = true;
    if (!parse_object(body, request, error))
        return false;
    auto const& root = request.document.root();
    auto kind = request.document.get_string(root, "type");
    if (kind && *kind == "stop") {
        type = WebSocketMessageType::Stop;
        return true;
    }
    if (!kind || *kind != "chat") {
        error.set(400, "\"type\" must be \"chat\" or \"stop\"");
        return false;
    }
    type = WebSocketMessageType::Chat;
    if (auto const* options = request.document.get(root, "options"); options && !options->is_null()) {
        if (!options->is_object()) {
            error.set(400, "\"options\" must be an object");
            return false;
        }
        if (!parse_options(request.document, *options, request, error))
            return false;
    }
    if (auto model = request.document.get_string(root, "model"))
        request.model = *model;
    request.stream = true;
    return parse_messages(request.document, request.document.get(root, "messages"), request, error);
}

ErrorOr<void> Text::append(std::string_view text)
{
    return m_data.try_append(text.data(), text.size());
}

ErrorOr<void> Text::append_number(u64 number)
{
    char digits[24];
    size_t n = sizeof(digits);
    do {
        digits[--n] = static_cast<char>('0' + number % 10);
        number /= 10;
    } while (number);
    return append({ digits + n, sizeof(digits) - n });
}

ErrorOr<void> Text::append_json_string(std::string_view text)
{
    static char const hex[] = "0123456789abcdef";
    TRY(append("\""));
    size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            char escaped[2] = { '\\', static_cast<char>(c) };
            TRY(append({ escaped, 2 }));
            ++i;
        } else if (c < 0x20 || c == 0x7f) {
            if (c == '\n')
                TRY(append("\\n"));
            else if (c == '\r')
                TRY(append("\\r"));
            else if (c == '\t')
                TRY(append("\\t"));
            else {
                char escaped[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
                TRY(append({ escaped, 6 }));
            }
            ++i;
        } else if (c < 0x80) {
            TRY(append({ text.data() + i, 1 }));
            ++i;
        } else {
            size_t n = engine::utf8_sequence_length(text.substr(i));
            if (n == 0) {
                TRY(append("\xef\xbf\xbd"));
                ++i;
            } else {
                TRY(append(text.substr(i, n)));
                i += n;
            }
        }
    }
    return append("\"");
}

char const* finish_reason(engine::StopReason reason)
{
    switch (reason) {
    case engine::StopReason::MaxTokens:
    case engine::StopReason::ContextFull:
        return "length";
    case engine::StopReason::EndOfGeneration:
    case engine::StopReason::StopSequence:
    case engine::StopReason::Cancelled:
        return "stop";
    }
    return "stop";
}

namespace {

ErrorOr<void> append_usage(Text& out, Usage usage)
{
    TRY(out.append("\"usage\":{\"prompt_tokens\":"));
    TRY(out.append_number(usage.prompt_tokens));
    TRY(out.append(",\"completion_tokens\":"));
    TRY(out.append_number(usage.completion_tokens));
    TRY(out.append(",\"total_tokens\":"));
    TRY(out.append_number(u64(usage.prompt_tokens) + usage.completion_tokens));
    return out.append("}");
}

ErrorOr<void> append_head(Text& out, std::string_view id, char const* object, u64 created, std::string_view model)
{
    TRY(out.append("{\"id\":"));
    TRY(out.append_json_string(id));
    TRY(out.append(",\"object\":\""));
    TRY(out.append(object));
    TRY(out.append("\",\"created\":"));
    TRY(out.append_number(created));
    TRY(out.append(",\"model\":"));
    TRY(out.append_json_string(model));
    return out.append(",\"system_fingerprint\":\"aisos\",\"choices\":[{\"index\":0,");
}

ErrorOr<void> append_finish(Text& out, char const* finish)
{
    TRY(out.append("\"finish_reason\":"));
    if (!finish)
        return out.append("null");
    TRY(out.append("\""));
    TRY(out.append(finish));
    return out.append("\"");
}

} // namespace

ErrorOr<void> format_error(Text& out, u32 status, std::string_view message)
{
    TRY(out.append("{\"error\":{\"code\":"));
    TRY(out.append_number(status));
    TRY(out.append(",\"message\":"));
    TRY(out.append_json_string(message));
    return out.append("}}");
}

ErrorOr<void> format_chat_completion(Text& out, std::string_view id, u64 created, std::string_view model, std::string_view content, char const* finish, Usage usage)
{
    TRY(append_head(out, id, "chat.completion", created, model));
    TRY(out.append("\"message\":{\"role\":\"assistant\",\"content\":"));
    TRY(out.append_json_string(content));
    TRY(out.append("},\"logprobs\":null,"));
    TRY(append_finish(out, finish));
    TRY(out.append("}],"));
    TRY(append_usage(out, usage));
    return out.append("}");
}

ErrorOr<void> format_completion(Text& out, std::string_view id, u64 created, std::string_view model, std::string_view text, char const* finish, Usage usage)
{
    TRY(append_head(out, id, "text_completion", created, model));
    TRY(out.append("\"text\":"));
    TRY(out.append_json_string(text));
    TRY(out.append(",\"logprobs\":null,"));
    TRY(append_finish(out, finish));
    TRY(out.append("}],"));
    TRY(append_usage(out, usage));
    return out.append("}");
}

ErrorOr<void> format_chat_chunk(Text& out, std::string_view id, u64 created, std::string_view model, ChunkKind kind, std::string_view content, char const* finish)
{
    TRY(out.append("data: "));
    TRY(append_head(out, id, "chat.completion.chunk", created, model));
    TRY(out.append("\"delta\":{"));
    if (kind == ChunkKind::First)
        TRY(out.append("\"role\":\"assistant\",\"content\":\"\""));
    else if (kind == ChunkKind::Content) {
        TRY(out.append("\"content\":"));
        TRY(out.append_json_string(content));
    }
    TRY(out.append("},\"logprobs\":null,"));
    TRY(append_finish(out, kind == ChunkKind::Last ? finish : nullptr));
    return out.append("}]}\n\n");
}

ErrorOr<void> format_completion_chunk(Text& out, std::string_view id, u64 created, std::string_view model, std::string_view text, char const* finish)
{
    TRY(out.append("data: "));
    TRY(append_head(out, id, "text_completion", created, model));
    TRY(out.append("\"text\":"));
    TRY(out.append_json_string(text));
    TRY(out.append(",\"logprobs\":null,"));
    TRY(append_finish(out, finish));
    return out.append("}]}\n\n");
}

ErrorOr<void> format_model_list(Text& out, std::string_view const* names, size_t count, u64 created)
{
    TRY(out.append("{\"object\":\"list\",\"data\":["));
    for (size_t i = 0; i < count; ++i) {
        TRY(out.append(i ? ",{\"id\":" : "{\"id\":"));
        TRY(out.append_json_string(names[i]));
        TRY(out.append(",\"object\":\"model\",\"created\":"));
        TRY(out.append_number(created));
        TRY(out.append(",\"owned_by\":\"aisos\"}"));
    }
    return out.append("]}");
}

ErrorOr<void> format_ws_token(Text& out, std::string_view text)
{
    TRY(out.append("{\"type\":\"token\",\"text\":"));
    TRY(out.append_json_string(text));
    return out.append("}");
}

ErrorOr<void> format_ws_done(Text& out, char const* finish, Usage usage)
{
    TRY(out.append("{\"type\":\"done\",\"finish_reason\":\""));
    TRY(out.append(finish));
    TRY(out.append("\","));
    TRY(append_usage(out, usage));
    return out.append("}");
}

ErrorOr<void> format_ws_error(Text& out, std::string_view message)
{
    TRY(out.append("{\"type\":\"error\",\"message\":"));
    TRY(out.append_json_string(message));
    return out.append("}");
}

bool is_model_entry(std::string_view name, bool is_directory)
{
    if (name.empty() || name[0] == '.')
        return false;
    if (is_directory)
        return true;
    return name.size() > 5 && name.substr(name.size() - 5) == ".gguf";
}

ResolveResult resolve_model(ModelEntry const* entries, size_t count, std::string_view requested, std::string_view configured_default, size_t& index)
{
    if (count == 0)
        return ResolveResult::NoModels;
    auto find = [&](std::string_view name) {
        for (size_t i = 0; i < count; ++i) {
            auto e = entries[i].name;
            if (e == name)
                return i;
        }
        for (size_t i = 0; i < count; ++i) {
            auto e = entries[i].name;
            if (!entries[i].is_directory && e.size() == name.size() + 5 && e.substr(0, name.size()) == name && e.substr(name.size()) == ".gguf")
                return i;
        }
        return count;
    };
    if (!requested.empty()) {
        index = find(requested);
        return index < count ? ResolveResult::Found : ResolveResult::Unknown;
    }
    if (!configured_default.empty()) {
        size_t i = find(configured_default);
        if (i < count) {
            index = i;
            return ResolveResult::Found;
        }
    }
    index = 0;
    for (size_t i = 1; i < count; ++i)
        if (entries[i].name < entries[index].name)
            index = i;
    return ResolveResult::Found;
}

} // namespace aisos::llm
