// aisos-llm: the engine's native command line (POSIX side, so the normal
// standard library is fine here). See print_usage() for the flags.

#include "engine/generate/Generator.h"
#include "engine/model/Session.h"
#include "engine/tokenizer/StreamDecoder.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace aisos;
using namespace aisos::engine;

namespace {

struct Options {
    std::string model;
    std::optional<std::string> prompt;
    std::optional<std::string> prompt_file;
    bool chat { false };
    u32 max_new_tokens { 128 };
    u32 threads { 0 };
    SamplingParams sampling;
    std::optional<u32> context;
    bool tokenize { false };
    std::optional<std::string> tokenizer_json;
    std::optional<std::string> detokenize;
    std::optional<std::string> ids;
    std::optional<std::string> logits_out;
    std::optional<std::string> ids_out;
    std::optional<std::string> dump_tensor_name;
    std::string dump_tensor_file;
    bool info { false };
    std::optional<std::string> kernels;
    bool f32_activations { false };
    bool ignore_eos { false };
    std::vector<std::string> stops;
};

void print_usage()
{
    std::fprintf(stderr,
        "usage: aisos-llm -m MODEL (-p TEXT | -f FILE) [options]\n"
        "  -m PATH                 .gguf file, or directory with *.safetensors + config.json + tokenizer.json\n"
        "  -p TEXT | -f FILE       prompt text (file read verbatim)\n"
        "  --chat                  wrap the prompt as one user message in the model's chat template\n"
        "  -n N                    max new tokens (default 128)\n"
        "  -t THREADS              threads (default: all cores)\n"
        "  --temp T                temperature, 0 = greedy (default 0.7)\n"
        "  --top-k K --top-p P --min-p P --repeat-penalty R --seed S\n"
        "  --ctx N                 context length limit (default: model's, capped at 4096)\n"
        "  --stop TEXT             stop sequence (repeatable)\n"
        "  --ignore-eos            keep generating past end-of-generation tokens (benchmarks: always -n tokens)\n"
        "  --tokenize              print the prompt's token ids and exit\n"
        "  --tokenizer-json PATH   use this tokenizer.json alone (with --tokenize / --detokenize)\n"
        "  --detokenize \"ID ...\"   print the text of these ids and exit\n"
        "  --ids \"ID ...\"          prompt token ids, used verbatim\n"
        "  --logits-out FILE       append each step's logits (float32 LE, n_vocab values)\n"
        "  --ids-out FILE          write the generated ids, space-separated\n"
        "  --dump-tensor NAME FILE write tensor NAME dequantized to float32 LE and exit\n"
        "  --info                  print model metadata and exit\n"
        "  --kernels scalar|avx2|avx512  force a kernel variant (default: best for this CPU)\n"
        "  --f32-activations       multiply dequantized weights with float activations (slow; for\n"
        "                          comparisons against float references; default: 8-bit activations)\n");
}

[[noreturn]] void fail(std::string const& message)
{
    std::fprintf(stderr, "aisos-llm: error: %s\n", message.c_str());
    std::exit(1);
}

void fail_on(Error error, char const* what)
{
    fail(std::string(what) + ": " + error.reason() + " (" + error_code_name(error.code()) + ")");
}

template<typename T>
T must(ErrorOr<T>&& result, char const* what)
{
    if (result.is_error())
        fail_on(result.error(), what);
    return result.release_value();
}

void must(ErrorOr<void>&& result, char const* what)
{
    if (result.is_error())
        fail_on(result.error(), what);
}

double parse_number(char const* flag, char const* text)
{
    char* end = nullptr;
    errno = 0;
    double value = std::strtod(text, &end);
    if (errno != 0 || end == text || *end != 0)
        fail(std::string("invalid number for ") + flag + ": " + text);
    return value;
}

u64 parse_unsigned(char const* flag, char const* text)
{
    char* end = nullptr;
    errno = 0;
    if (text[0] == '-')
        fail(std::string("invalid value for ") + flag + ": " + text);
    unsigned long long value = std::strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != 0)
        fail(std::string("invalid value for ") + flag + ": " + text);
    return value;
}

