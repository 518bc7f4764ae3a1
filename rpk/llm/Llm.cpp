// The llm module: serves POST /ai, the OpenAI-compatible /v1 API and the
// /ws chat protocol (API.md, "AI") with the portable engine (engine/) over
// the module SDK (engine/platform/aisos).
//
// Serving: the main thread receives requests, parses them (Api.cpp) and
// queues generations (at most s_queue_limit waiting; beyond: 429). Each of
// s_worker_count serving threads takes one at a time and runs it on its own
// engine thread pool (one engine thread per CPU), so concurrent chats all
// progress, sharing the CPUs through the kernel's scheduler. The engine
// has no batched decode across sequences, so there is no continuous
// batching: two chats are two forward passes per step.
//
// Models: /fs/models/<name>.gguf or a safetensors directory. The default
// is aisos.cfg's default_model, else the only model (else the first by
// name). At most s_max_loaded stay loaded; the least recently used one
// that no worker holds is dropped first. The file is mapped, not copied.
//
// POST /ai applies the model's chat template to the prompt as one user
// message (what `curl -d "What is Rust?"` means); /v1/completions does not.
// A model without a known chat template gets the text as it is.

#include "rpk/llm/Api.h"

#include "engine/kernels/Kernels.h"
#include "engine/model/Model.h"
#include "engine/model/Session.h"
#include "engine/platform/Platform.h"

