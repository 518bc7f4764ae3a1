// rpk/llm/Api.cpp: request parsing, the OpenAI/SSE/WebSocket texts, model
// name resolution. The JSON the formatters write is checked by parsing it
// back with the engine's strict parser.

#include "rpk/llm/Api.h"

#include <gtest/gtest.h>
#include <string>

using namespace aisos::llm;
using aisos::engine::JsonDocument;
using aisos::engine::StopReason;

namespace {

std::string text_of(Text const& t) { return std::string(t.view()); }

JsonDocument parse_json(std::string_view text)
{
    auto parsed = JsonDocument::parse(text);
    EXPECT_FALSE(parsed.is_error()) << text;
    return parsed.release_value();
}

} // namespace

TEST(LlmApi, AiPlainTextIsOneUserMessage)
{
    GenerationRequest r;
    ApiError e;
    ASSERT_TRUE(parse_ai("text/plain; charset=utf-8", "What is Rust?\n", r, e));
    EXPECT_EQ(r.prompt, "What is Rust?");
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0].role, "user");
    EXPECT_EQ(r.messages[0].content, "What is Rust?");
    EXPECT_TRUE(r.use_chat_template);
    EXPECT_FALSE(r.stream);
    EXPECT_EQ(r.max_tokens, default_max_tokens);
    // No content type (curl -d sends form-urlencoded): the body is the prompt too.
    GenerationRequest r2;
    ASSERT_TRUE(parse_ai("", "{\"prompt\":\"x\"}", r2, e));
    EXPECT_EQ(r2.prompt, "{\"prompt\":\"x\"}");
    GenerationRequest r3;
    ASSERT_TRUE(parse_ai("application/x-www-form-urlencoded", "hello", r3, e));
    EXPECT_EQ(r3.prompt, "hello");
}

TEST(LlmApi, AiJsonOptions)
{
    GenerationRequest r;
    ApiError e;
    ASSERT_TRUE(parse_ai("application/json", R"({"prompt":"hi \u00fc","max_tokens":5,"temperature":0,"top_p":0.5,"top_k":3,"seed":42,"model":"m.gguf","stream":true})", r, e)) << e.message;
    EXPECT_EQ(r.prompt, "hi \xc3\xbc");
    EXPECT_EQ(r.max_tokens, 5u);
    EXPECT_EQ(r.sampling.temperature, 0.0f);
    EXPECT_EQ(r.sampling.top_p, 0.5f);
    EXPECT_EQ(r.sampling.top_k, 3u);
    EXPECT_EQ(r.sampling.seed, 42u);
    EXPECT_TRUE(r.seed_given);
    EXPECT_EQ(r.model, "m.gguf");
    EXPECT_TRUE(r.stream);
}

TEST(LlmApi, AiRejectsBadInput)
{
    struct Case {
        char const* type;
        char const* body;
        u32 status;
        char const* needle;
    } cases[] = {
        { "application/json", "{not json", 400, "invalid JSON" },
        { "application/json", "[1]", 400, "object" },
        { "application/json", R"({"prompt":3})", 400, "prompt" },
        { "application/json", R"({"prompt":""})", 400, "prompt" },
        { "application/json", R"({"prompt":"x","max_tokens":0})", 400, "max_tokens" },
        { "application/json", R"({"prompt":"x","max_tokens":1.5})", 400, "max_tokens" },
        { "application/json", R"({"prompt":"x","temperature":-1})", 400, "temperature" },
        { "application/json", R"({"prompt":"x","top_p":0})", 400, "top_p" },
        { "application/json", R"({"prompt":"x","seed":-1})", 400, "seed" },
        { "application/json", R"({"prompt":"x","model":"../etc"})", 400, "model" },
        { "application/json", R"({"prompt":"x","stream":"yes"})", 400, "stream" },
        { "text/plain", "", 400, "empty" },
        { "text/plain", "\n\n", 400, "empty" },
        { "text/plain", "bad \xff utf-8", 400, "UTF-8" },
        { "image/png", "x", 415, "text/plain" },
    };
    for (auto const& c : cases) {
        GenerationRequest r;
        ApiError e;
        EXPECT_FALSE(parse_ai(c.type, c.body, r, e)) << c.body;
        EXPECT_EQ(e.status, c.status) << c.body;
        EXPECT_NE(std::string(e.message).find(c.needle), std::string::npos) << c.body << " -> " << e.message;
    }
}

