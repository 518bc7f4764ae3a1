"""Load a model's configuration and weights from GGUF or from an HF safetensors directory.

Everything is returned in one shape: a ModelConfig and a dict of float32
arrays with canonical names, matrices as [out_features, in_features].
Tensors are read by the `gguf` package (GGUFReader + dequantize) and by
`safetensors`; BF16 safetensors are decoded here because NumPy has no
bfloat16 type.
"""
import dataclasses
import json
import math
import pathlib
import struct

import numpy as np
from gguf import GGUFReader

from . import quants


@dataclasses.dataclass
class ModelConfig:
    arch: str  # "llama" or "gemma"
    n_layers: int
    hidden: int
    ffn: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    vocab: int
    rms_eps: float
    rope_theta: float
    # "interleaved": rotate pairs (x[2i], x[2i+1]) (llama.cpp's converter permutes llama Q/K to this);
    # "neox": rotate-half pairs (x[i], x[i+d/2]) (HF checkpoints, and Gemma in GGUF too).
    rope_layout: str
    # Gemma's RMSNorm multiplies by (1 + w) in HF checkpoints; GGUF has the +1 baked in.
    norm_offset: float
    embed_scale: float
    activation: str  # "silu" or "gelu_tanh"
    tied_embeddings: bool


def _gguf_field(reader, key, default=None):
    field = reader.fields.get(key)
    if field is None:
        return default
    return field.contents()


def load_gguf(path):
    reader = GGUFReader(str(path))
    arch = _gguf_field(reader, "general.architecture")
    if arch not in ("llama", "gemma"):
        raise ValueError(f"oracle supports llama and gemma, not {arch!r}")
    weights = {}
    for tensor in reader.tensors:
        weights[tensor.name] = quants.dequantize(np.asarray(tensor.data), tensor.tensor_type)

    def key(name, default=None):
        return _gguf_field(reader, f"{arch}.{name}", default)

    hidden = int(key("embedding_length"))
    n_heads = int(key("attention.head_count"))
    head_dim = int(key("attention.key_length", hidden // n_heads))
    rope_dim = int(key("rope.dimension_count", head_dim))
    if rope_dim != head_dim:
        raise ValueError("partial rotary embeddings are not modelled by the oracle")
    config = ModelConfig(
        arch=arch,
        n_layers=int(key("block_count")),
        hidden=hidden,
        ffn=int(key("feed_forward_length")),
        n_heads=n_heads,
        n_kv_heads=int(key("attention.head_count_kv", n_heads)),
        head_dim=head_dim,
        vocab=weights["token_embd.weight"].shape[0],
        rms_eps=float(key("attention.layer_norm_rms_epsilon")),
        rope_theta=float(key("rope.freq_base", 10000.0)),
        rope_layout="interleaved" if arch == "llama" else "neox",
        norm_offset=0.0,
        embed_scale=math.sqrt(hidden) if arch == "gemma" else 1.0,
        activation="gelu_tanh" if arch == "gemma" else "silu",
        tied_embeddings="output.weight" not in weights,
    )
    canonical = {"embed": weights["token_embd.weight"], "out_norm": weights["output_norm.weight"]}
    canonical["lm_head"] = weights.get("output.weight", weights["token_embd.weight"])
    names = {"attn_norm": "attn_norm", "wq": "attn_q", "wk": "attn_k", "wv": "attn_v", "wo": "attn_output",
             "ffn_norm": "ffn_norm", "w_gate": "ffn_gate", "w_up": "ffn_up", "w_down": "ffn_down"}
    for layer in range(config.n_layers):
        for ours, theirs in names.items():
            canonical[f"{layer}.{ours}"] = weights[f"blk.{layer}.{theirs}.weight"]
    return config, canonical


def read_safetensors(path):
    """name -> float32 array, for F32, F16 and BF16 tensors."""
    path = pathlib.Path(path)
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
    header.pop("__metadata__", None)
    if all(info["dtype"] in ("F32", "F16") for info in header.values()):
        from safetensors.numpy import load_file
        return {name: array.astype(np.float32) for name, array in load_file(str(path)).items()}
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        raw = np.asarray(data[begin:end])
        if info["dtype"] == "BF16":
            array = (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif info["dtype"] == "F16":
            array = raw.view(np.float16).astype(np.float32)
        elif info["dtype"] == "F32":
            array = raw.view(np.float32).copy()
        else:
            raise ValueError(f"unsupported safetensors dtype {info['dtype']}")
        out[name] = array.reshape(info["shape"])
    return out


def load_safetensors_dir(directory):
    directory = pathlib.Path(directory)
    config_json = json.loads((directory / "config.json").read_text())
    weights = {}
    for file in sorted(directory.glob("*.safetensors")):
        weights.update(read_safetensors(file))
    model_type = config_json["model_type"]
    if model_type not in ("llama", "gemma"):
        raise ValueError(f"oracle supports llama and gemma, not {model_type!r}")
    hidden = config_json["hidden_size"]
    n_heads = config_json["num_attention_heads"]
    gemma = model_type == "gemma"
    tied = "lm_head.weight" not in weights
    embed_scale = 1.0
    if gemma:
        # HF casts sqrt(hidden) to the activation dtype; the tiny models pick hidden
        # sizes whose square root is exact, and a bf16 model would round here.
        embed_scale = math.sqrt(hidden)
        if config_json.get("torch_dtype") == "bfloat16":
            embed_scale = float((np.array([embed_scale], np.float32).view(np.uint32) + 0x8000 & 0xFFFF0000)
                                .view(np.float32)[0])
    config = ModelConfig(
        arch=model_type,
        n_layers=config_json["num_hidden_layers"],
        hidden=hidden,
        ffn=config_json["intermediate_size"],
        n_heads=n_heads,
        n_kv_heads=config_json.get("num_key_value_heads", n_heads),
        head_dim=config_json.get("head_dim") or hidden // n_heads,
        vocab=weights["model.embed_tokens.weight"].shape[0],
        rms_eps=config_json["rms_norm_eps"],
        rope_theta=config_json.get("rope_theta", 10000.0),
        rope_layout="neox",
        norm_offset=1.0 if gemma else 0.0,
        embed_scale=embed_scale,
        activation="gelu_tanh" if gemma else "silu",
        tied_embeddings=tied,
    )
    canonical = {"embed": weights["model.embed_tokens.weight"], "out_norm": weights["model.norm.weight"]}
    canonical["lm_head"] = weights.get("lm_head.weight", weights["model.embed_tokens.weight"])
    names = {"attn_norm": "input_layernorm", "wq": "self_attn.q_proj", "wk": "self_attn.k_proj",
             "wv": "self_attn.v_proj", "wo": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm",
             "w_gate": "mlp.gate_proj", "w_up": "mlp.up_proj", "w_down": "mlp.down_proj"}
    for layer in range(config.n_layers):
        for ours, theirs in names.items():
            canonical[f"{layer}.{ours}"] = weights[f"model.layers.{layer}.{theirs}.weight"]
    return config, canonical


def load_model(path):
    path = pathlib.Path(path)
    if path.is_dir():
        return load_safetensors_dir(path)
    return load_gguf(path)