#include <aisos/sys.h>
#include <aisos/thread.h>
#include <atomic>
#include <cpuid.h>
#include <new>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace aisos::llm {
namespace {

using engine::Model;
using engine::Session;
using engine::StopReason;
using engine::ThreadPool;

constexpr u32 s_worker_count = 2;
constexpr u32 s_queue_limit = 8;
constexpr u32 s_max_loaded = 2;
constexpr u32 s_max_context = 2048;
constexpr u32 s_max_connections = 64;
constexpr size_t s_name_max = 256;

// ---- small helpers ---------------------------------------------------------

struct Lock {
    explicit Lock(aisos_mutex_t& m)
        : mutex(m)
    {
        aisos_mutex_lock(&mutex);
    }
    ~Lock() { aisos_mutex_unlock(&mutex); }
    aisos_mutex_t& mutex;
};

void respond_error(u64 id, u32 status, std::string_view message)
{
    Text text;
    if (format_error(text, status, message).is_error()) {
        aisos_respond_str(id, status, "application/json", "{\"error\":{\"code\":503,\"message\":\"out of memory\"}}");
        return;
    }
    aisos_respond(id, status, "application/json", text.view().data(), text.view().size());
}

void ws_send_error(u64 connection, std::string_view message)
{
    Text text;
    if (format_ws_error(text, message).is_error())
        return;
    aisos_response_write(connection, text.view().data(), text.view().size());
}

u64 wall_seconds() { return static_cast<u64>(aisos_wall_ns()) / 1000000000ull; }

// ---- metrics -----------------------------------------------------------------

struct Metrics {
    aisos_mutex_t mutex AISOS_MUTEX_INIT;
    u64 requests_total { 0 };
    u64 requests_canceled_total { 0 };
    u64 requests_rejected_total { 0 };
    u64 tokens_generated_total { 0 };
    u64 prompt_tokens_total { 0 };
    u64 decode_milli_tokens_per_second { 0 }; // last generation
    u64 ttft_microseconds { 0 };              // last generation
    u32 queue_depth { 0 };
    u32 active { 0 };
    // The aisos_llm_model_loaded lines, rebuilt when the loaded set changes
    // (so that publishing never waits for a model that is loading).
    char model_lines[s_max_loaded * (2 * s_name_max + 48) + 64] {};
};
Metrics s_metrics;

struct LoadedModel {
    char name[s_name_max] {};
    Model* model { nullptr };
    u32 references { 0 };
    u64 last_used { 0 };
};
LoadedModel s_models[s_max_loaded];
aisos_mutex_t s_models_mutex AISOS_MUTEX_INIT;

// Called with s_models_mutex held.
void update_model_lines()
{
    char lines[sizeof(Metrics::model_lines)];
    size_t n = static_cast<size_t>(snprintf(lines, sizeof(lines), "# TYPE aisos_llm_model_loaded gauge\n"));
    for (auto const& slot : s_models) {
        if (!slot.model)
            continue;
        // Label values are escaped per the exposition format.
        char label[2 * s_name_max];
        size_t l = 0;
        for (char const* c = slot.name; *c && l + 2 < sizeof(label); ++c) {
            if (*c == '"' || *c == '\\')
                label[l++] = '\\';
            label[l++] = *c;
        }
        label[l] = 0;
        if (n < sizeof(lines))
            n += static_cast<size_t>(snprintf(lines + n, sizeof(lines) - n, "aisos_llm_model_loaded{model=\"%s\"} 1\n", label));
    }
    Lock lock(s_metrics.mutex);
    memcpy(s_metrics.model_lines, lines, sizeof(lines));
}

void publish_metrics()
{
    // One text buffer, one publisher at a time.
    static aisos_mutex_t s_publish_mutex AISOS_MUTEX_INIT;
    static char text[8192];
    Lock publish_lock(s_publish_mutex);
    size_t n = 0;
    auto put = [&](char const* format, auto... values) {
        if (n < sizeof(text)) {
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wformat-nonliteral"
#pragma clang diagnostic ignored "-Wformat-security"
            int written = snprintf(text + n, sizeof(text) - n, format, values...); // formats are the literals below
#pragma clang diagnostic pop
            if (written > 0)
                n += static_cast<size_t>(written);
        }
    };
    {
        Lock lock(s_metrics.mutex);
        put("# HELP aisos_llm_queue_depth Generations waiting for a serving thread.\n# TYPE aisos_llm_queue_depth gauge\naisos_llm_queue_depth %u\n", s_metrics.queue_depth);
        put("# TYPE aisos_llm_active_generations gauge\naisos_llm_active_generations %u\n", s_metrics.active);
        put("# TYPE aisos_llm_requests_total counter\naisos_llm_requests_total %llu\n", (unsigned long long)s_metrics.requests_total);
        put("# TYPE aisos_llm_requests_canceled_total counter\naisos_llm_requests_canceled_total %llu\n", (unsigned long long)s_metrics.requests_canceled_total);
        put("# TYPE aisos_llm_requests_rejected_total counter\naisos_llm_requests_rejected_total %llu\n", (unsigned long long)s_metrics.requests_rejected_total);
        put("# TYPE aisos_llm_prompt_tokens_total counter\naisos_llm_prompt_tokens_total %llu\n", (unsigned long long)s_metrics.prompt_tokens_total);
        put("# TYPE aisos_llm_tokens_generated_total counter\naisos_llm_tokens_generated_total %llu\n", (unsigned long long)s_metrics.tokens_generated_total);
        put("# HELP aisos_llm_decode_tokens_per_second Decode speed of the last generation.\n# TYPE aisos_llm_decode_tokens_per_second gauge\naisos_llm_decode_tokens_per_second %llu.%03llu\n",
            (unsigned long long)(s_metrics.decode_milli_tokens_per_second / 1000), (unsigned long long)(s_metrics.decode_milli_tokens_per_second % 1000));
        put("# HELP aisos_llm_time_to_first_token_seconds Time to first token of the last generation.\n# TYPE aisos_llm_time_to_first_token_seconds gauge\naisos_llm_time_to_first_token_seconds %llu.%06llu\n",
            (unsigned long long)(s_metrics.ttft_microseconds / 1000000), (unsigned long long)(s_metrics.ttft_microseconds % 1000000));
        put("%s", s_metrics.model_lines);
    }
    aisos_sys_metrics_publish(text, n < sizeof(text) ? n : sizeof(text) - 1);
}

// ---- models --------------------------------------------------------------------

char s_default_model[s_name_max];
aisos_mutex_t s_loading_mutex AISOS_MUTEX_INIT;
u32 s_loading { 0 };

// The listing of /models, parsed.
struct ModelList {
    char* buffer { nullptr };
    Vector<ModelEntry> entries;
    ~ModelList() { free(buffer); }
};

ErrorOr<void> list_models(ModelList& list)
{
    size_t capacity = 16 * 1024;
    for (;;) {
        free(list.buffer);
        list.buffer = static_cast<char*>(malloc(capacity + 1));
        if (!list.buffer)
            return Error::no_memory();
        int64_t length = aisos_file_list("/models", list.buffer, capacity);
        if (length == -AISOS_E2BIG && capacity < (16u << 20)) {
            capacity *= 4;
            continue;
        }
        if (length == -AISOS_ENOENT || length == -AISOS_ENOTDIR)
            return {}; // no /fs/models yet: no models
        if (length < 0)
            return Error { ErrorCode::IoError, "cannot list /fs/models" };
        char* line = list.buffer;
        char* end = list.buffer + length;
        while (line < end) {
            char* newline = static_cast<char*>(memchr(line, '\n', static_cast<size_t>(end - line)));
            if (!newline)
                newline = end;
            *newline = 0;
            char* first = strchr(line, ' ');
            char* second = first ? strchr(first + 1, ' ') : nullptr;
            if (second && second[1]) {
                std::string_view name(second + 1);
                bool directory = line[0] == 'd';
                if (name.size() < s_name_max && is_model_entry(name, directory))
                    TRY(list.entries.try_append(ModelEntry { name, directory }));
            }
            line = newline + 1;
        }
        return {};
    }
}

void set_loading(bool loading)
{
    Lock lock(s_loading_mutex);
    s_loading += loading ? 1 : -1;
    aisos_service_status(s_loading ? AISOS_SERVICE_LOADING : AISOS_SERVICE_READY);
}

// Finds or loads the model `name`; the caller holds a reference until release_model.
ErrorOr<LoadedModel*> acquire_model(char const* name)
{
    Lock lock(s_models_mutex);
    u64 now = static_cast<u64>(aisos_now_ns());
    for (auto& slot : s_models) {
        if (slot.model && strcmp(slot.name, name) == 0) {
            ++slot.references;
            slot.last_used = now;
            return &slot;
        }
    }
    LoadedModel* victim = nullptr;
    for (auto& slot : s_models) {
        if (!slot.model) {
            victim = &slot;
            break;
        }
        if (slot.references == 0 && (!victim || slot.last_used < victim->last_used))
            victim = &slot;
    }
    if (!victim)
        return Error { ErrorCode::Busy, "every model slot is in use by a running generation" };
    if (victim->model) {
        aisos_logf("unloading model %s (least recently used)", victim->name);
        delete victim->model;
        victim->model = nullptr;
        update_model_lines();
    }
    char path[s_name_max + 16];
    snprintf(path, sizeof(path), "/models/%s", name);
    aisos_logf("loading model %s", path);
    set_loading(true);
    u64 start = static_cast<u64>(aisos_now_ns());
    auto loaded = Model::load(path);
    set_loading(false);
    if (loaded.is_error()) {
        aisos_logf("cannot load %s: %s", path, loaded.error().reason() ? loaded.error().reason() : "error");
        return loaded.error();
    }
    victim->model = loaded.value();
    snprintf(victim->name, sizeof(victim->name), "%s", name);
    victim->references = 1;
    victim->last_used = now;
    update_model_lines();
    auto const& c = victim->model->config();
    aisos_logf("loaded %s in %llu ms: %u layers, embedding %u, vocabulary %u, context %u, chat template %s", name,
        (unsigned long long)((static_cast<u64>(aisos_now_ns()) - start) / 1000000), c.n_layers, c.n_embd, c.n_vocab, c.context_length,
        victim->model->chat_template().name());
    return victim;
}

void release_model(LoadedModel* slot)
{
    Lock lock(s_models_mutex);
    --slot->references;
}

// ---- jobs and the queue ------------------------------------------------------------

struct Job {
    aisos_request info;
    char* body { nullptr };
    bool websocket { false };
    u64 id { 0 }; // the request, or the WebSocket connection
    GenerationRequest request;
    std::atomic<bool> cancel { false };
    u64 received_ns { 0 };
    Job* next { nullptr };
    ~Job() { free(body); }
};

struct Queue {
    aisos_mutex_t mutex AISOS_MUTEX_INIT;
    aisos_cond_t ready AISOS_COND_INIT;
    Job* head { nullptr };
    Job* tail { nullptr };
    u32 depth { 0 };
};
Queue s_queue;

bool enqueue(Job* job)
{
    {
        Lock lock(s_queue.mutex);
        if (s_queue.depth >= s_queue_limit)
            return false;
        if (s_queue.tail)
            s_queue.tail->next = job;
        else
            s_queue.head = job;
        s_queue.tail = job;
        ++s_queue.depth;
        aisos_cond_signal(&s_queue.ready);
    }
    {
        Lock lock(s_metrics.mutex);
        s_metrics.queue_depth = s_queue.depth;
    }
    publish_metrics();
    return true;
}

Job* dequeue()
{
    Job* job;
    {
        Lock lock(s_queue.mutex);
        while (!s_queue.head)
            aisos_cond_wait(&s_queue.ready, &s_queue.mutex);
        job = s_queue.head;
        s_queue.head = job->next;
        if (!s_queue.head)
            s_queue.tail = nullptr;
        --s_queue.depth;
    }
    {
        Lock lock(s_metrics.mutex);
        s_metrics.queue_depth = s_queue.depth;
        ++s_metrics.active;
    }
    return job;
}

// ---- WebSocket connections -----------------------------------------------------------

struct Connection {
    u64 id { 0 };
    Job* job { nullptr }; // the generation running or queued for it
    bool closed { false };
};
Connection s_connections[s_max_connections];
aisos_mutex_t s_connections_mutex AISOS_MUTEX_INIT;

Connection* find_connection(u64 id)
{
    for (auto& c : s_connections)
        if (c.id == id)
            return &c;
    return nullptr;
}

// A worker finished the connection's job: release the connection if the
// client left meanwhile.
void connection_job_done(u64 id)
{
    Lock lock(s_connections_mutex);
    Connection* c = find_connection(id);
    if (!c)
        return;
    c->job = nullptr;
    if (c->closed) {
        aisos_response_end(id);
        *c = {};
    }
}

// ---- a generation ------------------------------------------------------------------

struct Worker {
    u32 index { 0 };
    ThreadPool* pool { nullptr };
    Session* session { nullptr };
    LoadedModel* session_model { nullptr };
    aisos_thread_t thread {};
};
Worker s_workers[s_worker_count];
unsigned s_engine_threads = 1;
std::atomic<u64> s_next_id { 1 };
engine::KernelIsa s_kernel_isa = engine::KernelIsa::Scalar;

// QEMU without hardware virtualisation (TCG) names itself in the hypervisor
// CPUID leaf. It emulates every AVX2/AVX-512 instruction with a helper
// call: in a TCG guest the AVX2 kernels measured 10x slower than the scalar
// ones (tiny test model: 1-6 vs 10-18 tokens/s), so there the scalar
// kernels are the fast choice. Real CPUs and KVM guests keep the best SIMD set.
bool emulated_by_tcg()
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 31)))
        return false;
    __cpuid(0x40000000, a, b, c, d);
    char vendor[13];
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &c, 4);
    memcpy(vendor + 8, &d, 4);
    vendor[12] = 0;
    return strcmp(vendor, "TCGTCGTCGTCG") == 0;
}