TEST(LlmApi, ChatCompletions)
{
    GenerationRequest r;
    ApiError e;
    ASSERT_TRUE(parse_chat_completions(R"({"model":"x","messages":[{"role":"developer","content":"be brief"},{"role":"user","content":"hi"}],"stop":["\n\n","END"],"max_completion_tokens":7})", r, e)) << e.message;
    EXPECT_EQ(r.endpoint, Endpoint::ChatCompletions);
    ASSERT_EQ(r.messages.size(), 2u);
    EXPECT_EQ(r.messages[0].role, "system");
    EXPECT_EQ(r.messages[1].content, "hi");
    ASSERT_EQ(r.stop_count, 2u);
    EXPECT_EQ(r.stops[0], "\n\n");
    EXPECT_EQ(r.stops[1], "END");
    EXPECT_EQ(r.max_tokens, 7u);

    char const* bad[] = {
        R"({})",
        R"({"messages":[]})",
        R"({"messages":[{"role":"user"}]})",
        R"({"messages":[{"role":"tool","content":"x"}]})",
        R"({"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]})",
        R"({"messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]})",
        R"({"messages":[{"role":"user","content":"x"}],"stop":""})",
    };
    for (auto const* body : bad) {
        GenerationRequest r2;
        ApiError e2;
        EXPECT_FALSE(parse_chat_completions(body, r2, e2)) << body;
        EXPECT_EQ(e2.status, 400u) << body;
    }
}

TEST(LlmApi, Completions)
{
    GenerationRequest r;
    ApiError e;
    ASSERT_TRUE(parse_completions(R"({"prompt":"Once upon","stop":"\n"})", r, e));
    EXPECT_EQ(r.prompt, "Once upon");
    EXPECT_FALSE(r.use_chat_template);
    EXPECT_EQ(r.stop_count, 1u);
    GenerationRequest r2;
    ASSERT_TRUE(parse_completions(R"({"prompt":["one"]})", r2, e));
    EXPECT_EQ(r2.prompt, "one");
    GenerationRequest r3;
    EXPECT_FALSE(parse_completions(R"({"prompt":["one","two"]})", r3, e));
}

TEST(LlmApi, WebSocketMessages)
{
    GenerationRequest r;
    ApiError e;
    WebSocketMessageType type {};
    ASSERT_TRUE(parse_websocket_message(R"({"type":"chat","messages":[{"role":"user","content":"hi"}],"options":{"max_tokens":3,"temperature":0}})", type, r, e)) << e.message;
    EXPECT_EQ(type, WebSocketMessageType::Chat);
    EXPECT_TRUE(r.stream);
    EXPECT_EQ(r.max_tokens, 3u);
    GenerationRequest r2;
    ASSERT_TRUE(parse_websocket_message(R"({"type":"stop"})", type, r2, e));
    EXPECT_EQ(type, WebSocketMessageType::Stop);
    GenerationRequest r3;
    EXPECT_FALSE(parse_websocket_message(R"({"type":"dance"})", type, r3, e));
    GenerationRequest r4;
    EXPECT_FALSE(parse_websocket_message(R"({"type":"chat","messages":[],"options":{}})", type, r4, e));
    GenerationRequest r5;
    EXPECT_FALSE(parse_websocket_message(R"({"type":"chat","messages":[{"role":"user","content":"x"}],"options":5})", type, r5, e));
}

TEST(LlmApi, JsonStringEscaping)
{
    Text t;
    ASSERT_FALSE(t.append_json_string("a\"b\\c\n\t\x01\x7f \xc3\xbc \xff end").is_error());
    EXPECT_EQ(text_of(t), "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f \xc3\xbc \xef\xbf\xbd end\"");
    auto doc = parse_json(t.view());
    EXPECT_EQ(doc.root().string, "a\"b\\c\n\t\x01\x7f \xc3\xbc \xef\xbf\xbd end");
}

TEST(LlmApi, ErrorJson)
{
    Text t;
    ASSERT_FALSE(format_error(t, 503, "no model under /fs/models").is_error());
    EXPECT_EQ(text_of(t), R"({"error":{"code":503,"message":"no model under /fs/models"}})");
}