Options parse_options(int argc, char** argv)
{
    Options o;
    auto need = [&](int& i) -> char const* {
        if (i + 1 >= argc)
            fail(std::string("missing value for ") + argv[i]);
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-m") o.model = need(i);
        else if (a == "-p") o.prompt = need(i);
        else if (a == "-f") o.prompt_file = need(i);
        else if (a == "--chat") o.chat = true;
        else if (a == "-n") o.max_new_tokens = static_cast<u32>(std::min<u64>(parse_unsigned("-n", need(i)), 1u << 30));
        else if (a == "-t") o.threads = static_cast<u32>(std::min<u64>(parse_unsigned("-t", need(i)), 1024));
        else if (a == "--temp") o.sampling.temperature = static_cast<float>(parse_number("--temp", need(i)));
        else if (a == "--top-k") o.sampling.top_k = static_cast<u32>(std::min<u64>(parse_unsigned("--top-k", need(i)), 1u << 30));
        else if (a == "--top-p") o.sampling.top_p = static_cast<float>(parse_number("--top-p", need(i)));
        else if (a == "--min-p") o.sampling.min_p = static_cast<float>(parse_number("--min-p", need(i)));
        else if (a == "--repeat-penalty") o.sampling.repeat_penalty = static_cast<float>(parse_number("--repeat-penalty", need(i)));
        else if (a == "--seed") o.sampling.seed = parse_unsigned("--seed", need(i));
        else if (a == "--ctx") o.context = static_cast<u32>(std::min<u64>(parse_unsigned("--ctx", need(i)), 1u << 24));
        else if (a == "--stop") o.stops.push_back(need(i));
        else if (a == "--tokenize") o.tokenize = true;
        else if (a == "--tokenizer-json") o.tokenizer_json = need(i);
        else if (a == "--detokenize") o.detokenize = need(i);
        else if (a == "--ids") o.ids = need(i);
        else if (a == "--logits-out") o.logits_out = need(i);
        else if (a == "--ids-out") o.ids_out = need(i);
        else if (a == "--dump-tensor") {
            o.dump_tensor_name = need(i);
            o.dump_tensor_file = need(i);
        } else if (a == "--info") o.info = true;
        else if (a == "--kernels") o.kernels = need(i);
        else if (a == "--f32-activations") o.f32_activations = true;
        else if (a == "--ignore-eos") o.ignore_eos = true;
        else if (a == "-h" || a == "--help") {
            print_usage();
            std::exit(0);
        } else {
            print_usage();
            fail("unknown argument: " + a);
        }
    }
    return o;
}

