"""Tiny random-weight Llama and Gemma models, in every GGUF tensor type and as
F32/F16/BF16 safetensors: the engine's logits and greedy tokens against the oracle.

See compare.py for the tolerance. 16 greedy steps per model; the oracle
decodes the same prompt itself to make sure the 16 steps do not end at EOS.
"""
import numpy as np
import pytest

from compare import judge
from conftest import oracle_for
from oracle import tiny

STEPS = 16
# A tiny model generates 16 tokens in milliseconds; far longer is a hang.
TINY_TIMEOUT = 30
PROMPT_TEXT = "The quick brown fox reads tokens"

CASES = ([(arch, "gguf", t) for arch in ("llama", "gemma") for t in tiny.GGUF_TYPES]
         + [(arch, "safetensors", d) for arch in ("llama", "gemma") for d in tiny.SAFETENSORS_DTYPES])


def prompt_ids(arch):
    model = tiny.TinyModel(tiny.LLAMA if arch == "llama" else tiny.GEMMA)
    from oracle.vocab import load_hf_tokenizer
    tokenizer = load_hf_tokenizer(model.vocab.tokenizer_json())
    return [model.vocab.special_id("bos")] + tokenizer.encode(PROMPT_TEXT, add_special_tokens=False).ids


@pytest.mark.parametrize("arch,fmt,type_name", CASES, ids=[f"{a}-{f}-{t}" for a, f, t in CASES])
def test_logits_and_greedy_tokens(cli, tiny_models, oracle_cache, tmp_path, arch, fmt, type_name):
    path = tiny_models[(arch, fmt, type_name)]
    prompt = prompt_ids(arch)
    exact = oracle_for(oracle_cache, path)
    q8 = oracle_for(oracle_cache, path, emulate_q8=True)
    oracle_ids, _ = exact.greedy(prompt, STEPS)
    engine_ids, engine_logits = cli.generate(path, prompt, STEPS, tmp_path, timeout=TINY_TIMEOUT)
    assert len(engine_ids) == STEPS, (
        f"engine generated {len(engine_ids)} tokens, expected {STEPS} (oracle greedy: {oracle_ids})")
    verdict = judge(exact, q8, prompt, engine_ids, engine_logits)
    print(f"{arch}-{fmt}-{type_name}: {verdict.summary()}")
    assert verdict.logits_ok(), verdict.summary()
    assert verdict.tokens_ok(), verdict.summary()
    if verdict.identical:
        assert engine_ids == oracle_ids


def test_gguf_and_safetensors_describe_the_same_network(tiny_models, oracle_cache):
    """The oracle itself: F32 GGUF (permuted Q/K, interleaved RoPE, Gemma's baked +1) and F32
    safetensors (rotate-half RoPE, 1+w) of one network must give the same logits."""
    for arch in ("llama", "gemma"):
        a = oracle_for(oracle_cache, tiny_models[(arch, "gguf", "F32")]).logits(prompt_ids(arch))
        b = oracle_for(oracle_cache, tiny_models[(arch, "safetensors", "F32")]).logits(prompt_ids(arch))
        assert np.abs(a - b).max() < 1e-5 * a.std(), arch


def test_engine_reads_the_configuration(cli, tiny_models):
    """--info reports what the metadata says (catches a defaulted key early)."""
    expect = {
        "llama": {"layers": "2", "heads": "4", "kv_heads": "2", "head_dim": "64", "embedding": "256",
                  "feed_forward": "512", "rope_layout": "interleaved", "activation": "silu",
                  "tied_embeddings": "no"},
        "gemma": {"layers": "2", "heads": "4", "kv_heads": "1", "head_dim": "128", "embedding": "256",
                  "feed_forward": "512", "rope_layout": "neox", "activation": "gelu_tanh",
                  "tied_embeddings": "yes"},
    }
    for (arch, fmt, type_name), path in tiny_models.items():
        if type_name not in ("F32", "Q8_0"):
            continue
        out = cli.run("-m", path, "--info").stdout.decode()
        info = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
        for key, value in expect[arch].items():
            if fmt == "safetensors" and key == "rope_layout":
                continue  # an engine may permute HF Q/K rows at load instead
            assert info.get(key) == value, f"{arch} {fmt} {type_name}: {key} is {info.get(key)!r}, not {value!r}"


@pytest.mark.parametrize("type_name", ["Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "F16"])
def test_scalar_kernels_against_oracle(cli, tiny_models, oracle_cache, tmp_path, type_name):
    """The scalar reference kernels (--kernels scalar) must meet the same budget as the SIMD ones."""
    path = tiny_models[("llama", "gguf", type_name)]
    prompt = prompt_ids("llama")
    engine_ids, engine_logits = cli.generate(path, prompt, 8, tmp_path, extra=("--kernels", "scalar"),
                                             timeout=TINY_TIMEOUT)
    verdict = judge(oracle_for(oracle_cache, path), oracle_for(oracle_cache, path, emulate_q8=True), prompt,
                    engine_ids, engine_logits)
    print(f"llama-gguf-{type_name} scalar: {verdict.summary()}")
    assert verdict.logits_ok(), verdict.summary()
    assert verdict.tokens_ok(), verdict.summary()


# With --f32-activations the engine multiplies dequantized weights by float activations: the
# only remaining differences to the float64 oracle are float32 rounding, so the budget is tight.
F32_MODE_MAX_ERROR = 1e-3   # rms/std per row (measured: < 5e-5)
F32_MODE_TIE = 0.01         # logits


@pytest.mark.parametrize("arch,fmt,type_name", CASES, ids=[f"{a}-{f}-{t}" for a, f, t in CASES])
def test_float_activation_mode_is_exact(cli, tiny_models, oracle_cache, tmp_path, arch, fmt, type_name):
    path = tiny_models[(arch, fmt, type_name)]
    prompt = prompt_ids(arch)
    engine_ids, engine_logits = cli.generate(path, prompt, 8, tmp_path, extra=("--f32-activations",),
                                             timeout=TINY_TIMEOUT)
    verdict = judge(oracle_for(oracle_cache, path), oracle_for(oracle_cache, path, emulate_q8=True), prompt,
                    engine_ids, engine_logits)
    assert verdict.row_errors.max() <= F32_MODE_MAX_ERROR, verdict.summary()
    assert all(gap <= F32_MODE_TIE for _, _, _, gap in verdict.flips), verdict.summary()