TEST(LlmApi, ChatCompletionJson)
{
    Text t;
    ASSERT_FALSE(format_chat_completion(t, "chatcmpl-1", 1700000000, "tiny.gguf", "Hello \"you\"", finish_reason(StopReason::EndOfGeneration), Usage { 5, 2 }).is_error());
    auto doc = parse_json(t.view());
    auto const& root = doc.root();
    EXPECT_EQ(doc.get_string(root, "id"), "chatcmpl-1");
    EXPECT_EQ(doc.get_string(root, "object"), "chat.completion");
    EXPECT_EQ(doc.get_integer(root, "created"), 1700000000);
    EXPECT_EQ(doc.get_string(root, "model"), "tiny.gguf");
    auto const* choices = doc.get(root, "choices");
    ASSERT_TRUE(choices && choices->is_array() && choices->count == 1);
    auto const& choice = doc.element(*choices, 0);
    EXPECT_EQ(doc.get_integer(choice, "index"), 0);
    EXPECT_EQ(doc.get_string(choice, "finish_reason"), "stop");
    auto const* message = doc.get(choice, "message");
    ASSERT_TRUE(message);
    EXPECT_EQ(doc.get_string(*message, "role"), "assistant");
    EXPECT_EQ(doc.get_string(*message, "content"), "Hello \"you\"");
    auto const* usage = doc.get(root, "usage");
    ASSERT_TRUE(usage);
    EXPECT_EQ(doc.get_integer(*usage, "prompt_tokens"), 5);
    EXPECT_EQ(doc.get_integer(*usage, "completion_tokens"), 2);
    EXPECT_EQ(doc.get_integer(*usage, "total_tokens"), 7);
}

TEST(LlmApi, CompletionJsonAndFinishReasons)
{
    EXPECT_STREQ(finish_reason(StopReason::MaxTokens), "length");
    EXPECT_STREQ(finish_reason(StopReason::ContextFull), "length");
    EXPECT_STREQ(finish_reason(StopReason::StopSequence), "stop");
    Text t;
    ASSERT_FALSE(format_completion(t, "cmpl-2", 1, "m", "text", "length", Usage { 1, 1 }).is_error());
    auto doc = parse_json(t.view());
    EXPECT_EQ(doc.get_string(doc.root(), "object"), "text_completion");
    auto const& choice = doc.element(*doc.get(doc.root(), "choices"), 0);
    EXPECT_EQ(doc.get_string(choice, "text"), "text");
    EXPECT_EQ(doc.get_string(choice, "finish_reason"), "length");
}

TEST(LlmApi, SseChunks)
{
    Text t;
    ASSERT_FALSE(format_chat_chunk(t, "c", 1, "m", ChunkKind::First, {}, nullptr).is_error());
    std::string first = text_of(t);
    ASSERT_EQ(first.rfind("data: ", 0), 0u);
    ASSERT_EQ(first.substr(first.size() - 2), "\n\n");
    auto doc = parse_json(std::string_view(first).substr(6, first.size() - 8));
    EXPECT_EQ(doc.get_string(doc.root(), "object"), "chat.completion.chunk");
    auto const& choice = doc.element(*doc.get(doc.root(), "choices"), 0);
    EXPECT_EQ(doc.get_string(*doc.get(choice, "delta"), "role"), "assistant");
    EXPECT_TRUE(doc.get(choice, "finish_reason")->is_null());

    t.clear();
    ASSERT_FALSE(format_chat_chunk(t, "c", 1, "m", ChunkKind::Content, "tok\n", nullptr).is_error());
    std::string content = text_of(t);
    // One event = one line of data: a newline in the text is escaped.
    EXPECT_EQ(content.find('\n'), content.size() - 2);
    auto doc2 = parse_json(std::string_view(content).substr(6, content.size() - 8));
    EXPECT_EQ(doc2.get_string(*doc2.get(doc2.element(*doc2.get(doc2.root(), "choices"), 0), "delta"), "content"), "tok\n");

    t.clear();
    ASSERT_FALSE(format_chat_chunk(t, "c", 1, "m", ChunkKind::Last, {}, "length").is_error());
    std::string last = text_of(t);
    auto doc3 = parse_json(std::string_view(last).substr(6, last.size() - 8));
    auto const& choice3 = doc3.element(*doc3.get(doc3.root(), "choices"), 0);
    EXPECT_EQ(doc3.get_string(choice3, "finish_reason"), "length");
    EXPECT_EQ(doc3.get(choice3, "delta")->count, 0u);
    EXPECT_EQ(sse_done, "data: [DONE]\n\n");

    t.clear();
    ASSERT_FALSE(format_completion_chunk(t, "c", 1, "m", "abc", nullptr).is_error());
    std::string completion = text_of(t);
    auto doc4 = parse_json(std::string_view(completion).substr(6, completion.size() - 8));
    EXPECT_EQ(doc4.get_string(doc4.element(*doc4.get(doc4.root(), "choices"), 0), "text"), "abc");
}