std::string read_file(std::string const& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail("cannot read " + path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

std::vector<u32> parse_ids(std::string const& text, u32 vocab_size)
{
    std::vector<u32> ids;
    std::istringstream in(text);
    std::string word;
    while (in >> word) {
        u64 id = parse_unsigned("token id", word.c_str());
        if (id >= vocab_size)
            fail("token id " + word + " is outside the vocabulary (" + std::to_string(vocab_size) + ")");
        ids.push_back(static_cast<u32>(id));
    }
    return ids;
}

std::string prompt_text(Options const& o)
{
    if (o.prompt && o.prompt_file)
        fail("give either -p or -f, not both");
    if (o.prompt)
        return *o.prompt;
    if (o.prompt_file)
        return read_file(*o.prompt_file);
    fail("no prompt: give -p TEXT, -f FILE or --ids");
}

// The ids the model sees for the prompt text (BOS per the model, or the chat template).
std::vector<u32> encode_prompt(Tokenizer const& tokenizer, ChatTemplate const& chat, std::string const& text, bool use_chat, bool add_prefix)
{
    Vector<u32> ids;
    if (use_chat) {
        ChatMessage message { "user", text };
        Vector<char> rendered;
        must(chat.render(&message, 1, true, rendered), "chat template");
        must(tokenizer.encode(std::string_view(rendered.data(), rendered.size()), ids), "tokenize");
    } else {
        must(tokenizer.encode(text, ids), "tokenize");
    }
    std::vector<u32> result;
    auto const& prefix = tokenizer.prefix_tokens();
    bool has_prefix = ids.size() >= prefix.size();
    for (size_t i = 0; has_prefix && i < prefix.size(); ++i)
        has_prefix = ids[i] == prefix[i];
    if (add_prefix && !(use_chat && has_prefix))
        result.assign(prefix.begin(), prefix.end());
    result.insert(result.end(), ids.begin(), ids.end());
    return result;
}

void print_ids(std::vector<u32> const& ids, FILE* out)
{
    for (size_t i = 0; i < ids.size(); ++i)
        std::fprintf(out, i ? " %u" : "%u", ids[i]);
    std::fprintf(out, "\n");
}

int tokenizer_only(Options const& o)
{
    std::string json = read_file(*o.tokenizer_json);
    Tokenizer tokenizer;
    must(Tokenizer::load_from_json(json, tokenizer), "tokenizer.json");
    if (o.detokenize) {
        auto ids = parse_ids(*o.detokenize, tokenizer.vocab_size());
        Vector<char> text;
        must(tokenizer.decode(ids.data(), ids.size(), text), "detokenize");
        if (text.size())
            std::fwrite(text.data(), 1, text.size(), stdout);
        std::fprintf(stdout, "\n");
        return 0;
    }
    if (!o.tokenize)
        fail("--tokenizer-json works only with --tokenize or --detokenize");
    auto chat = must(ChatTemplate::choose(std::nullopt, Architecture::Llama, tokenizer), "chat template");
    print_ids(encode_prompt(tokenizer, chat, prompt_text(o), o.chat, o.chat), stdout);
    return 0;
}

int dump_tensor(Model const& model, Options const& o)
{
    auto const* tensor = model.find_tensor(*o.dump_tensor_name);
    if (!tensor)
        fail("no tensor named " + *o.dump_tensor_name + " (see --info)");
    FILE* out = std::fopen(o.dump_tensor_file.c_str(), "wb");
    if (!out)
        fail("cannot write " + o.dump_tensor_file);
    u64 row = tensor->row_length();
    u64 row_bytes = must(tensor_row_bytes(tensor->type, row), "tensor");
    std::vector<float> values(row);
    for (u64 r = 0; r < tensor->row_count(); ++r) {
        dequantize_row(tensor->type, tensor->data + r * row_bytes, values.data(), row);
        if (std::fwrite(values.data(), sizeof(float), row, out) != row)
            fail("write failed: " + o.dump_tensor_file);
    }
    if (std::fclose(out) != 0)
        fail("write failed: " + o.dump_tensor_file);
    return 0;
}

int info(Model const& model, KernelSet const& kernels)
{
    auto const& c = model.config();
    char types[512];
    model.describe_tensor_types(types, sizeof(types));
    auto const& t = model.tokenizer();
    std::printf("architecture: %s\n", architecture_name(c.architecture));
    std::printf("source: %s\n", c.source == ModelSource::Gguf ? "gguf" : "safetensors");
    std::printf("layers: %u\nheads: %u\nkv_heads: %u\nhead_dim: %u\n", c.n_layers, c.n_heads, c.n_kv_heads, c.head_dim);
    std::printf("embedding: %u\nfeed_forward: %u\nvocab: %u\ncontext: %u\n", c.n_embd, c.n_ff, c.n_vocab, c.context_length);
    std::printf("rope_theta: %g\nrope_layout: %s\nrms_eps: %g\n", c.rope_theta, c.rope_layout == RopeLayout::Interleaved ? "interleaved" : "neox", c.rms_eps);
    std::printf("activation: %s\ntied_embeddings: %s\n", c.activation == FeedForwardActivation::Silu ? "silu" : "gelu_tanh", c.tied_embeddings ? "yes" : "no");
    std::printf("tokenizer: %s, %u tokens, bos %d, eos %d, adds bos: %s\n", t.kind() == TokenizerKind::ByteLevelBpe ? "byte-level bpe" : "sentencepiece bpe", t.vocab_size(),
        t.bos() ? static_cast<int>(*t.bos()) : -1, t.eos() ? static_cast<int>(*t.eos()) : -1, t.prefix_tokens().is_empty() ? "no" : "yes");
    std::printf("chat_template: %s\n", model.chat_template().name());
    std::printf("tensors: %zu (%s)\n", model.tensors().size(), types);
    std::printf("kernels: %s\n", kernel_isa_name(kernels.isa));
    return 0;
}

struct CliState {
    FILE* logits_out { nullptr };
    std::vector<u32> generated;
    bool write_failed { false };
};

} // namespace

int main(int argc, char** argv)
{
    Options o = parse_options(argc, argv);
    if (o.tokenizer_json)
        return tokenizer_only(o);
    if (o.model.empty()) {
        print_usage();
        fail("no model: give -m PATH");
    }

    KernelIsa isa = detect_kernel_isa();
    if (o.kernels) {
        if (*o.kernels == "scalar") isa = KernelIsa::Scalar;
        else if (*o.kernels == "avx2") isa = KernelIsa::Avx2;
        else if (*o.kernels == "avx512") isa = KernelIsa::Avx512;
        else fail("unknown --kernels value: " + *o.kernels);
        if (!kernel_isa_supported(isa))
            fail("this CPU does not support --kernels " + *o.kernels);
    }
    KernelSet const& kernels = kernel_set(isa);

    std::unique_ptr<Model> model(must(Model::load(o.model.c_str()), o.model.c_str()));
    auto const& tokenizer = model->tokenizer();
    if (o.info)
        return info(*model, kernels);
    if (o.dump_tensor_name)
        return dump_tensor(*model, o);
    if (o.detokenize) {
        auto ids = parse_ids(*o.detokenize, tokenizer.vocab_size());
        Vector<char> text;
        must(tokenizer.decode(ids.data(), ids.size(), text), "detokenize");
        if (text.size())
            std::fwrite(text.data(), 1, text.size(), stdout);
        std::fprintf(stdout, "\n");
        return 0;
    }

    std::vector<u32> prompt;
    if (o.ids) {
        prompt = parse_ids(*o.ids, model->config().n_vocab);
    } else {
        // Without --chat the text follows the model's BOS rule; --tokenize
        // alone prints the plain encoding (HF encode, add_special_tokens=False).
        bool add_prefix = o.chat || !o.tokenize;
        prompt = encode_prompt(tokenizer, model->chat_template(), prompt_text(o), o.chat, add_prefix);
    }
    if (o.tokenize) {
        print_ids(prompt, stdout);
        return 0;
    }
    if (prompt.empty())
        fail("the prompt has no tokens");

    u32 threads = o.threads ? o.threads : platform_cpu_count();
    std::unique_ptr<ThreadPool, void (*)(ThreadPool*)> pool(must(platform_create_thread_pool(threads), "threads"), platform_destroy_thread_pool);
    u32 context = o.context.value_or(std::min<u32>(model->config().context_length, 4096));
    if (context == 0)
        fail("--ctx must be at least 1");
    std::unique_ptr<Session> session(must(Session::create(*model, *pool, kernels, context, o.f32_activations ? ActivationPrecision::Float32 : ActivationPrecision::Int8), "session"));
    if (prompt.size() > session->context_length())
        fail("the prompt has " + std::to_string(prompt.size()) + " tokens but the context length is " + std::to_string(session->context_length()));

    CliState state;
    if (o.logits_out) {
        state.logits_out = std::fopen(o.logits_out->c_str(), "wb");
        if (!state.logits_out)
            fail("cannot write " + *o.logits_out);
    }
    std::vector<std::string_view> stops(o.stops.begin(), o.stops.end());
    GenerationOptions options;
    options.max_new_tokens = o.max_new_tokens;
    options.ignore_end_of_generation = o.ignore_eos;
    options.sampling = o.sampling;
    options.stop_sequences = stops.data();
    options.stop_sequence_count = stops.size();
    GenerationCallbacks callbacks;
    callbacks.context = &state;
    callbacks.on_text = [](void*, std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        return true;
    };
    callbacks.on_token = [](void* context, u32 token) { static_cast<CliState*>(context)->generated.push_back(token); };
    callbacks.on_logits = [](void* context, float const* logits, u32 count) {
        auto* s = static_cast<CliState*>(context);
        if (s->logits_out && std::fwrite(logits, sizeof(float), count, s->logits_out) != count)
            s->write_failed = true;
    };
    auto result = must(generate(*session, tokenizer, prompt.data(), prompt.size(), options, callbacks), "generate");
    std::fprintf(stdout, "\n");
    std::fflush(stdout);
    if (state.logits_out && std::fclose(state.logits_out) != 0)
        state.write_failed = true;
    if (state.write_failed)
        fail("writing --logits-out failed");
    if (o.ids_out) {
        FILE* out = std::fopen(o.ids_out->c_str(), "wb");
        if (!out)
            fail("cannot write " + *o.ids_out);
        print_ids(state.generated, out);
        if (std::fclose(out) != 0)
            fail("writing --ids-out failed");
    }
    if (result.reason == StopReason::ContextFull)
        std::fprintf(stderr, "aisos-llm: stopped: context length %u reached\n", session->context_length());
    double prefill_s = static_cast<double>(result.prefill_ns) / 1e9;
    double decode_s = static_cast<double>(result.decode_ns) / 1e9;
    double prefill_rate = prefill_s > 0 ? result.prompt_tokens / prefill_s : 0;
    double decode_rate = decode_s > 0 && result.decode_evaluations ? result.decode_evaluations / decode_s : 0;
    std::fprintf(stderr, "prefill: %u tokens, %.2f tok/s; decode: %u tokens, %.2f tok/s\n", result.prompt_tokens, prefill_rate, result.generated_tokens, decode_rate);
    return 0;
}
