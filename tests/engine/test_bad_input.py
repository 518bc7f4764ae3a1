"""Bad model files: the CLI must exit non-zero with a message on stderr, never die by a signal.

Each case starts from a valid tiny model and breaks one thing: truncation at
every structural boundary, wrong magic or version, an unsupported tensor
type, shapes that disagree with the metadata, a tensor offset past the end,
absurd counts and lengths, and, for safetensors, a broken header, dtype,
offsets, shapes, config.json or tokenizer.json. Random byte corruption must
also never crash (it may load, if it only hit weights).
"""
import json
import shutil
import struct

import numpy as np
import pytest

from oracle import tiny

IDS = "1 2 3"


def expect_clean_error(cli, model, *extra):
    result = cli.run("-m", model, "--ids", IDS, "-n", "2", "--temp", "0", "-t", "1", *extra, check=False,
                     timeout=60)
    stderr = result.stderr.decode(errors="replace")
    assert result.returncode > 0, f"accepted a bad model {model}: exit {result.returncode}, stderr {stderr[-500:]}"
    assert stderr.strip(), "no message on stderr"
    assert "AddressSanitizer" not in stderr and "runtime error" not in stderr, stderr[-2000:]
    return stderr


# ---- a GGUF layout walker, to know where each field sits --------------------------------------

_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


class GgufLayout:
    """Offsets of the header fields, each KV pair and each tensor info of a GGUF file."""

    def __init__(self, data):
        self.data = data
        self.tensor_count, self.kv_count = struct.unpack_from("<QQ", data, 8)
        pos = 24
        self.kv = {}  # key -> (start of entry, offset of value type, offset of value)
        for _ in range(self.kv_count):
            start = pos
            key, pos = self._string(pos)
            value_type_at = pos
            (value_type,) = struct.unpack_from("<I", data, pos)
            pos += 4
            self.kv[key] = (start, value_type_at, pos)
            pos = self._skip_value(value_type, pos)
        self.tensors = {}  # name -> dict of field offsets
        for _ in range(self.tensor_count):
            start = pos
            name, pos = self._string(pos)
            (n_dims,) = struct.unpack_from("<I", data, pos)
            info = {"start": start, "n_dims_at": pos, "dims_at": pos + 4}
            pos += 4 + 8 * n_dims
            info["type_at"] = pos
            info["offset_at"] = pos + 4
            pos += 12
            self.tensors[name] = info
        self.infos_end = pos

    def _string(self, pos):
        (length,) = struct.unpack_from("<Q", self.data, pos)
        return self.data[pos + 8:pos + 8 + length].decode(), pos + 8 + length

    def _skip_value(self, value_type, pos):
        if value_type in _SCALAR_SIZES:
            return pos + _SCALAR_SIZES[value_type]
        if value_type == 8:
            return self._string(pos)[1]
        if value_type == 9:
            element_type, count = struct.unpack_from("<IQ", self.data, pos)
            pos += 12
            for _ in range(count):
                pos = self._skip_value(element_type, pos)
            return pos
        raise ValueError(f"unknown GGUF value type {value_type}")


@pytest.fixture(scope="module")
def good_gguf(tiny_models):
    return tiny_models[("llama", "gguf", "Q8_0")]


def patched(tmp_path, source, edits, name="bad.gguf"):
    data = bytearray(source.read_bytes())
    for offset, value in edits:
        data[offset:offset + len(value)] = value
    path = tmp_path / name
    path.write_bytes(bytes(data))
    return path


def test_the_unbroken_model_loads(cli, good_gguf):
    assert cli.run("-m", good_gguf, "--ids", IDS, "-n", "2", "--temp", "0", "-t", "1").returncode == 0