TEST(LlmApi, ModelListAndWebSocketTexts)
{
    Text t;
    std::string_view names[] = { "a.gguf", "b" };
    ASSERT_FALSE(format_model_list(t, names, 2, 5).is_error());
    auto doc = parse_json(t.view());
    EXPECT_EQ(doc.get_string(doc.root(), "object"), "list");
    auto const* data = doc.get(doc.root(), "data");
    ASSERT_EQ(data->count, 2u);
    EXPECT_EQ(doc.get_string(doc.element(*data, 1), "id"), "b");
    EXPECT_EQ(doc.get_string(doc.element(*data, 1), "owned_by"), "aisos");
    EXPECT_EQ(doc.get_string(doc.element(*data, 1), "object"), "model");
    t.clear();
    ASSERT_FALSE(format_model_list(t, nullptr, 0, 5).is_error());
    EXPECT_EQ(text_of(t), R"({"object":"list","data":[]})");

    t.clear();
    ASSERT_FALSE(format_ws_token(t, "x\"").is_error());
    EXPECT_EQ(text_of(t), R"({"type":"token","text":"x\""})");
    t.clear();
    ASSERT_FALSE(format_ws_done(t, "stop", Usage { 3, 4 }).is_error());
    auto done = parse_json(t.view());
    EXPECT_EQ(done.get_string(done.root(), "type"), "done");
    EXPECT_EQ(done.get_integer(*done.get(done.root(), "usage"), "total_tokens"), 7);
    t.clear();
    ASSERT_FALSE(format_ws_error(t, "bad").is_error());
    EXPECT_EQ(text_of(t), R"({"type":"error","message":"bad"})");
}

TEST(LlmApi, ModelEntries)
{
    EXPECT_TRUE(is_model_entry("x.gguf", false));
    EXPECT_FALSE(is_model_entry("x.gguf.part", false));
    EXPECT_FALSE(is_model_entry("notes.txt", false));
    EXPECT_FALSE(is_model_entry(".gguf", false));
    EXPECT_TRUE(is_model_entry("gemma-2b", true));
    EXPECT_FALSE(is_model_entry(".hidden", true));
}

TEST(LlmApi, ResolveModel)
{
    ModelEntry entries[] = { { "zeta.gguf", false }, { "alpha.gguf", false }, { "st-model", true } };
    size_t index = 99;
    EXPECT_EQ(resolve_model(entries, 0, {}, {}, index), ResolveResult::NoModels);
    EXPECT_EQ(resolve_model(entries, 0, "x", {}, index), ResolveResult::NoModels);
    // Only one: it is the default.
    ASSERT_EQ(resolve_model(entries, 1, {}, {}, index), ResolveResult::Found);
    EXPECT_EQ(index, 0u);
    // Several and no configured default: the first by name.
    ASSERT_EQ(resolve_model(entries, 3, {}, {}, index), ResolveResult::Found);
    EXPECT_EQ(index, 1u);
    // aisos.cfg's default_model, with or without .gguf.
    ASSERT_EQ(resolve_model(entries, 3, {}, "zeta", index), ResolveResult::Found);
    EXPECT_EQ(index, 0u);
    ASSERT_EQ(resolve_model(entries, 3, {}, "st-model", index), ResolveResult::Found);
    EXPECT_EQ(index, 2u);
    // A configured default that is gone: fall back to the first by name.
    ASSERT_EQ(resolve_model(entries, 3, {}, "gone.gguf", index), ResolveResult::Found);
    EXPECT_EQ(index, 1u);
    // By request.
    ASSERT_EQ(resolve_model(entries, 3, "zeta.gguf", "alpha.gguf", index), ResolveResult::Found);
    EXPECT_EQ(index, 0u);
    ASSERT_EQ(resolve_model(entries, 3, "alpha", {}, index), ResolveResult::Found);
    EXPECT_EQ(index, 1u);
    EXPECT_EQ(resolve_model(entries, 3, "st-model.gguf", {}, index), ResolveResult::Unknown);
    EXPECT_EQ(resolve_model(entries, 3, "nope", {}, index), ResolveResult::Unknown);
}