struct Run {
    Job& job;
    char const* model_name;
    char id_text[40];
    u64 created;
    Text answer;   // non-streamed answers collect here
    Text scratch;  // one streamed piece
    bool started { false }; // response_start done (streams)
    bool client_gone { false };
    bool write_failed { false };
    u32 tokens { 0 };
    u64 first_token_ns { 0 };
};

void note_client_gone(Run& run)
{
    run.client_gone = true;
    run.job.cancel.store(true);
}

// Writes one piece of a stream; false once the client is gone.
bool write_piece(Run& run, std::string_view piece)
{
    int64_t result = aisos_response_write(run.job.id, piece.data(), piece.size());
    if (result == -AISOS_ECANCELED) {
        note_client_gone(run);
        return false;
    }
    return result >= 0;
}

bool on_text(void* context, std::string_view text)
{
    auto& run = *static_cast<Run*>(context);
    auto& request = run.job.request;
    if (!request.stream) {
        if (run.answer.append(text).is_error()) {
            run.write_failed = true;
            return false;
        }
        return true;
    }
    run.scratch.clear();
    ErrorOr<void> formatted = {};
    switch (request.endpoint) {
    case Endpoint::Ai:
        return write_piece(run, text);
    case Endpoint::ChatCompletions:
        formatted = format_chat_chunk(run.scratch, run.id_text, run.created, run.model_name, ChunkKind::Content, text, nullptr);
        break;
    case Endpoint::Completions:
        formatted = format_completion_chunk(run.scratch, run.id_text, run.created, run.model_name, text, nullptr);
        break;
    case Endpoint::WebSocketChat:
        formatted = format_ws_token(run.scratch, text);
        break;
    }
    if (formatted.is_error()) {
        run.write_failed = true;
        return false;
    }
    return write_piece(run, run.scratch.view());
}

