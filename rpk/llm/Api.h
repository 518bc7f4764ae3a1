#pragma once

// The llm module's HTTP/WebSocket protocol, apart from any I/O so that it
// builds and is tested on the host (tests/unit/llm): parsing the bodies of
// POST /ai, POST /v1/chat/completions, POST /v1/completions and /ws
// messages into a GenerationRequest, and writing the JSON, SSE and
// WebSocket texts of the answers (API.md, "AI").

#include "engine/base/Vector.h"
#include "engine/format/Json.h"
#include "engine/generate/Generator.h"
#include "engine/model/ChatTemplate.h"

#include <string_view>

namespace aisos::llm {

using engine::u32;
using engine::u64;
using engine::Vector;

// A refusal for the client: an HTTP status and a human message.
struct ApiError {
    u32 status { 0 };
    char message[256] {};
    void set(u32 status, std::string_view first, std::string_view second = {}, std::string_view third = {});
};

enum class Endpoint {
    Ai,              // POST /ai: text/plain answer
    ChatCompletions, // POST /v1/chat/completions
    Completions,     // POST /v1/completions
    WebSocketChat,   // {"type":"chat"} on /ws
};

constexpr u32 default_max_tokens = 256;
constexpr u32 max_stop_sequences = 4;

// One generation asked for. Strings are views into the request body and
// the parsed document, both of which the owner keeps alive.
struct GenerationRequest {
    Endpoint endpoint { Endpoint::Ai };
    engine::JsonDocument document;
    Vector<engine::ChatMessage> messages; // chat endpoints; /ai makes one user message
    std::string_view prompt;              // /v1/completions: the raw prompt (no chat template)
    bool use_chat_template { true };
    std::string_view model;               // empty: the default model
    u32 max_tokens { default_max_tokens };
    engine::SamplingParams sampling;
    bool seed_given { false };
    bool stream { false };
    std::string_view stops[max_stop_sequences];
    u32 stop_count { 0 };
};

// POST /ai: a JSON object when the content type is application/json or the
// body starts with '{' and parses as an object with "prompt"; otherwise
// the whole body is the prompt text. false with error (400) when invalid.
bool parse_ai(std::string_view content_type, std::string_view body, GenerationRequest&, ApiError&);
bool parse_chat_completions(std::string_view body, GenerationRequest&, ApiError&);
bool parse_completions(std::string_view body, GenerationRequest&, ApiError&);

// A /ws client message: {"type":"chat","messages":[...],"options":{...}}
// or {"type":"stop"}.
enum class WebSocketMessageType {
    Chat,
    Stop,
};
bool parse_websocket_message(std::string_view body, WebSocketMessageType&, GenerationRequest&, ApiError&);

// A growing text; every append reports out-of-memory.
class Text {
public:
    ErrorOr<void> append(std::string_view);
    ErrorOr<void> append_number(u64);
    // A JSON string literal with quotes; invalid UTF-8 becomes U+FFFD.
    ErrorOr<void> append_json_string(std::string_view);
    std::string_view view() const { return { m_data.data(), m_data.size() }; }
    void clear() { m_data.clear(); }

private:
    Vector<char> m_data;
};

char const* finish_reason(engine::StopReason);

struct Usage {
    u32 prompt_tokens { 0 };
    u32 completion_tokens { 0 };
};

// {"error":{"code":N,"message":"..."}}
ErrorOr<void> format_error(Text&, u32 status, std::string_view message);
// The whole (non-streamed) OpenAI answers.
ErrorOr<void> format_chat_completion(Text&, std::string_view id, u64 created, std::string_view model, std::string_view content, char const* finish, Usage);
ErrorOr<void> format_completion(Text&, std::string_view id, u64 created, std::string_view model, std::string_view text, char const* finish, Usage);
// One SSE event "data: {...}\n\n" of a stream. content is the delta; the
// first chat chunk carries the role, the last one (finish != nullptr) an
// empty delta and the finish reason.
enum class ChunkKind {
    First,
    Content,
    Last,
};
ErrorOr<void> format_chat_chunk(Text&, std::string_view id, u64 created, std::string_view model, ChunkKind, std::string_view content, char const* finish);
ErrorOr<void> format_completion_chunk(Text&, std::string_view id, u64 created, std::string_view model, std::string_view text, char const* finish);
constexpr std::string_view sse_done = "data: [DONE]\n\n";
// {"object":"list","data":[{"id":..,"object":"model","owned_by":"aisos"},...]}
ErrorOr<void> format_model_list(Text&, std::string_view const* names, size_t count, u64 created);
// /ws messages.
ErrorOr<void> format_ws_token(Text&, std::string_view text);
ErrorOr<void> format_ws_done(Text&, char const* finish, Usage);
ErrorOr<void> format_ws_error(Text&, std::string_view message);

// Models under /fs/models: a "*.gguf" file or a directory (safetensors).
struct ModelEntry {
    std::string_view name;
    bool is_directory { false };
};
// Whether a listing entry can be a model (a .gguf file or a directory).
bool is_model_entry(std::string_view name, bool is_directory);
enum class ResolveResult {
    Found,
    NoModels,
    Unknown,
};
// requested: the "model" field (exact name, or a .gguf name without its
// extension); empty: configured default when present, else the only model,
// else the first by name. index is set when Found.
ResolveResult resolve_model(ModelEntry const* entries, size_t count, std::string_view requested, std::string_view configured_default, size_t& index);

} // namespace aisos::llm
