#pragma once

// A loaded model: configuration, weights (views into the mapped files, used
// in place whatever their type), f32 norm weights, and its tokenizer.

#include "engine/format/Gguf.h"
#include "engine/format/Safetensors.h"
#include "engine/model/ChatTemplate.h"
#include "engine/model/ModelConfig.h"
#include "engine/tokenizer/Tokenizer.h"

namespace aisos::engine {

// A weight matrix: `rows` output features, each a row of `cols` inputs.
struct Weight {
    TensorType type { TensorType::F32 };
    u8 const* data { nullptr };
    u64 rows { 0 };
    u64 cols { 0 };
    u64 row_bytes { 0 };

    u8 const* row(u64 r) const { return data + r * row_bytes; }
};

struct LayerWeights {
    Vector<float> attn_norm;
    Weight wq, wk, wv, wo;
    Vector<float> ffn_norm;
    Weight w_gate, w_up, w_down;
};

class Model {
public:
    // path: a .gguf file, or a directory with *.safetensors + config.json + tokenizer.json.
    static ErrorOr<Model*> load(char const* path);
    ~Model();

    ModelConfig const& config() const { return m_config; }
    Tokenizer const& tokenizer() const { return m_tokenizer; }
    ChatTemplate const& chat_template() const { return m_chat_template; }
    Weight const& token_embedding() const { return m_token_embedding; }
    Weight const& output() const { return m_output; }
    Vector<float> const& output_norm() const { return m_output_norm; }
    LayerWeights const& layer(u32 i) const { return m_layers[i]; }

    // Every tensor of the file(s) by its own name, for --dump-tensor and --info.
    Vector<TensorDesc> const& tensors() const { return m_tensors; }
    TensorDesc const* find_tensor(std::string_view name) const;
    // Summary of tensor types, e.g. "Q4_1:210 F32:61 Q8_0:1".
    void describe_tensor_types(char* buffer, size_t size) const;

    // Embedding row of a token, dequantized and scaled (Gemma) into out[n_embd].
    ErrorOr<void> embed(u32 token, float* out) const;

private:
    Model() = default;
    ErrorOr<void> load_gguf(char const* path);
    ErrorOr<void> load_safetensors_directory(char const* path);
    ErrorOr<void> validate_and_bind(ErrorOr<TensorDesc const*> (*find)(Model const&, char const* name, void* context), void* context);

    ModelConfig m_config;
    Tokenizer m_tokenizer;
    ChatTemplate m_chat_template;
    Vector<MappedFile> m_files;
    GgufFile m_gguf;
    Vector<SafetensorsFile> m_safetensors;
    Vector<TensorDesc> m_tensors;
    StringMap<u32> m_tensor_index;
    Arena m_names;
    Weight m_token_embedding;
    Weight m_output;
    Vector<float> m_output_norm;
    Vector<LayerWeights> m_layers;
};

} // namespace aisos::engine