void on_token(void* context, u32)
{
    auto& run = *static_cast<Run*>(context);
    if (run.tokens++ == 0)
        run.first_token_ns = static_cast<u64>(aisos_now_ns());
    // Non-streamed answers write nothing until the end: ask the kernel
    // whether the client is still there (for /ws: whether it left; a stop
    // message sets job.cancel directly).
    if (aisos_sys_request_canceled(run.job.id) == 1)
        note_client_gone(run);
}

// The prompt's token ids, as the native CLI builds them (engine/cli:
// encode_prompt): the chat template or the plain text, and the model's
// prefix tokens unless the rendered template already starts with them.
ErrorOr<void> encode_prompt(Model const& model, GenerationRequest const& request, Vector<u32>& out)
{
    auto const& tokenizer = model.tokenizer();
    Vector<u32> ids;
    bool use_template = request.use_chat_template && model.chat_template().format() != engine::ChatFormat::None;
    if (request.use_chat_template && !use_template) {
        // A model without a known chat template (a base model) gets the
        // messages' contents as plain text, one per line; for /ai that is
        // the prompt exactly (as the CLI without --chat).
        Vector<char> joined;
        for (size_t i = 0; i < request.messages.size(); ++i) {
            if (i)
                TRY(joined.try_append('\n'));
            TRY(joined.try_append(request.messages[i].content.data(), request.messages[i].content.size()));
        }
        TRY(tokenizer.encode(std::string_view(joined.data(), joined.size()), ids));
    } else if (use_template) {
        Vector<char> rendered;
        TRY(model.chat_template().render(request.messages.data(), request.messages.size(), true, rendered));
        TRY(tokenizer.encode(std::string_view(rendered.data(), rendered.size()), ids));
    } else {
        TRY(tokenizer.encode(request.prompt, ids));
    }
    auto const& prefix = tokenizer.prefix_tokens();
    bool has_prefix = ids.size() >= prefix.size();
    for (size_t i = 0; has_prefix && i < prefix.size(); ++i)
        has_prefix = ids[i] == prefix[i];
    if (!(use_template && has_prefix))
        TRY(out.try_append(prefix.data(), prefix.size()));
    return out.try_append(ids.data(), ids.size());
}

