#include "engine/model/Model.h"
#include "engine/kernels/Kernels.h"

#include "engine/base/TextBuilder.h"

#include <cmath>

namespace aisos::engine {

char const* architecture_name(Architecture architecture)
{
    switch (architecture) {
    case Architecture::Llama: return "llama";
    case Architecture::Gemma: return "gemma";
    }
    return "?";
}

Model::~Model()
{
    for (auto& file : m_files)
        platform_unmap_file(file);
}

static bool ends_with(std::string_view text, std::string_view suffix)
{
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

ErrorOr<Model*> Model::load(char const* path)
{
    auto* model = new (std::nothrow) Model();
    if (!model)
        return Error::no_memory();
    std::string_view p(path);
    auto result = ends_with(p, ".gguf") ? model->load_gguf(path) : model->load_safetensors_directory(path);
    if (result.is_error()) {
        delete model;
        return result.error();
    }
    return model;
}

TensorDesc const* Model::find_tensor(std::string_view name) const
{
    auto const* index = m_tensor_index.get(name);
    return index ? &m_tensors[*index] : nullptr;
}

void Model::describe_tensor_types(char* buffer, size_t size) const
{
    u32 counts[32] = {};
    for (auto const& tensor : m_tensors)
        ++counts[static_cast<u32>(tensor.type) & 31];
    TextBuilder text(buffer, size);
    for (u32 id = 0; id < 32; ++id) {
        if (!counts[id])
            continue;
        if (text.length())
            text.append(" ");
        text.append(tensor_type_name(static_cast<TensorType>(id))).append(":").append(static_cast<u64>(counts[id]));
    }
}

ErrorOr<void> Model::embed(u32 token, float* out) const
{
    if (token >= m_token_embedding.rows)
        return Error { ErrorCode::OutOfRange, "token id is outside the embedding table" };
    dequantize_row(m_token_embedding.type, m_token_embedding.row(token), out, m_config.n_embd);
    if (m_config.embedding_scale != 1.0f) {
        for (u32 i = 0; i < m_config.n_embd; ++i)
            out[i] *= m_config.embedding_scale;
    }
    return {};
}

static ErrorOr<void> check_config(ModelConfig const& c)
{
    if (c.n_layers == 0 || c.n_layers > 1024)
        return Error::corrupt("model layer count is missing or absurd");
    if (c.n_embd == 0 || c.n_embd > 65536 || c.n_heads == 0 || c.n_heads > 1024 || c.n_kv_heads == 0)
        return Error::corrupt("model width or head count is missing or absurd");
    if (c.n_heads % c.n_kv_heads != 0)
        return Error::corrupt("attention head count is not a multiple of the KV head count");
    if (c.head_dim == 0 || c.head_dim > 1024 || c.head_dim % 2 != 0)
        return Error::corrupt("attention head dimension is missing, odd or absurd");
    if (c.n_ff == 0 || c.n_ff > (1u << 20))
        return Error::corrupt("feed-forward width is missing or absurd");
    if (c.n_vocab == 0 || c.n_vocab > (1u << 22))
        return Error::corrupt("vocabulary size is missing or absurd");
    if (c.context_length == 0)
        return Error::corrupt("context length is zero");
    if (!(c.rms_eps > 0) || !(c.rope_theta > 0))
        return Error::corrupt("rms epsilon or rope theta is not positive");
    return {};
}

struct Binder {
    Model const& model;
    ModelConfig const& config;
    TensorDesc const* (*find)(Model const&, std::string_view);

    ErrorOr<Weight> weight(std::string_view name, u64 rows, u64 cols) const
    {
        auto const* tensor = find(model, name);
        if (!tensor)
            return Error::not_found("model is missing a weight tensor (see --info for names)");
        if (tensor->shape[0] != cols || tensor->shape[1] != rows || tensor->shape[2] != 1 || tensor->shape[3] != 1)
            return Error::corrupt("weight tensor shape does not match the model configuration");
        Weight w;
        w.type = tensor->type;
        w.data = tensor->data;
        w.rows = rows;
        w.cols = cols;
        w.row_bytes = TRY(tensor_row_bytes(tensor->type, cols));
        if (activation_format(w.type) == ActivationFormat::Q8K && cols % QK_K != 0)
            return Error::corrupt("k-quant weight row is not a whole number of super-blocks");
        return w;
    }

    ErrorOr<Vector<float>> norm(std::string_view name) const
    {
        auto const* tensor = find(model, name);
        if (!tensor)
            return Error::not_found("model is missing a norm tensor");
        if (tensor->element_count() != config.n_embd || tensor->shape[0] != config.n_embd)
            return Error::corrupt("norm tensor size does not match the model width");
        Vector<float> values;
        TRY(values.try_resize(config.n_embd));
        dequantize_row(tensor->type, tensor->data, values.data(), config.n_embd);
        if (config.norm_adds_one) {
            for (auto& v : values)
                v += 1.0f;
        }
        return values;
    }
};

ErrorOr<void> Model::load_gguf(char const* path)
{
    MappedFile file = TRY(platform_map_file(path));
    if (auto result = m_files.try_append(file); result.is_error()) {
        platform_unmap_file(file);
        return result.error();
    }
    m_gguf = TRY(GgufFile::parse(file.data, file.size));
    auto& g = m_gguf;
    auto arch = g.get_string("general.architecture");
    if (!arch)
        return Error::corrupt("GGUF has no general.architecture");
    ModelConfig c;
    c.source = ModelSource::Gguf;
    if (*arch == "llama") {
        c.architecture = Architecture::Llama;
        c.rope_layout = RopeLayout::Interleaved;
    } else if (*arch == "gemma") {
        c.architecture = Architecture::Gemma;
        c.rope_layout = RopeLayout::NeoX;
        c.activation = FeedForwardActivation::GeluTanh;
        c.rms_eps = 1e-6f;
    } else {
        return Error::unsupported("unsupported GGUF architecture (supported: llama, gemma)");
    }
    char key[128];
    auto k = [&](char const* suffix) {
        return TextBuilder(key, sizeof(key)).append(*arch).append(".").append(suffix).view();
    };
    auto get_u32 = [&](char const* suffix, u64 fallback) -> u32 {
        u64 v = g.get_uint(k(suffix)).value_or(fallback);
        return v > 0xFFFFFFFFull ? 0 : static_cast<u32>(v);
    };
    c.n_layers = get_u32("block_count", 0);
    c.n_embd = get_u32("embedding_length", 0);
    c.n_ff = get_u32("feed_forward_length", 0);
    c.n_heads = get_u32("attention.head_count", 0);
    c.n_kv_heads = get_u32("attention.head_count_kv", c.n_heads);
    c.head_dim = get_u32("attention.key_length", c.n_heads ? c.n_embd / c.n_heads : 0);
    c.context_length = get_u32("context_length", 2048);
    c.rope_theta = static_cast<float>(g.get_float(k("rope.freq_base")).value_or(10000.0));
    c.rms_eps = static_cast<float>(g.get_float(k("attention.layer_norm_rms_epsilon")).value_or(c.rms_eps));
    if (auto rope_dims = g.get_uint(k("rope.dimension_count")); rope_dims && *rope_dims != c.head_dim)
        return Error::unsupported("partial rotary embeddings are not supported");
    if (get_u32("attention.value_length", c.head_dim) != c.head_dim)
        return Error::unsupported("value head size different from key head size is not supported");
    auto const* embedding = g.find_tensor("token_embd.weight");
    if (!embedding)
        return Error::not_found("GGUF has no token_embd.weight");
    c.n_vocab = static_cast<u32>(embedding->shape[1] > 0xFFFFFFFFull ? 0 : embedding->shape[1]);
    if (c.architecture == Architecture::Gemma)
        c.embedding_scale = std::sqrt(static_cast<float>(c.n_embd));
    c.tied_embeddings = g.find_tensor("output.weight") == nullptr;
    TRY(check_config(c));
    m_config = c;

    TRY(Tokenizer::load_from_gguf(g, m_tokenizer));
    if (m_tokenizer.vocab_size() > c.n_vocab)
        return Error::corrupt("tokenizer has more tokens than the embedding table");
    m_chat_template = TRY(ChatTemplate::choose(g.get_string("tokenizer.chat_template"), c.architecture, m_tokenizer));

    TRY(m_tensors.try_reserve(g.tensors().size()));
    TRY(m_tensor_index.try_reserve(g.tensors().size()));
    for (auto const& tensor : g.tensors()) {
        TRY(m_tensor_index.set(tensor.name, static_cast<u32>(m_tensors.size())));
        TRY(m_tensors.try_append(tensor));
    }

    Binder bind { *this, m_config, [](Model const& m, std::string_view name) { return m.find_tensor(name); } };
    m_token_embedding = TRY(bind.weight("token_embd.weight", c.n_vocab, c.n_embd));
    m_output = c.tied_embeddings ? m_token_embedding : TRY(bind.weight("output.weight", c.n_vocab, c.n_embd));
    m_output_norm = TRY(bind.norm("output_norm.weight"));
    TRY(m_layers.try_resize(c.n_layers));
    for (u32 i = 0; i < c.n_layers; ++i) {
        char name[96];
        auto n = [&](char const* suffix) {
            return TextBuilder(name, sizeof(name)).append("blk.").append(static_cast<u64>(i)).append(".").append(suffix).view();
        };
        auto& l = m_layers[i];
        l.attn_norm = TRY(bind.norm(n("attn_norm.weight")));
        l.wq = TRY(bind.weight(n("attn_q.weight"), c.q_dim(), c.n_embd));
        l.wk = TRY(bind.weight(n("attn_k.weight"), c.kv_dim(), c.n_embd));
        l.wv = TRY(bind.weight(n("attn_v.weight"), c.kv_dim(), c.n_embd));
        l.wo = TRY(bind.weight(n("attn_output.weight"), c.n_embd, c.q_dim()));
        l.ffn_norm = TRY(bind.norm(n("ffn_norm.weight")));
        l.w_gate = TRY(bind.weight(n("ffn_gate.weight"), c.n_ff, c.n_embd));
        l.w_up = TRY(bind.weight(n("ffn_up.weight"), c.n_ff, c.n_embd));
        l.w_down = TRY(bind.weight(n("ffn_down.weight"), c.n_embd, c.n_ff));
    }
    return {};
}

namespace {

struct DirectoryListing {
    Vector<char> names; // NUL-separated
    bool failed { false };
};

ErrorOr<MappedFile> map_in_directory(char const* directory, char const* name)
{
    char path[4096];
    TextBuilder text(path, sizeof(path));
    text.append(directory).append("/").append(name);
    if (text.overflowed())
        return Error::invalid("model path is too long");
    return platform_map_file(text.c_str());
}

} // namespace

ErrorOr<void> Model::load_safetensors_directory(char const* directory)
{
    DirectoryListing listing;
    TRY(platform_list_directory(directory, [](void* context, char const* name) {
        auto* l = static_cast<DirectoryListing*>(context);
        std::string_view n(name);
        if (n.size() > 12 && n.substr(n.size() - 12) == ".safetensors") {
            if (l->names.try_append(name, n.size()).is_error() || l->names.try_append('\0').is_error())
                l->failed = true;
        }
    }, &listing));
    if (listing.failed)
        return Error::no_memory();
    if (listing.names.is_empty())
        return Error::not_found("model directory has no *.safetensors file");

    auto map_json = [&](char const* name) -> ErrorOr<MappedFile> {
        MappedFile file = TRY(map_in_directory(directory, name));
        if (auto result = m_files.try_append(file); result.is_error()) {
            platform_unmap_file(file);
            return result.error();
        }
        return file;
    };

    for (size_t pos = 0; pos < listing.names.size();) {
        char const* name = listing.names.data() + pos;
        pos += std::string_view(name).size() + 1;
        MappedFile file = TRY(map_json(name));
        auto parsed = TRY(SafetensorsFile::parse(file.data, file.size));
        TRY(m_safetensors.try_append(std::move(parsed)));
    }
    for (auto const& file : m_safetensors) {
        for (auto const& tensor : file.tensors()) {
            if (m_tensor_index.get(tensor.name))
                return Error::corrupt("a tensor name appears in two safetensors files");
            TRY(m_tensor_index.set(tensor.name, static_cast<u32>(m_tensors.size())));
            TRY(m_tensors.try_append(tensor));
        }
    }

    MappedFile config_file = TRY(map_json("config.json"));
    auto config_json = TRY(JsonDocument::parse(std::string_view(reinterpret_cast<char const*>(config_file.data), config_file.size)));
    auto const& cfg = config_json.root();
    if (!cfg.is_object())
        return Error::invalid("config.json is not a JSON object");
    ModelConfig c;
    c.source = ModelSource::Safetensors;
    c.rope_layout = RopeLayout::NeoX;
    std::string_view architecture = config_json.get_string(cfg, "model_type").value_or("");
    if (auto const* list = config_json.get(cfg, "architectures"); list && list->is_array() && list->count > 0 && config_json.element(*list, 0).is_string()) {
        auto name = config_json.element(*list, 0).string;
        if (name == "LlamaForCausalLM")
            architecture = "llama";
        else if (name == "GemmaForCausalLM")
            architecture = "gemma";
        else
            return Error::unsupported("unsupported architecture in config.json (supported: LlamaForCausalLM, GemmaForCausalLM)");
    }
    if (architecture == "llama") {
        c.architecture = Architecture::Llama;
        c.tied_embeddings = config_json.get_bool(cfg, "tie_word_embeddings").value_or(false);
    } else if (architecture == "gemma") {
        c.architecture = Architecture::Gemma;
        c.norm_adds_one = true;
        c.tied_embeddings = config_json.get_bool(cfg, "tie_word_embeddings").value_or(true);
        c.activation = FeedForwardActivation::GeluTanh;
    } else {
        return Error::unsupported("unsupported model_type in config.json (supported: llama, gemma)");
    }
    auto get_u32 = [&](char const* key, i64 fallback) -> u32 {
        i64 v = config_json.get_integer(cfg, key).value_or(fallback);
        return v < 0 || v > 0xFFFFFFFFll ? 0 : static_cast<u32>(v);
    };
    c.n_layers = get_u32("num_hidden_layers", 0);
    c.n_embd = get_u32("hidden_size", 0);
    c.n_ff = get_u32("intermediate_size", 0);
    c.n_heads = get_u32("num_attention_heads", 0);
    c.n_kv_heads = get_u32("num_key_value_heads", c.n_heads);
    c.head_dim = get_u32("head_dim", c.n_heads ? c.n_embd / c.n_heads : 0);
    c.n_vocab = get_u32("vocab_size", 0);
    c.context_length = get_u32("max_position_embeddings", 2048);
    c.rms_eps = static_cast<float>(config_json.get_number(cfg, "rms_norm_eps").value_or(1e-6));
    c.rope_theta = static_cast<float>(config_json.get_number(cfg, "rope_theta").value_or(10000.0));
    if (auto const* scaling = config_json.get(cfg, "rope_scaling"); scaling && !scaling->is_null())
        return Error::unsupported("rope_scaling in config.json is not supported");
    auto act = config_json.get_string(cfg, "hidden_activation");
    if (!act)
        act = config_json.get_string(cfg, "hidden_act");
    if (act) {
        if (*act == "silu")
            c.activation = FeedForwardActivation::Silu;
        else if (*act == "gelu_pytorch_tanh" || *act == "gelu" || *act == "gelu_new")
            c.activation = FeedForwardActivation::GeluTanh; // Gemma runs "gelu" as the tanh form
        else
            return Error::unsupported("unsupported hidden activation in config.json");
    }
    if (c.architecture == Architecture::Gemma)
        c.embedding_scale = std::sqrt(static_cast<float>(c.n_embd));
    if (!c.tied_embeddings && !find_tensor("lm_head.weight"))
        c.tied_embeddings = true;
    TRY(check_config(c));
    m_config = c;

    MappedFile tokenizer_file = TRY(map_json("tokenizer.json"));
    TRY(Tokenizer::load_from_json(std::string_view(reinterpret_cast<char const*>(tokenizer_file.data), tokenizer_file.size), m_tokenizer));
    if (m_tokenizer.vocab_size() > c.n_vocab)
        return Error::corrupt("tokenizer has more tokens than the embedding table");

    // EOS and BOS from config.json, which the tokenizer alone does not know.
    auto add_eos = [&](JsonValue const& value) -> ErrorOr<void> {
        if (value.is_number() && value.is_integer) {
            if (value.integer < 0 || value.integer >= static_cast<i64>(m_tokenizer.vocab_size()))
                return Error::corrupt("config.json eos_token_id is outside the vocabulary");
            TRY(m_tokenizer.add_end_of_generation(static_cast<u32>(value.integer)));
        }
        return {};
    };
    if (auto const* eos = config_json.get(cfg, "eos_token_id")) {
        if (eos->is_array()) {
            for (u32 i = 0; i < eos->count; ++i)
                TRY(add_eos(config_json.element(*eos, i)));
            if (eos->count > 0 && config_json.element(*eos, 0).is_integer)
                m_tokenizer.set_eos(static_cast<u32>(config_json.element(*eos, 0).integer));
        } else {
            TRY(add_eos(*eos));
            if (eos->is_integer)
                m_tokenizer.set_eos(static_cast<u32>(eos->integer));
        }
    }
    if (auto bos = config_json.get_integer(cfg, "bos_token_id"); bos && *bos >= 0 && *bos < static_cast<i64>(m_tokenizer.vocab_size()))
        m_tokenizer.set_bos(static_cast<u32>(*bos));

    // tokenizer_config.json (optional): the chat template and add_bos_token.
    std::optional<std::string_view> no_template;
    m_chat_template = TRY(ChatTemplate::choose(no_template, c.architecture, m_tokenizer));
    if (auto tc = map_in_directory(directory, "tokenizer_config.json"); !tc.is_error()) {
        MappedFile tc_file = tc.release_value();
        if (auto result = m_files.try_append(tc_file); result.is_error()) {
            platform_unmap_file(tc_file);
            return result.error();
        }
        auto tc_json = TRY(JsonDocument::parse(std::string_view(reinterpret_cast<char const*>(tc_file.data), tc_file.size)));
        if (tc_json.root().is_object()) {
            // choose() copies what it keeps, so the document may die after it.
            if (auto text = tc_json.get_string(tc_json.root(), "chat_template"))
                m_chat_template = TRY(ChatTemplate::choose(text, c.architecture, m_tokenizer));
            if (auto add_bos = tc_json.get_bool(tc_json.root(), "add_bos_token")) {
                if (*add_bos && m_tokenizer.bos()) {
                    u32 bos = *m_tokenizer.bos();
                    TRY(m_tokenizer.set_prefix_tokens(&bos, 1));
                } else if (!*add_bos) {
                    TRY(m_tokenizer.set_prefix_tokens(nullptr, 0));
                }
            }
        }
    }

    Binder bind { *this, m_config, [](Model const& m, std::string_view name) { return m.find_tensor(name); } };
    m_token_embedding = TRY(bind.weight("model.embed_tokens.weight", c.n_vocab, c.n_embd));
    m_output = c.tied_embeddings ? m_token_embedding : TRY(bind.weight("lm_head.weight", c.n_vocab, c.n_embd));
    m_output_norm = TRY(bind.norm("model.norm.weight"));
    TRY(m_layers.try_resize(c.n_layers));
    for (u32 i = 0; i < c.n_layers; ++i) {
        char name[128];
        auto n = [&](char const* suffix) {
            return TextBuilder(name, sizeof(name)).append("model.layers.").append(static_cast<u64>(i)).append(".").append(suffix).view();
        };
        auto& l = m_layers[i];
        l.attn_norm = TRY(bind.norm(n("input_layernorm.weight")));
        l.wq = TRY(bind.weight(n("self_attn.q_proj.weight"), c.q_dim(), c.n_embd));
        l.wk = TRY(bind.weight(n("self_attn.k_proj.weight"), c.kv_dim(), c.n_embd));
        l.wv = TRY(bind.weight(n("self_attn.v_proj.weight"), c.kv_dim(), c.n_embd));
        l.wo = TRY(bind.weight(n("self_attn.o_proj.weight"), c.n_embd, c.q_dim()));
        l.ffn_norm = TRY(bind.norm(n("post_attention_layernorm.weight")));
        l.w_gate = TRY(bind.weight(n("mlp.gate_proj.weight"), c.n_ff, c.n_embd));
        l.w_up = TRY(bind.weight(n("mlp.up_proj.weight"), c.n_ff, c.n_embd));
        l.w_down = TRY(bind.weight(n("mlp.down_proj.weight"), c.n_embd, c.n_ff));
    }
    return {};
}

} // namespace aisos::engine
