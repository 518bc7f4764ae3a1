"""Tiny random-weight Llama and Gemma models, written as GGUF and as HF safetensors.

One set of random weights (seeded) is written in every format, so the GGUF
and safetensors files of a model describe the same network (up to the
rounding of each storage type): the oracle run on both must agree, which
checks the oracle's handling of each source's conventions (RoPE layout,
Gemma's +1 norm) before it is used to judge the engine.

Sizes: hidden 256 and FFN 512 so every row is a whole number of 256-wide
K-quant super-blocks; 2 layers; Llama has 4 query heads and 2 KV heads
(GQA), head_dim 64, an untied output matrix and rope_theta 1e5; Gemma has 4
query heads of head_dim 128 (q width 512 != hidden) and 1 KV head (MQA),
tied embeddings, tanh-GELU and the sqrt(hidden) = 16 embedding scale.
"""
import dataclasses
import json
import pathlib
import struct

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT

from . import quants
from .vocab import SpmVocab, gemma_prompt

GGUF_TYPES = ("F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q5_K", "Q6_K")
SAFETENSORS_DTYPES = ("F32", "F16", "BF16")

_FILE_TYPES = {"F32": gguf.LlamaFileType.ALL_F32, "F16": gguf.LlamaFileType.MOSTLY_F16,
               "BF16": gguf.LlamaFileType.MOSTLY_BF16, "Q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
               "Q4_0": gguf.LlamaFileType.MOSTLY_Q4_0, "Q4_1": gguf.LlamaFileType.MOSTLY_Q4_1,
               "Q4_K": gguf.LlamaFileType.MOSTLY_Q4_K_S, "Q5_K": gguf.LlamaFileType.MOSTLY_Q5_K_S,
               "Q6_K": gguf.LlamaFileType.MOSTLY_Q6_K}

GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'assistant') %}"
    "{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
    "{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}")


@dataclasses.dataclass
class TinySpec:
    arch: str
    seed: int
    n_layers: int = 2
    hidden: int = 256
    ffn: int = 512
    n_heads: int = 4
    n_kv_heads: int = 2
    head_dim: int = 64
    rope_theta: float = 100000.0
    rms_eps: float = 1e-5
    tied: bool = False
    context: int = 256


LLAMA = TinySpec(arch="llama", seed=1)
GEMMA = TinySpec(arch="gemma", seed=2, n_kv_heads=1, head_dim=128, rope_theta=10000.0, rms_eps=1e-6, tied=True)