def test_gguf_truncated(cli, good_gguf, tmp_path):
    data = good_gguf.read_bytes()
    layout = GgufLayout(data)
    from gguf import GGUFReader
    reader = GGUFReader(str(good_gguf))
    # ReaderTensor.data_offset is absolute; the file may end with alignment padding after the data.
    data_end = max(int(t.data_offset) + int(t.n_bytes) for t in reader.tensors)
    cuts = {0, 3, 4, 8, 12, 20, 24, 30, layout.infos_end - 5, layout.infos_end, data_end - 1, len(data) // 2}
    cuts |= {start + 3 for start, _, _ in list(layout.kv.values())[::4]}
    cuts |= {info["start"] + 9 for info in list(layout.tensors.values())[::5]}
    for cut in sorted(cuts):
        path = tmp_path / f"truncated-{cut}.gguf"
        path.write_bytes(data[:cut])
        expect_clean_error(cli, path)


def test_gguf_empty_and_not_a_file(cli, tmp_path):
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    expect_clean_error(cli, empty)
    expect_clean_error(cli, tmp_path / "does-not-exist.gguf")


def test_gguf_wrong_magic_and_version(cli, good_gguf, tmp_path):
    expect_clean_error(cli, patched(tmp_path, good_gguf, [(0, b"GGML")]))
    expect_clean_error(cli, patched(tmp_path, good_gguf, [(0, b"\x00\x00\x00\x00")]))
    expect_clean_error(cli, patched(tmp_path, good_gguf, [(4, struct.pack("<I", 99))]))
    expect_clean_error(cli, patched(tmp_path, good_gguf, [(4, struct.pack("<I", 0))]))


def test_gguf_absurd_counts(cli, good_gguf, tmp_path):
    data = good_gguf.read_bytes()
    layout = GgufLayout(data)
    for value in (2 ** 63, 2 ** 40, layout.tensor_count + 1):
        expect_clean_error(cli, patched(tmp_path, good_gguf, [(8, struct.pack("<Q", value))]))
    for value in (2 ** 63, 2 ** 40, layout.kv_count + 1):
        expect_clean_error(cli, patched(tmp_path, good_gguf, [(16, struct.pack("<Q", value))]))
    # A key string that claims to be huge.
    first_key = min(start for start, _, _ in layout.kv.values())
    expect_clean_error(cli, patched(tmp_path, good_gguf, [(first_key, struct.pack("<Q", 2 ** 62))]))
    # The token list array claims 2^60 elements.
    _, _, value_at = layout.kv["tokenizer.ggml.tokens"]
    expect_clean_error(cli, patched(tmp_path, good_gguf, [(value_at + 4, struct.pack("<Q", 2 ** 60))]))
    # An unknown metadata value type.
    _, type_at, _ = layout.kv["llama.block_count"]
    expect_clean_error(cli, patched(tmp_path, good_gguf, [(type_at, struct.pack("<I", 77))]))


def test_gguf_bad_tensor_infos(cli, good_gguf, tmp_path):
    data = good_gguf.read_bytes()
    layout = GgufLayout(data)
    q = layout.tensors["blk.0.attn_q.weight"]
    cases = {
        "unknown type": [(q["type_at"], struct.pack("<I", 250))],
        "unsupported type (IQ2_XXS)": [(q["type_at"], struct.pack("<I", 16))],
        "offset past the end": [(q["offset_at"], struct.pack("<Q", len(data) * 4))],
        "offset near 2^64": [(q["offset_at"], struct.pack("<Q", 2 ** 64 - 32))],
        "misaligned offset": [(q["offset_at"], struct.pack("<Q", struct.unpack_from("<Q", data, q["offset_at"])[0] + 1))],
        "too many dims": [(q["n_dims_at"], struct.pack("<I", 9))],
        "dim past the end": [(q["dims_at"], struct.pack("<Q", 2 ** 40))],
        "zero dim": [(q["dims_at"], struct.pack("<Q", 0))],
        "row not a block multiple": [(q["dims_at"], struct.pack("<Q", 100))],
    }
    for label, edits in cases.items():
        stderr = expect_clean_error(cli, patched(tmp_path, good_gguf, edits))
        assert stderr, label


def test_gguf_shapes_inconsistent_with_metadata(cli, tmp_path):
    """A well-formed file whose tensors do not fit the architecture keys."""
    model = tiny.TinyModel(tiny.LLAMA)
    original = model.hf["model.layers.0.self_attn.q_proj.weight"]
    model.hf["model.layers.0.self_attn.q_proj.weight"] = original[:128]  # 128 rows instead of 256
    path = tmp_path / "short-q.gguf"
    model.write_gguf(path, "F32")
    expect_clean_error(cli, path)
    model.hf["model.layers.0.self_attn.q_proj.weight"] = original
    model.hf["model.layers.1.mlp.down_proj.weight"] = original  # 256x256 where 256x512 belongs
    path = tmp_path / "square-down.gguf"
    model.write_gguf(path, "F32")
    expect_clean_error(cli, path)


def test_gguf_missing_tensor_and_metadata(cli, good_gguf, tmp_path):
    data = good_gguf.read_bytes()
    layout = GgufLayout(data)
    # Rename a tensor so a required one is missing: first byte of its name.
    info = layout.tensors["blk.1.ffn_up.weight"]
    expect_clean_error(cli, patched(tmp_path, good_gguf, [(info["start"] + 8, b"X")]))
    # Rename a required key.
    start, _, _ = layout.kv["llama.embedding_length"]
    expect_clean_error(cli, patched(tmp_path, good_gguf, [(start + 8, b"X")]))
    # An unsupported architecture.
    _, _, value_at = layout.kv["general.architecture"]
    expect_clean_error(cli, patched(tmp_path, good_gguf, [(value_at + 8, b"mamba")]))


def test_gguf_absurd_hyperparameters(cli, good_gguf, tmp_path):
    layout = GgufLayout(good_gguf.read_bytes())
    for key, value in (("llama.block_count", 0), ("llama.block_count", 2 ** 31), ("llama.attention.head_count", 0),
                       ("llama.attention.head_count", 3), ("llama.attention.head_count_kv", 0),
                       ("llama.attention.head_count_kv", 3), ("llama.embedding_length", 0)):
        _, _, value_at = layout.kv[key]
        expect_clean_error(cli, patched(tmp_path, good_gguf, [(value_at, struct.pack("<I", value))]))


def test_gguf_random_corruption_never_crashes(cli, good_gguf, tmp_path):
    data = good_gguf.read_bytes()
    layout = GgufLayout(data)
    rng = np.random.default_rng(11)
    for trial in range(40):
        corrupted = bytearray(data)
        # Mostly hit the metadata and tensor infos, where parsing happens.
        for _ in range(int(rng.integers(1, 8))):
            at = int(rng.integers(0, layout.infos_end))
            corrupted[at] = int(rng.integers(0, 256))
        path = tmp_path / f"corrupt-{trial}.gguf"
        path.write_bytes(bytes(corrupted))
        result = cli.run("-m", path, "--ids", IDS, "-n", "2", "--temp", "0", "-t", "1", check=False, timeout=60)
        if result.returncode != 0:
            assert result.returncode > 0 and result.stderr.strip(), f"trial {trial}"


# ---- safetensors --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def good_st(tiny_models):
    return tiny_models[("llama", "safetensors", "F32")]


def st_copy(tmp_path, source, name):
    target = tmp_path / name
    shutil.copytree(source, target)
    return target


def read_st(path):
    data = path.read_bytes()
    (length,) = struct.unpack_from("<Q", data, 0)
    return json.loads(data[8:8 + length]), data[8 + length:]


def write_st(path, header, body, header_len=None):
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw) if header_len is None else header_len) + raw + body)