// Sends an error the way the job's protocol wants it (before any answer
// went out), and ends an HTTP request.
void fail_job(Job& job, u32 status, std::string_view message)
{
    if (job.websocket)
        ws_send_error(job.id, message);
    else
        respond_error(job.id, status, message);
}

void run_job(Worker& worker, Job& job)
{
    auto& request = job.request;

    // Which model.
    ModelList list;
    if (auto listed = list_models(list); listed.is_error())
        return fail_job(job, 503, "cannot list /fs/models");
    size_t index = 0;
    auto resolved = resolve_model(list.entries.data(), list.entries.size(), request.model, s_default_model, index);
    if (resolved == ResolveResult::NoModels)
        return fail_job(job, 503, "no model under /fs/models; upload one with PUT /fs/models/<name>.gguf");
    if (resolved == ResolveResult::Unknown) {
        ApiError error;
        error.set(404, "unknown model \"", request.model, "\"; GET /v1/models lists the models under /fs/models");
        return fail_job(job, 404, error.message);
    }
    char model_name[s_name_max];
    snprintf(model_name, sizeof(model_name), "%.*s", (int)list.entries[index].name.size(), list.entries[index].name.data());

    // Its session on this worker.
    if (!worker.session_model || strcmp(worker.session_model->name, model_name) != 0) {
        delete worker.session;
        worker.session = nullptr;
        if (worker.session_model)
            release_model(worker.session_model);
        worker.session_model = nullptr;
        auto acquired = acquire_model(model_name);
        if (acquired.is_error()) {
            ApiError error;
            error.set(503, "cannot load model \"", model_name, "\"");
            return fail_job(job, acquired.error().code() == ErrorCode::Busy ? 503 : 500, error.message);
        }
        worker.session_model = acquired.value();
        publish_metrics();
        Model const& model = *worker.session_model->model;
        u32 context = model.config().context_length < s_max_context ? model.config().context_length : s_max_context;
        auto session = Session::create(model, *worker.pool, engine::kernel_set(s_kernel_isa), context);
        if (session.is_error()) {
            release_model(worker.session_model);
            worker.session_model = nullptr;
            return fail_job(job, 503, "not enough memory for a session of this model");
        }
        worker.session = session.value();
    } else {
        Lock lock(s_models_mutex);
        worker.session_model->last_used = static_cast<u64>(aisos_now_ns());
    }
    Model const& model = *worker.session_model->model;
    Session& session = *worker.session;

    Vector<u32> prompt;
    if (encode_prompt(model, request, prompt).is_error())
        return fail_job(job, 400, "the prompt cannot be tokenized");
    if (prompt.is_empty())
        return fail_job(job, 400, "the prompt has no tokens");
    if (prompt.size() >= session.context_length()) {
        char message[128];
        snprintf(message, sizeof(message), "the prompt has %zu tokens; the context holds %u", prompt.size(), session.context_length());
        return fail_job(job, 400, message);
    }
    if (!request.seed_given)
        aisos_sys_random(&request.sampling.seed, sizeof(request.sampling.seed));

    Run run { .job = job, .model_name = model_name, .id_text = {}, .created = wall_seconds() };
    u64 serial = s_next_id.fetch_add(1);
    snprintf(run.id_text, sizeof(run.id_text), "%s-%llu", request.endpoint == Endpoint::Completions ? "cmpl" : "chatcmpl", (unsigned long long)serial);

    // Streams start now, so the client sees the headers before the prefill.
    if (request.stream && !job.websocket) {
        char const* type = request.endpoint == Endpoint::Ai ? "text/plain; charset=utf-8" : "text/event-stream";
        if (aisos_response_start(job.id, 200, type) < 0) {
            aisos_response_end(job.id);
            return;
        }
        run.started = true;
        if (request.endpoint == Endpoint::ChatCompletions) {
            run.scratch.clear();
            if (format_chat_chunk(run.scratch, run.id_text, run.created, model_name, ChunkKind::First, {}, nullptr).is_error() || !write_piece(run, run.scratch.view())) {
                aisos_response_end(job.id);
                return;
            }
        }
    }

    engine::GenerationOptions options;
    options.max_new_tokens = request.max_tokens;
    options.sampling = request.sampling;
    options.stop_sequences = request.stops;
    options.stop_sequence_count = request.stop_count;
    options.cancel = &job.cancel;
    engine::GenerationCallbacks callbacks;
    callbacks.context = &run;
    callbacks.on_text = on_text;
    callbacks.on_token = on_token;
    session.reset();
    auto generated = engine::generate(session, model.tokenizer(), prompt.data(), prompt.size(), options, callbacks);

    if (generated.is_error()) {
        aisos_logf("generation failed: %s", generated.error().reason() ? generated.error().reason() : "error");
        if (run.started) {
            aisos_response_end(job.id); // a broken chunked body tells the client
        } else {
            fail_job(job, 500, "the generation failed");
        }
        return;
    }
    auto const& result = generated.value();
    bool canceled = run.client_gone || job.cancel.load() || result.reason == StopReason::Cancelled;
    Usage usage { result.prompt_tokens, result.generated_tokens };
    char const* finish = finish_reason(result.reason);
    {
        Lock lock(s_metrics.mutex);
        ++s_metrics.requests_total;
        if (canceled)
            ++s_metrics.requests_canceled_total;
        s_metrics.tokens_generated_total += result.generated_tokens;
        s_metrics.prompt_tokens_total += result.prompt_tokens;
        if (result.decode_ns && result.decode_evaluations)
            s_metrics.decode_milli_tokens_per_second = u64(result.decode_evaluations) * 1000000000000ull / result.decode_ns;
        if (run.first_token_ns)
            s_metrics.ttft_microseconds = (run.first_token_ns - job.received_ns) / 1000;
    }
    // Published before the log line below, so whoever reads that line finds the request counted in /metrics.
    publish_metrics();
    // Speeds in tokens per second, to three decimals, without floating point formatting.
    u64 prefill_milli = result.prefill_ns ? u64(result.prompt_tokens) * 1000000000000ull / result.prefill_ns : 0;
    u64 decode_milli = result.decode_ns ? u64(result.decode_evaluations) * 1000000000000ull / result.decode_ns : 0;
    aisos_logf("%s %s: %u prompt + %u generated tokens, %s%s; prefill %llu.%03llu tok/s, decode %llu.%03llu tok/s", model_name, run.id_text,
        result.prompt_tokens, result.generated_tokens, engine::stop_reason_name(result.reason), canceled ? " (canceled: stopped early)" : "",
        (unsigned long long)(prefill_milli / 1000), (unsigned long long)(prefill_milli % 1000), (unsigned long long)(decode_milli / 1000),
        (unsigned long long)(decode_milli % 1000));

    if (job.websocket) {
        if (!run.client_gone) {
            run.scratch.clear();
            if (!format_ws_done(run.scratch, canceled ? "stop" : finish, usage).is_error())
                write_piece(run, run.scratch.view());
        }
        return;
    }
    if (run.started) {
        if (!run.client_gone) {
            run.scratch.clear();
            ErrorOr<void> formatted = {};
            if (request.endpoint == Endpoint::Ai)
                formatted = run.scratch.append("\n");
            else if (request.endpoint == Endpoint::ChatCompletions)
                formatted = format_chat_chunk(run.scratch, run.id_text, run.created, model_name, ChunkKind::Last, {}, finish);
            else
                formatted = format_completion_chunk(run.scratch, run.id_text, run.created, model_name, {}, finish);
            if (!formatted.is_error() && write_piece(run, run.scratch.view()) && request.endpoint != Endpoint::Ai)
                write_piece(run, sse_done);
        }
        aisos_response_end(job.id);
        return;
    }
    if (run.client_gone) {
        aisos_response_end(job.id);
        return;
    }
    if (run.write_failed)
        return respond_error(job.id, 503, "out of memory");
    Text body;
    ErrorOr<void> formatted = {};
    char const* type = "application/json";
    if (request.endpoint == Endpoint::Ai) {
        formatted = body.append(run.answer.view());
        if (!formatted.is_error())
            formatted = body.append("\n");
        type = "text/plain; charset=utf-8";
    } else if (request.endpoint == Endpoint::ChatCompletions) {
        formatted = format_chat_completion(body, run.id_text, run.created, model_name, run.answer.view(), finish, usage);
    } else {
        formatted = format_completion(body, run.id_text, run.created, model_name, run.answer.view(), finish, usage);
    }
    if (formatted.is_error())
        return respond_error(job.id, 503, "out of memory");
    aisos_respond(job.id, 200, type, body.view().data(), body.view().size());
}