class TinyModel:
    """HF-layout float32 weights plus the vocabulary; writes every format."""

    def __init__(self, spec):
        self.spec = spec
        self.vocab = SpmVocab(spec.arch)
        rng = np.random.default_rng(spec.seed)
        s = spec
        V = len(self.vocab.tokens)

        def linear(out_features, in_features):
            return (rng.standard_normal((out_features, in_features)) / np.sqrt(in_features)).astype(np.float32)

        def norm():
            # Gemma checkpoints store w and compute with (1 + w).
            offset = 0.0 if s.arch == "gemma" else 1.0
            return (offset + 0.1 * rng.standard_normal(s.hidden)).astype(np.float32)

        # Logit scale ~4 (0.25 * sqrt(hidden)) keeps greedy choices well separated. Gemma's tied
        # table is also its input, scaled by sqrt(hidden) = 16: a smaller std keeps the residual
        # stream from being just the current token's embedding (which would make greedy echo it).
        embed_std = 0.12 if s.tied else 0.25
        # ...and layer outputs large enough to move it (residual updates ~4x the embedding).
        out_gain = 4.0 if s.tied else 1.0
        self.hf = {"model.embed_tokens.weight": (embed_std * rng.standard_normal((V, s.hidden))).astype(np.float32)}
        for layer in range(s.n_layers):
            p = f"model.layers.{layer}."
            self.hf[p + "input_layernorm.weight"] = norm()
            self.hf[p + "self_attn.q_proj.weight"] = linear(s.n_heads * s.head_dim, s.hidden)
            self.hf[p + "self_attn.k_proj.weight"] = linear(s.n_kv_heads * s.head_dim, s.hidden)
            self.hf[p + "self_attn.v_proj.weight"] = linear(s.n_kv_heads * s.head_dim, s.hidden)
            self.hf[p + "self_attn.o_proj.weight"] = out_gain * linear(s.hidden, s.n_heads * s.head_dim)
            self.hf[p + "post_attention_layernorm.weight"] = norm()
            self.hf[p + "mlp.gate_proj.weight"] = linear(s.ffn, s.hidden)
            self.hf[p + "mlp.up_proj.weight"] = linear(s.ffn, s.hidden)
            self.hf[p + "mlp.down_proj.weight"] = out_gain * linear(s.hidden, s.ffn)
        self.hf["model.norm.weight"] = norm()
        if not s.tied:
            self.hf["lm_head.weight"] = (0.25 * rng.standard_normal((V, s.hidden))).astype(np.float32)

    # ---- GGUF -------------------------------------------------------------------------------

    def _rope_permute(self, weight, n_heads):
        """HF rotate-half rows -> llama.cpp's interleaved rows (what convert_hf_to_gguf does for llama)."""
        head_dim = weight.shape[0] // n_heads
        return (weight.reshape(n_heads, 2, head_dim // 2, weight.shape[1]).swapaxes(1, 2)
                .reshape(weight.shape))

    def gguf_tensors(self):
        s, hf = self.spec, self.hf
        gemma = s.arch == "gemma"

        def norm(name):
            return hf[name] + 1.0 if gemma else hf[name]  # the converter bakes Gemma's +1 in

        out = {"token_embd.weight": hf["model.embed_tokens.weight"]}
        for layer in range(s.n_layers):
            p, b = f"model.layers.{layer}.", f"blk.{layer}."
            q = hf[p + "self_attn.q_proj.weight"]
            k = hf[p + "self_attn.k_proj.weight"]
            if not gemma:  # llama.cpp uses NEOX (rotate-half) RoPE for Gemma: no permutation there
                q = self._rope_permute(q, s.n_heads)
                k = self._rope_permute(k, s.n_kv_heads)
            out[b + "attn_norm.weight"] = norm(p + "input_layernorm.weight")
            out[b + "attn_q.weight"] = q
            out[b + "attn_k.weight"] = k
            out[b + "attn_v.weight"] = hf[p + "self_attn.v_proj.weight"]
            out[b + "attn_output.weight"] = hf[p + "self_attn.o_proj.weight"]
            out[b + "ffn_norm.weight"] = norm(p + "post_attention_layernorm.weight")
            out[b + "ffn_gate.weight"] = hf[p + "mlp.gate_proj.weight"]
            out[b + "ffn_up.weight"] = hf[p + "mlp.up_proj.weight"]
            out[b + "ffn_down.weight"] = hf[p + "mlp.down_proj.weight"]
        out["output_norm.weight"] = norm("model.norm.weight")
        if not s.tied:
            out["output.weight"] = hf["lm_head.weight"]
        return out

    def write_gguf(self, path, type_name, random_bits=False):
        """random_bits: every matrix is random blocks of the type (quants.random_blocks) instead of
        the quantized weights; the model computes nonsense but every bit pattern gets dequantized."""
        s = self.spec
        qtype = QT[type_name]
        rng = np.random.default_rng(1000 + s.seed)
        writer = gguf.GGUFWriter(str(path), s.arch)
        writer.add_name(f"tiny-{s.arch}-{type_name}")
        writer.add_context_length(s.context)
        writer.add_embedding_length(s.hidden)
        writer.add_block_count(s.n_layers)
        writer.add_feed_forward_length(s.ffn)
        writer.add_head_count(s.n_heads)
        writer.add_head_count_kv(s.n_kv_heads)
        writer.add_layer_norm_rms_eps(s.rms_eps)
        if s.arch == "gemma":
            # Like converted Gemma files: explicit head size, default rope base (10000).
            writer.add_key_length(s.head_dim)
            writer.add_value_length(s.head_dim)
        else:
            writer.add_rope_freq_base(s.rope_theta)
            writer.add_rope_dimension_count(s.head_dim)
            writer.add_vocab_size(len(self.vocab.tokens))
        writer.add_file_type(_FILE_TYPES[type_name])
        self.vocab.write_gguf_metadata(writer)
        if s.arch == "gemma":
            writer.add_chat_template(GEMMA_CHAT_TEMPLATE)
        for name, array in self.gguf_tensors().items():
            if array.ndim == 1:
                writer.add_tensor(name, array.astype(np.float32))
            elif random_bits:
                blocks = quants.random_blocks(array.shape[0], array.shape[1], qtype, rng)
                writer.add_tensor(name, blocks, raw_dtype=qtype)
            else:
                writer.add_tensor(name, quants.quantize(array, qtype), raw_dtype=qtype)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()

    # ---- safetensors ------------------------------------------------------------------------

    def config_json(self, dtype):
        s = self.spec
        torch_dtype = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype]
        common = {
            "hidden_size": s.hidden, "intermediate_size": s.ffn, "num_hidden_layers": s.n_layers,
            "num_attention_heads": s.n_heads, "num_key_value_heads": s.n_kv_heads, "rms_norm_eps": s.rms_eps,
            "rope_theta": s.rope_theta, "vocab_size": len(self.vocab.tokens),
            "max_position_embeddings": s.context, "tie_word_embeddings": s.tied, "torch_dtype": torch_dtype,
            "bos_token_id": self.vocab.special_id("bos"), "eos_token_id": self.vocab.special_id("eos"),
            "attention_bias": False,
        }
        if s.arch == "gemma":
            return {"architectures": ["GemmaForCausalLM"], "model_type": "gemma", "head_dim": s.head_dim,
                    "hidden_act": "gelu", "hidden_activation": "gelu_pytorch_tanh",
                    "pad_token_id": self.vocab.special_id("pad"), **common}
        return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu", **common}

    def write_safetensors_dir(self, directory, dtype):
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        write_safetensors(directory / "model.safetensors", self.hf, dtype)
        (directory / "config.json").write_text(json.dumps(self.config_json(dtype), indent=2))
        (directory / "tokenizer.json").write_text(json.dumps(self.vocab.tokenizer_json(), ensure_ascii=False))
        config = {"bos_token": self.vocab.tokens[self.vocab.special_id("bos")],
                  "eos_token": self.vocab.tokens[self.vocab.special_id("eos")]}
        if self.spec.arch == "gemma":
            config["chat_template"] = GEMMA_CHAT_TEMPLATE
        (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2))


