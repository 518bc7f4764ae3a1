"""--dump-tensor against the gguf package's NumPy dequantizer, for every tensor type.

Two sources per quantized type: weights quantized from floats (tiny models),
and blocks of random bytes with sane f16 scales (every bit pattern of the
packed nibbles, 6-bit scales and high bits). F32, F16, BF16, Q8_0 and Q4_0
dequantize exactly (products of small integers and f16 values are exact in
float32); Q4_1 and the K-quants add a min term, whose rounding can depend
on operation order, so those may differ by float32 rounding only:
|engine - gguf| <= 1e-6 * max|row|.
"""
import numpy as np
import pytest
from gguf import GGMLQuantizationType as QT
from gguf import GGUFReader

from oracle import quants, tiny

EXACT = {"F32", "F16", "BF16", "Q8_0", "Q4_0"}
TENSORS = ["token_embd.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.1.ffn_down.weight",
           "blk.1.ffn_gate.weight", "output.weight", "output_norm.weight", "blk.0.attn_norm.weight"]
RANDOM_TYPES = ["Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q5_K", "Q6_K"]


@pytest.fixture(scope="module")
def random_bit_models(tmp_path_factory):
    directory = tmp_path_factory.mktemp("random-bits")
    model = tiny.TinyModel(tiny.LLAMA)
    paths = {}
    for type_name in RANDOM_TYPES:
        paths[type_name] = directory / f"tiny-llama-random-{type_name}.gguf"
        model.write_gguf(paths[type_name], type_name, random_bits=True)
    return paths


def check_dump(cli, path, tmp_path, expect_type=None):
    reader = GGUFReader(str(path))
    by_name = {t.name: t for t in reader.tensors}
    seen_types = set()
    for name in TENSORS:
        tensor = by_name[name]
        expected = quants.dequantize(np.asarray(tensor.data), tensor.tensor_type)
        expected = expected.reshape(-1, expected.shape[-1])
        out = tmp_path / "dump.bin"
        cli.run("-m", path, "--dump-tensor", name, out)
        got = np.fromfile(out, dtype="<f4")
        assert got.size == expected.size, f"{name}: {got.size} values, expected {expected.size}"
        got = got.reshape(expected.shape)
        type_name = tensor.tensor_type.name
        seen_types.add(type_name)
        if type_name in EXACT:
            mismatch = np.flatnonzero((got != expected).ravel())
            assert mismatch.size == 0, (f"{name} ({type_name}): {mismatch.size} values differ, first at flat index "
                                        f"{mismatch[0]}: {got.ravel()[mismatch[0]]} vs {expected.ravel()[mismatch[0]]}")
        else:
            bound = 1e-6 * np.abs(expected).max(axis=1, keepdims=True)
            worst = float((np.abs(got - expected) - bound).max())
            assert worst <= 0, f"{name} ({type_name}): off by more than float rounding ({worst:.3g} over)"
    if expect_type:
        assert expect_type in seen_types


@pytest.mark.parametrize("type_name", tiny.GGUF_TYPES)
def test_dump_matches_gguf_dequantizer(cli, tiny_models, tmp_path, type_name):
    check_dump(cli, tiny_models[("llama", "gguf", type_name)], tmp_path, expect_type=type_name)


@pytest.mark.parametrize("type_name", RANDOM_TYPES)
def test_dump_random_blocks(cli, random_bit_models, tmp_path, type_name):
    check_dump(cli, random_bit_models[type_name], tmp_path, expect_type=type_name)


def test_smollm2_tensors(cli, smollm2_path, tmp_path):
    """The real model: its Q4_1 matrices and F32 norms (its Q8_0 embedding table is 113 MB as
    float32; Q8_0 is covered by the tiny models)."""
    reader = GGUFReader(str(smollm2_path))
    by_name = {t.name: t for t in reader.tensors}
    for name in ["blk.0.attn_q.weight", "blk.29.ffn_down.weight", "blk.15.ffn_gate.weight", "output_norm.weight"]:
        tensor = by_name[name]
        expected = quants.dequantize(np.asarray(tensor.data), tensor.tensor_type)
        out = tmp_path / "dump.bin"
        cli.run("-m", smollm2_path, "--dump-tensor", name, out)
        got = np.fromfile(out, dtype="<f4").reshape(expected.shape)
        bound = 1e-6 * np.abs(expected).max(axis=-1, keepdims=True)
        assert (np.abs(got - expected) <= bound).all(), name


def test_quantizers_round_trip():
    """The test's own K-quant packers: what gguf dequantizes must be close to what was packed
    (a packing bug would make the dump tests above vacuous for those types)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 512)).astype(np.float32)
    limits = {QT.Q4_K: 0.12, QT.Q5_K: 0.06, QT.Q6_K: 0.03, QT.Q8_0: 0.01, QT.Q4_0: 0.12, QT.Q4_1: 0.12}
    for qtype, limit in limits.items():
        y = quants.dequantize(quants.quantize(x, qtype), qtype)
        assert np.sqrt(np.mean((y - x) ** 2)) < limit, qtype.name