int64_t worker_main(void* argument)
{
    auto& worker = *static_cast<Worker*>(argument);
    for (;;) {
        Job* job = dequeue();
        publish_metrics();
        run_job(worker, *job);
        if (job->websocket)
            connection_job_done(job->id);
        delete job;
        {
            Lock lock(s_metrics.mutex);
            --s_metrics.active;
        }
        publish_metrics();
    }
    return 0;
}

// ---- the main thread: receive, parse, queue -------------------------------------------

char s_body[AISOS_REQUEST_BODY_MAX];
aisos_request s_request;

Job* make_job(aisos_request const& info, u64 id, bool websocket)
{
    auto* job = new (std::nothrow) Job;
    if (!job)
        return nullptr;
    memcpy(&job->info, &info, sizeof(info));
    job->id = id;
    job->websocket = websocket;
    job->received_ns = static_cast<u64>(aisos_now_ns());
    job->body = static_cast<char*>(malloc(info.body_length + 1));
    if (!job->body) {
        delete job;
        return nullptr;
    }
    memcpy(job->body, s_body, info.body_length);
    job->body[info.body_length] = 0;
    return job;
}

void serve_models(aisos_request const& request)
{
    ModelList list;
    if (list_models(list).is_error())
        return respond_error(request.id, 503, "cannot list /fs/models");
    Vector<std::string_view> names;
    for (auto const& e : list.entries)
        if (names.try_append(e.name).is_error())
            return respond_error(request.id, 503, "out of memory");
    Text text;
    if (format_model_list(text, names.data(), names.size(), wall_seconds()).is_error())
        return respond_error(request.id, 503, "out of memory");
    aisos_respond(request.id, 200, "application/json", text.view().data(), text.view().size());
}