def to_bf16_bits(array):
    """float32 -> bfloat16 bit patterns, round to nearest even (as torch does)."""
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def write_safetensors(path, tensors, dtype, metadata=None):
    """Writes a safetensors file; done by hand so BF16 (which NumPy lacks) is possible."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        array = np.asarray(tensors[name], dtype=np.float32)
        if dtype == "F32":
            blob = array.astype("<f4").tobytes()
        elif dtype == "F16":
            blob = array.astype("<f2").tobytes()
        elif dtype == "BF16":
            blob = to_bf16_bits(array).astype("<u2").tobytes()
        else:
            raise ValueError(dtype)
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = metadata
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for blob in blobs:
            f.write(blob)


def write_all(out_dir, gguf_types=GGUF_TYPES, safetensors_dtypes=SAFETENSORS_DTYPES):
    """Writes tiny-{llama,gemma}-{TYPE}.gguf and tiny-{arch}-st-{dtype}/ under out_dir; returns the paths."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for spec in (LLAMA, GEMMA):
        model = TinyModel(spec)
        for type_name in gguf_types:
            path = out_dir / f"tiny-{spec.arch}-{type_name}.gguf"
            model.write_gguf(path, type_name)
            paths[(spec.arch, "gguf", type_name)] = path
        for dtype in safetensors_dtypes:
            path = out_dir / f"tiny-{spec.arch}-st-{dtype}"
            model.write_safetensors_dir(path, dtype)
            paths[(spec.arch, "safetensors", dtype)] = path
    return paths


__all__ = ["TinySpec", "TinyModel", "LLAMA", "GEMMA", "write_all", "write_safetensors", "gemma_prompt"]