def test_safetensors_unbroken_loads(cli, good_st):
    assert cli.run("-m", good_st, "--ids", IDS, "-n", "2", "--temp", "0", "-t", "1").returncode == 0


def test_safetensors_truncated_and_bad_header(cli, good_st, tmp_path):
    data = (good_st / "model.safetensors").read_bytes()
    (header_len,) = struct.unpack_from("<Q", data, 0)
    for i, cut in enumerate([0, 4, 8, 20, 8 + header_len - 1, 8 + header_len, len(data) - 1, len(data) // 2]):
        directory = st_copy(tmp_path, good_st, f"trunc-{i}")
        (directory / "model.safetensors").write_bytes(data[:cut])
        expect_clean_error(cli, directory)
    header, body = read_st(good_st / "model.safetensors")
    for i, header_len in enumerate([2 ** 63, 2 ** 40, len(data)]):
        directory = st_copy(tmp_path, good_st, f"hlen-{i}")
        write_st(directory / "model.safetensors", header, body, header_len=header_len)
        expect_clean_error(cli, directory)
    directory = st_copy(tmp_path, good_st, "not-json")
    (directory / "model.safetensors").write_bytes(struct.pack("<Q", 16) + b"{not json at all" + body)
    expect_clean_error(cli, directory)


def test_safetensors_bad_tensor_entries(cli, good_st, tmp_path):
    header, body = read_st(good_st / "model.safetensors")
    name = "model.layers.0.self_attn.q_proj.weight"

    def variant(label, change):
        h = json.loads(json.dumps(header))
        change(h)
        directory = st_copy(tmp_path, good_st, label)
        write_st(directory / "model.safetensors", h, body)
        return directory

    cases = {
        "dtype-int64": lambda h: h[name].update(dtype="I64"),
        "dtype-f8": lambda h: h[name].update(dtype="F8_E4M3"),
        "dtype-unknown": lambda h: h[name].update(dtype="Q4"),
        "offsets-past-end": lambda h: h[name].update(data_offsets=[len(body), len(body) + 256 * 256 * 4]),
        "offsets-reversed": lambda h: h[name].update(data_offsets=[h[name]["data_offsets"][1], h[name]["data_offsets"][0]]),
        "offsets-huge": lambda h: h[name].update(data_offsets=[0, 2 ** 63]),
        "size-mismatch": lambda h: h[name].update(shape=[256, 255]),
        "shape-vs-config": lambda h: (h[name].update(shape=[128, 256]),
                                      h[name].update(data_offsets=[h[name]["data_offsets"][0],
                                                                   h[name]["data_offsets"][0] + 128 * 256 * 4])),
        "shape-absurd": lambda h: h[name].update(shape=[2 ** 40, 2 ** 40]),
        "missing-tensor": lambda h: h.pop("model.layers.1.mlp.up_proj.weight"),
        "shape-not-list": lambda h: h[name].update(shape="256x256"),
    }
    for label, change in cases.items():
        expect_clean_error(cli, variant(label, change))


def test_safetensors_bad_config_and_tokenizer(cli, good_st, tmp_path):
    config = json.loads((good_st / "config.json").read_text())

    def with_config(label, new_config_text):
        directory = st_copy(tmp_path, good_st, label)
        (directory / "config.json").write_text(new_config_text)
        return directory

    expect_clean_error(cli, with_config("config-not-json", "{\"hidden_size\": 256,"))
    for label, change in {"heads-zero": {"num_attention_heads": 0}, "heads-not-dividing": {"num_attention_heads": 3},
                          "kv-heads-zero": {"num_key_value_heads": 0}, "layers-absurd": {"num_hidden_layers": 2 ** 40},
                          "hidden-string": {"hidden_size": "256"}, "model-type": {"model_type": "mamba", "architectures": ["MambaForCausalLM"]},
                          "hidden-mismatch": {"hidden_size": 512}}.items():
        expect_clean_error(cli, with_config(label, json.dumps(dict(config, **change))))
    without = st_copy(tmp_path, good_st, "no-config")
    (without / "config.json").unlink()
    expect_clean_error(cli, without)
    bad_tokenizer = st_copy(tmp_path, good_st, "tokenizer-not-json")
    (bad_tokenizer / "tokenizer.json").write_text("{\"model\": {\"type\": \"BPE\", \"vocab\": {")
    expect_clean_error(cli, bad_tokenizer)
    no_tokenizer = st_copy(tmp_path, good_st, "no-tokenizer")
    (no_tokenizer / "tokenizer.json").unlink()
    expect_clean_error(cli, no_tokenizer)
    no_weights = st_copy(tmp_path, good_st, "no-weights")
    (no_weights / "model.safetensors").unlink()
    expect_clean_error(cli, no_weights)


def test_bad_tokenizer_json_alone(cli, tmp_path):
    for i, text in enumerate(["", "[]", "{\"model\": 5}", "{\"model\": {\"type\": \"Unigram\"}}",
                              "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a\"]}}",
                              "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 99999999999}, \"merges\": []}}"]):
        path = tmp_path / f"tok-{i}.json"
        path.write_text(text)
        result = cli.run("--tokenizer-json", path, "--tokenize", "-p", "abc", check=False, timeout=60)
        assert result.returncode > 0 and result.stderr.strip(), text


def test_bad_ids_and_arguments(cli, good_gguf):
    for args in (["--ids", "999999"], ["--ids", "-1"], ["--ids", "abc"], ["-n", "-5", "--ids", IDS],
                 ["--ctx", "2", "--ids", "1 2 3 4 5"], ["--temp", "nan?", "--ids", IDS]):
        result = cli.run("-m", good_gguf, *args, check=False, timeout=60)
        assert result.returncode > 0 and result.stderr.strip(), args