void serve_http(aisos_request const& request)
{
    bool post = request.method == AISOS_METHOD_POST;
    Endpoint endpoint;
    if (aisos_request_path_is(&request, "/v1/models")) {
        if (request.method != AISOS_METHOD_GET)
            return respond_error(request.id, 405, "GET /v1/models");
        return serve_models(request);
    } else if (aisos_request_path_is(&request, "/ai")) {
        endpoint = Endpoint::Ai;
    } else if (aisos_request_path_is(&request, "/v1/chat/completions")) {
        endpoint = Endpoint::ChatCompletions;
    } else if (aisos_request_path_is(&request, "/v1/completions")) {
        endpoint = Endpoint::Completions;
    } else {
        return respond_error(request.id, 404, "no such endpoint; see /v1/models, /v1/chat/completions, /v1/completions, /ai");
    }
    if (!post)
        return respond_error(request.id, 405, "this endpoint takes POST");
    Job* job = make_job(request, request.id, false);
    if (!job)
        return respond_error(request.id, 503, "out of memory");
    std::string_view body(job->body, request.body_length);
    std::string_view content_type(request.content_type, request.content_type_length);
    ApiError error;
    bool ok = endpoint == Endpoint::Ai                ? parse_ai(content_type, body, job->request, error)
        : endpoint == Endpoint::ChatCompletions ? parse_chat_completions(body, job->request, error)
                                                : parse_completions(body, job->request, error);
    if (!ok) {
        respond_error(request.id, error.status, error.message);
        delete job;
        return;
    }
    if (!enqueue(job)) {
        {
            Lock lock(s_metrics.mutex);
            ++s_metrics.requests_rejected_total;
        }
        respond_error(request.id, 429, "too many generations waiting; try again later");
        delete job;
    }
}

