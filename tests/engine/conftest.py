"""Shared fixtures for the engine tests: the aisos-llm binary, the models, the oracle.

The CLI is found at $AISOS_LLM, else build/release/bin/aisos-llm (what
./aisos build produces), else an engineer's own build dir. Every test that
needs it skips with the reason when no binary exists; nothing else skips.
"""
import os

# The oracle's matrices are small; BLAS threads only fight the engine and the
# other builds for the 2 cores (measured: 16x slower under load). Must precede numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import hashlib  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from oracle import tiny, vocab  # noqa: E402
from oracle.model import Model  # noqa: E402
from oracle.weights import load_model  # noqa: E402

CLI_CANDIDATES = ["build/release/bin/aisos-llm", "build/engine-release/bin/aisos-llm",
                  "build/oracle-release/bin/aisos-llm"]
SMOLLM2_PATH = ROOT / "build" / "models" / "SmolLM2-135M-Instruct-Q4_1.gguf"
# One CLI run may load a model and generate a few dozen tokens; anything slower is a hang.
CLI_TIMEOUT = 120
# Threads for generation runs: the machine has 2 cores; override to isolate threading problems.
TEST_THREADS = os.environ.get("AISOS_TEST_THREADS", "2")


def find_cli():
    env = os.environ.get("AISOS_LLM")
    if env:
        return pathlib.Path(env) if pathlib.Path(env).is_file() else None
    for candidate in CLI_CANDIDATES:
        path = ROOT / candidate
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


class Cli:
    def __init__(self, path):
        self.path = path

    def run(self, *args, check=True, timeout=CLI_TIMEOUT, input_bytes=None):
        """Runs aisos-llm; a signal (negative return code) is always a test failure."""
        command = [str(self.path)] + [str(a) for a in args]
        try:
            result = subprocess.run(command, capture_output=True, timeout=timeout, input=input_bytes)
        except subprocess.TimeoutExpired:
            pytest.fail(f"aisos-llm did not finish within {timeout} s (hang?): {command}")
        if result.returncode < 0:
            pytest.fail(f"aisos-llm died by signal {-result.returncode}: {command}\n"
                        f"stderr: {result.stderr.decode(errors='replace')[-2000:]}")
        if check and result.returncode != 0:
            pytest.fail(f"aisos-llm exited {result.returncode}: {command}\n"
                        f"stderr: {result.stderr.decode(errors='replace')[-2000:]}")
        return result

    def ids(self, *args):
        out = self.run(*args).stdout.decode()
        return [int(x) for x in out.split()]

    def generate(self, model, prompt_ids, n_tokens, tmp_path, extra=(), timeout=CLI_TIMEOUT):
        """Greedy generation from prompt ids; returns (generated ids, logits rows (n, vocab))."""
        logits_file = tmp_path / "logits.bin"
        ids_file = tmp_path / "ids.txt"
        for f in (logits_file, ids_file):
            if f.exists():
                f.unlink()
        self.run("-m", model, "--ids", " ".join(map(str, prompt_ids)), "-n", n_tokens, "--temp", "0",
                 "-t", TEST_THREADS, "--logits-out", logits_file, "--ids-out", ids_file, *extra, timeout=timeout)
        generated = [int(x) for x in ids_file.read_text().split()]
        logits = np.fromfile(logits_file, dtype="<f4")
        return generated, logits


@pytest.fixture(scope="session")
def cli():
    path = find_cli()
    if path is None:
        pytest.skip("aisos-llm binary not found (set AISOS_LLM or build the aisos-llm target into "
                    "build/release); ./aisos test builds it first")
    return Cli(path)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """{(arch, 'gguf'|'safetensors', type): path} for every tiny model variant."""
    return tiny.write_all(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def oracle_cache():
    """Loaded oracle models, one per path (loading SmolLM2 takes seconds)."""
    return {}


def oracle_for(cache, path, emulate_q8=False):
    key = (str(path), emulate_q8)
    if key not in cache:
        other = cache.get((str(path), not emulate_q8))
        if other is not None:
            cache[key] = other.variant(emulate_q8)
        else:
            config, weights = load_model(path)
            cache[key] = Model(config, weights, emulate_q8_activations=emulate_q8)
    return cache[key]


ORACLE_CACHE_DIR = ROOT / "build" / "oracle-cache"


def cached_oracle_rows(cache, model_path, model_digest, prompt_ids, engine_ids):
    """compare.oracle_rows, cached on disk by (model file hash, prompt, engine tokens): a rerun with
    an unchanged engine costs no oracle time. Exact rows are stored as float32 (relative rounding
    1e-7, far below every tolerance)."""
    from compare import oracle_rows
    key = hashlib.sha256(json.dumps([model_digest, list(map(int, prompt_ids)),
                                     list(map(int, engine_ids))]).encode()).hexdigest()[:32]
    path = ORACLE_CACHE_DIR / "rows" / f"{key}.npz"
    if path.exists():
        with np.load(path) as data:
            return {name: data[name] for name in data.files}
    rows = oracle_rows(oracle_for(cache, model_path), oracle_for(cache, model_path, emulate_q8=True),
                       prompt_ids, engine_ids)
    rows["exact"] = rows["exact"].astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.stem + ".tmp.npz")
    np.savez(temp, **rows)
    os.replace(temp, path)
    return rows


@pytest.fixture(scope="session")
def smollm2_path():
    if not SMOLLM2_PATH.exists():
        result = subprocess.run([sys.executable, str(ROOT / "tools" / "fetch_model.py")], capture_output=True,
                                timeout=900)
        if result.returncode != 0:
            pytest.fail("tools/fetch_model.py failed:\n" + result.stderr.decode(errors="replace")[-3000:])
    return SMOLLM2_PATH


@pytest.fixture(scope="session")
def smollm2_digest(smollm2_path):
    return file_digest(smollm2_path)


@pytest.fixture(scope="session")
def smollm2_tokenizer_data(smollm2_path, smollm2_digest):
    """SmolLM2's tokenizer.json rebuilt from the GGUF, cached by model hash (reading 98k
    strings through GGUFReader takes a while)."""
    path = ORACLE_CACHE_DIR / f"smollm2-tokenizer-{smollm2_digest[:16]}.json"
    if path.exists():
        return json.loads(path.read_text())
    data = vocab.smollm2_tokenizer_json(smollm2_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(data, ensure_ascii=False))
    os.replace(temp, path)
    return data


@pytest.fixture(scope="session")
def smollm2_tokenizer(smollm2_tokenizer_data):
    return vocab.load_hf_tokenizer(smollm2_tokenizer_data)


def file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