void serve_websocket(aisos_request const& request)
{
    u64 connection = request.connection;
    if (request.kind == AISOS_REQUEST_WEBSOCKET_OPEN) {
        Lock lock(s_connections_mutex);
        Connection* free_slot = find_connection(0);
        if (!free_slot) {
            aisos_response_end(request.id); // closes it: no room
            return;
        }
        free_slot->id = request.id;
        return;
    }
    if (request.kind == AISOS_REQUEST_WEBSOCKET_CLOSE) {
        Lock lock(s_connections_mutex);
        Connection* c = find_connection(connection);
        if (!c) {
            aisos_response_end(connection);
            return;
        }
        c->closed = true;
        if (c->job)
            c->job->cancel.store(true);
        else {
            aisos_response_end(connection);
            *c = {};
        }
        return;
    }
    // A message.
    Job* job = make_job(request, connection, true);
    if (!job)
        return ws_send_error(connection, "out of memory");
    WebSocketMessageType type {};
    ApiError error;
    if (!parse_websocket_message(std::string_view(job->body, request.body_length), type, job->request, error)) {
        ws_send_error(connection, error.message);
        delete job;
        return;
    }
    Lock lock(s_connections_mutex);
    Connection* c = find_connection(connection);
    if (!c) {
        delete job;
        return;
    }
    if (type == WebSocketMessageType::Stop) {
        if (c->job)
            c->job->cancel.store(true);
        delete job;
        return;
    }
    if (c->job) {
        ws_send_error(connection, "a reply is still being generated; send {\"type\":\"stop\"} first");
        delete job;
        return;
    }
    c->job = job;
    if (!enqueue(job)) {
        c->job = nullptr;
        {
            Lock metrics_lock(s_metrics.mutex);
            ++s_metrics.requests_rejected_total;
        }
        ws_send_error(connection, "too many generations waiting; try again later");
        delete job;
    }
}

void log_compute_devices()
{
    struct aisos_system_info info {};
    aisos_sys_system_info(&info);
    for (u32 i = 0; i < info.gpu_count; ++i) {
        struct aisos_gpu_info gpu {};
        if (aisos_sys_gpu_info(i, &gpu) < 0)
            break;
        gpu.name[sizeof(gpu.name) - 1] = 0;
        aisos_logf("GPU %u: %s (%04x:%04x); aiSOS has no GPU compute path, so it is not used", i, gpu.name, gpu.vendor, gpu.device);
    }
    aisos_logf("computing on the CPU: %u CPUs, %u engine threads per generation, %s kernels%s, %u serving threads", info.cpu_count,
        s_engine_threads, engine::kernel_isa_name(s_kernel_isa), s_kernel_isa != engine::detect_kernel_isa() ? " (emulated CPU: QEMU TCG)" : "",
        s_worker_count);
}

} // namespace
} // namespace aisos::llm

extern "C" int main()
{
    using namespace aisos::llm;
    struct aisos_system_info info {};
    aisos_sys_system_info(&info);
    unsigned cpus = info.cpu_count ? info.cpu_count : 1;
    // Threads: main + serving threads + (engine threads - 1) per serving thread.
    unsigned budget = info.thread_limit > 1 + s_worker_count ? (info.thread_limit - 1 - s_worker_count) / s_worker_count + 1 : 1;
    s_engine_threads = cpus < budget ? cpus : budget;
    s_kernel_isa = emulated_by_tcg() ? aisos::engine::KernelIsa::Scalar : aisos::engine::detect_kernel_isa();
    log_compute_devices();

    int64_t length = aisos_config_get("default_model", s_default_model, sizeof(s_default_model));
    if (length < 0)
        s_default_model[0] = 0;
    else
        aisos_logf("default model from aisos.cfg: %s", s_default_model);

    for (u32 i = 0; i < s_worker_count; ++i) {
        auto& worker = s_workers[i];
        worker.index = i;
        auto pool = aisos::engine::platform_create_thread_pool(s_engine_threads);
        if (pool.is_error()) {
            aisos_logf("cannot start %u engine threads", s_engine_threads);
            return 1;
        }
        worker.pool = pool.value();
    }

    // Load the default model now (GET /health says "loading" meanwhile), so
    // the first request does not wait for it.
    {
        ModelList list;
        size_t index = 0;
        if (!list_models(list).is_error() && resolve_model(list.entries.data(), list.entries.size(), {}, s_default_model, index) == ResolveResult::Found) {
            char name[s_name_max];
            snprintf(name, sizeof(name), "%.*s", (int)list.entries[index].name.size(), list.entries[index].name.data());
            if (auto loaded = acquire_model(name); !loaded.is_error())
                release_model(loaded.value());
        } else {
            aisos_log("no model under /fs/models yet; upload one with PUT /fs/models/<name>.gguf");
        }
    }
    publish_metrics();

    for (u32 i = 0; i < s_worker_count; ++i) {
        if (aisos_thread_create(&s_workers[i].thread, worker_main, &s_workers[i]) < 0) {
            aisos_log("cannot start a serving thread");
            return 1;
        }
    }
    aisos_log("ready: POST /ai, POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /ws");

    for (;;) {
        int64_t received = aisos_request_receive(&s_request, s_body, sizeof(s_body), -1);
        if (received < 0)
            continue;
        if (s_request.kind == AISOS_REQUEST_HTTP)
            serve_http(s_request);
        else
            serve_websocket(s_request);
    }
}
