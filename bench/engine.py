#!/usr/bin/env python3
"""aiSOS engine vs llama.cpp on this machine: prefill, decode, memory, roofline.

One run, same machine, same model file, same thread count:
  - llama.cpp is built from the llama-cpp-python PyPI source distribution
    (its vendored llama.cpp, CPU only, Release), cached under build/bench/;
  - models: SmolLM2-135M-Instruct Q4_1 (tools/fetch_model.py) and a random-weight
    ~1.1B Llama (TinyLlama shape) written by this script as Q4_0 and Q8_0 GGUF, and
    as Q4_K_M (llama.cpp's llama-quantize applied to the Q8_0 file: Q4_K, with Q6_K
    for output.weight and some attn_v/ffn_down layers, as for real Q4_K_M models);
  - prefill: a 128-token prompt; decode: 64 tokens (llama-bench pp128 / tg64;
    aisos-llm --ids with 128 ids, -n 64, greedy, --ignore-eos so that it decodes all 64 like
    llama-bench), best of --reps runs;
  - memory bandwidth: a streaming read over 1 GiB with all threads (own C
    program, bench/engine/membw.c), so decode can be read against its
    roofline: tokens/s <= bandwidth / model bytes read per token;
  - peak resident memory of each process for the same run (wait4 rusage).
It is a benchmark, not a test: nothing is asserted about speed.

--kquant-speed instead builds and runs bench/engine/kquant_speed.cpp: one
thread, the Q4_K/Q5_K/Q6_K dot kernels of the AVX2 and AVX-512 sets on the
1.1B model's FFN matrices (needs the engine library of the --aisos build).

Usage: bench/engine.py [--threads N] [--reps N] [--aisos PATH] [--skip-1b] [--only TEXT]
       bench/engine.py --kquant-speed [--aisos PATH]
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT / "build" / "bench"
sys.path.insert(0, str(ROOT / "tests"))

PREFILL_TOKENS = 128
DECODE_TOKENS = 64


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run(command, **kwargs):
    log("$ " + " ".join(str(c) for c in command))
    return subprocess.run([str(c) for c in command], check=True, **kwargs)


# ---- llama.cpp from the llama-cpp-python sdist --------------------------------------------------

def build_llama_cpp(jobs):
    build_dir = BENCH / "llama.cpp-build"
    binary = build_dir / "bin" / "llama-bench"
    stamp = build_dir / ".aisos-configured-no-amx"
    if binary.exists() and stamp.exists():
        return build_dir / "bin"
    sdist_dir = BENCH / "sdist"
    sdists = sorted(sdist_dir.glob("llama_cpp_python-*.tar.gz"))
    if not sdists:
        run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "-q",
             "--disable-pip-version-check", "-d", sdist_dir, "llama-cpp-python"])
        sdists = sorted(sdist_dir.glob("llama_cpp_python-*.tar.gz"))
    sdist = sdists[-1]
    source_root = BENCH / sdist.name[:-len(".tar.gz")]
    if not (source_root / "vendor" / "llama.cpp" / "CMakeLists.txt").exists():
        log(f"extracting {sdist.name}")
        with tarfile.open(sdist) as archive:
            archive.extractall(BENCH, filter="data")
    source = source_root / "vendor" / "llama.cpp"
    # Not GGML_NATIVE: built that way, llama-bench died by SIGILL here (the CPU reports AMX; our
    # guess is that the sandbox does not grant the AMX tile state). AMX off, every other x86
    # extension this CPU has switched on explicitly.
    run(["cmake", "-S", source, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=OFF",
         "-DGGML_AVX=ON", "-DGGML_AVX2=ON", "-DGGML_FMA=ON", "-DGGML_F16C=ON", "-DGGML_BMI2=ON",
         "-DGGML_AVX_VNNI=ON", "-DGGML_AVX512=ON", "-DGGML_AVX512_VBMI=ON", "-DGGML_AVX512_VNNI=ON",
         "-DGGML_AVX512_BF16=ON", "-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF",
         "-DLLAMA_CURL=OFF", "-DGGML_CUDA=OFF", "-DGGML_METAL=OFF", "-DGGML_VULKAN=OFF", "-DBUILD_SHARED_LIBS=OFF",
         "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=OFF",
         "-DLLAMA_BUILD_TOOLS=ON"], stdout=subprocess.DEVNULL)
    run(["cmake", "--build", build_dir, "-j", jobs, "--target", "llama-bench"], stdout=subprocess.DEVNULL)
    stamp.touch()
    return build_dir / "bin"


def llama_cpp_version():
    for path in sorted(BENCH.glob("llama_cpp_python-*/")):
        return path.name
    return "?"


# ---- memory bandwidth ---------------------------------------------------------------------------

def memory_bandwidth(threads):
    source = ROOT / "bench" / "engine" / "membw.c"
    binary = BENCH / "membw"
    if not binary.exists() or binary.stat().st_mtime < source.stat().st_mtime:
        run(["cc", "-O3", "-march=native", "-pthread", "-o", binary, source])
    out = subprocess.run([str(binary), str(threads), "1024"], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"read_gbps=([0-9.]+)", out).group(1))


# ---- k-quant kernel speed ----------------------------------------------------------------------

def kquant_speed(aisos):
    """Builds bench/engine/kquant_speed.cpp against the engine library next to the aisos-llm binary."""
    build = aisos.resolve().parent.parent
    libs = [build / "engine" / "libaisos_engine.a", build / "engine" / "libaisos_engine_base.a"]
    for lib in libs:
        if not lib.exists():
            raise SystemExit(f"bench: {lib} not found (build the aisos_engine target in {build})")
    source = ROOT / "bench" / "engine" / "kquant_speed.cpp"
    binary = BENCH / "kquant_speed"
    run(["c++", "-O2", "-std=c++20", "-I", ROOT, "-o", binary, source] + libs)
    log(f"$ {binary} (one thread; the machine may be shared: see the load average)")
    load = os.getloadavg()[0]
    subprocess.run([str(binary)], check=True)
    print(f"load average at start {load:.1f}, at end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


# ---- models -------------------------------------------------------------------------------------

def smollm2_model():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "fetch_model.py")], capture_output=True, text=True,
                         check=True)
    return pathlib.Path(out.stdout.strip())


def random_llama_1b(type_name):
    """TinyLlama-1.1B shape (hidden 2048, 22 layers, 32 heads, 4 KV heads, FFN 5632, vocab 32000),
    random weights as random quantized blocks. Cached under build/bench/."""
    path = BENCH / f"random-llama-1.1B-{type_name}.gguf"
    if path.exists():
        return path
    import numpy as np
    import gguf
    from gguf import GGMLQuantizationType as QT
    qtype = QT[type_name]
    hidden, layers, heads, kv_heads, ffn, vocab_size = 2048, 22, 32, 4, 5632, 32000
    head_dim = hidden // heads
    rng = np.random.default_rng(7)
    log(f"writing {path.name} (random weights, {type_name})")
    temp = path.with_suffix(".tmp")
    writer = gguf.GGUFWriter(str(temp), "llama")
    writer.add_name("random-llama-1.1B")
    writer.add_context_length(2048)
    writer.add_embedding_length(hidden)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(ffn)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(10000.0)
    writer.add_rope_dimension_count(head_dim)
    writer.add_vocab_size(vocab_size)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_0 if type_name == "Q4_0" else gguf.LlamaFileType.MOSTLY_Q8_0)
    # A SentencePiece-style vocabulary: specials, the 256 byte tokens, then filler pieces.
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    tokens += [f"\u2581w{i}" for i in range(vocab_size - len(tokens))]
    types += [1] * (vocab_size - len(types))
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * 259 + [-float(i) for i in range(vocab_size - 259)])
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)

    from oracle import quants

    def matrix(rows, cols, scale):
        # Random blocks (random quants, small random f16 scales): speed does not depend on the
        # values, and this is ~100x faster than quantizing 1.1B random floats in NumPy.
        del scale
        return quants.random_blocks(rows, cols, qtype, rng)

    writer.add_tensor("token_embd.weight", matrix(vocab_size, hidden, 0.02), raw_dtype=qtype)
    for layer in range(layers):
        b = f"blk.{layer}."
        writer.add_tensor(b + "attn_norm.weight", np.ones(hidden, dtype=np.float32))
        writer.add_tensor(b + "attn_q.weight", matrix(hidden, hidden, hidden ** -0.5), raw_dtype=qtype)
        writer.add_tensor(b + "attn_k.weight", matrix(kv_heads * head_dim, hidden, hidden ** -0.5), raw_dtype=qtype)
        writer.add_tensor(b + "attn_v.weight", matrix(kv_heads * head_dim, hidden, hidden ** -0.5), raw_dtype=qtype)
        writer.add_tensor(b + "attn_output.weight", matrix(hidden, hidden, hidden ** -0.5), raw_dtype=qtype)
        writer.add_tensor(b + "ffn_norm.weight", np.ones(hidden, dtype=np.float32))
        writer.add_tensor(b + "ffn_gate.weight", matrix(ffn, hidden, hidden ** -0.5), raw_dtype=qtype)
        writer.add_tensor(b + "ffn_up.weight", matrix(ffn, hidden, hidden ** -0.5), raw_dtype=qtype)
        writer.add_tensor(b + "ffn_down.weight", matrix(hidden, ffn, ffn ** -0.5), raw_dtype=qtype)
    writer.add_tensor("output_norm.weight", np.ones(hidden, dtype=np.float32))
    writer.add_tensor("output.weight", matrix(vocab_size, hidden, 0.02), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    temp.rename(path)
    return path


def random_llama_1b_q4_k_m(bin_dir, jobs):
    """The random 1.1B Llama as Q4_K_M: llama.cpp's own llama-quantize picks the k-quant mix."""
    path = BENCH / "random-llama-1.1B-Q4_K_M.gguf"
    if path.exists():
        return path
    quantize = bin_dir / "llama-quantize"
    if not quantize.exists():
        run(["cmake", "--build", bin_dir.parent, "-j", jobs, "--target", "llama-quantize"], stdout=subprocess.DEVNULL)
    source = random_llama_1b("Q8_0")
    temp = path.with_suffix(".tmp")
    log(f"writing {path.name} (llama-quantize of {source.name})")
    # The source is already quantized (random Q8_0 blocks): requantizing is the point here.
    run([quantize, "--allow-requantize", source, temp, "Q4_K_M"], stdout=subprocess.DEVNULL)
    temp.rename(path)
    return path


def bytes_per_token(path):
    """Weight bytes read per decoded token: every tensor except the embedding table (one row is read)."""
    from gguf import GGUFReader
    reader = GGUFReader(str(path))
    total = 0
    for tensor in reader.tensors:
        if tensor.name == "token_embd.weight" and any(t.name == "output.weight" for t in reader.tensors):
            continue  # untied: only one row of the embedding table is touched
        total += int(tensor.n_bytes)
    return total


# ---- running the engines ------------------------------------------------------------------------

def run_measured(command, timeout=1800):
    """Runs a command; returns (stdout, stderr, peak RSS bytes of that process)."""
    log("$ " + " ".join(str(c) for c in command))
    stdout_path = BENCH / "last.stdout"
    stderr_path = BENCH / "last.stderr"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        process = subprocess.Popen([str(c) for c in command], stdout=out, stderr=err)
        start = time.monotonic()
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                raise RuntimeError(f"timed out: {command}")
            time.sleep(0.02)
    code = os.waitstatus_to_exitcode(status)
    stdout = stdout_path.read_text(errors="replace")
    stderr = stderr_path.read_text(errors="replace")
    if code != 0:
        raise RuntimeError(f"exit {code}: {command}\n{stderr[-2000:]}")
    return stdout, stderr, usage.ru_maxrss * 1024


def aisos_prompt_ids(model, tokenizer_json=None):
    """A 128-token prompt: real text for SmolLM2 (repeated as needed), ids 1000.. for the random model."""
    if tokenizer_json is None:
        return [1000 + (i * 37) % 20000 for i in range(PREFILL_TOKENS)]
    from oracle import vocab
    tokenizer = vocab.load_hf_tokenizer(tokenizer_json)
    text = (ROOT / "tests" / "oracle" / "vocab.py").read_text()
    ids = tokenizer.encode(text, add_special_tokens=False).ids
    return ids[:PREFILL_TOKENS]


def bench_aisos(binary, model, threads, reps, prompt_ids):
    best = None
    for _ in range(reps):
        _, stderr, rss = run_measured([binary, "-m", model, "--ids", " ".join(map(str, prompt_ids)),
                                       "-n", DECODE_TOKENS, "--temp", "0", "-t", threads, "--ignore-eos"])
        m = re.search(r"prefill: (\d+) tokens, ([0-9.]+) tok/s; decode: (\d+) tokens, ([0-9.]+) tok/s", stderr)
        if not m:
            raise RuntimeError("aisos-llm printed no speed line:\n" + stderr[-2000:])
        sample = {"prefill_tokens": int(m.group(1)), "prefill": float(m.group(2)),
                  "decode_tokens": int(m.group(3)), "decode": float(m.group(4)), "rss": rss}
        if best is None:
            best = sample
        else:
            best = {"prefill_tokens": sample["prefill_tokens"], "decode_tokens": sample["decode_tokens"],
                    "prefill": max(best["prefill"], sample["prefill"]),
                    "decode": max(best["decode"], sample["decode"]), "rss": max(best["rss"], sample["rss"])}
    return best


def bench_llama_cpp(bin_dir, model, threads, reps):
    stdout, _, rss = run_measured([bin_dir / "llama-bench", "-m", model, "-p", PREFILL_TOKENS, "-n", DECODE_TOKENS,
                                   "-t", threads, "-r", reps, "-o", "json"])
    results = json.loads(stdout)
    out = {"rss": rss}
    for entry in results:
        if entry.get("n_prompt", 0) > 0 and entry.get("n_gen", 0) == 0:
            out["prefill"] = float(entry["avg_ts"])
        elif entry.get("n_gen", 0) > 0 and entry.get("n_prompt", 0) == 0:
            out["decode"] = float(entry["avg_ts"])
    return out


def default_aisos():
    env = os.environ.get("AISOS_LLM")
    if env:
        return pathlib.Path(env)
    for candidate in ("build/release/bin/aisos-llm", "build/engine-release/bin/aisos-llm",
                      "build/oracle-release/bin/aisos-llm"):
        if (ROOT / candidate).exists():
            return ROOT / candidate
    return ROOT / "build/release/bin/aisos-llm"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--aisos", type=pathlib.Path, default=default_aisos())
    parser.add_argument("--skip-1b", action="store_true", help="only SmolLM2-135M")
    parser.add_argument("--jobs", type=int, default=2, help="parallel jobs for building llama.cpp")
    parser.add_argument("--aisos-only", action="store_true",
                        help="skip llama.cpp (e.g. while its build is not finished): aisos, bandwidth, roofline")
    parser.add_argument("--only", metavar="TEXT", help="only the models whose label contains TEXT (e.g. Q4_K_M)")
    parser.add_argument("--kquant-speed", action="store_true",
                        help="only the single-thread AVX2 vs AVX-512 k-quant kernel timing")
    args = parser.parse_args()
    BENCH.mkdir(parents=True, exist_ok=True)
    if not args.aisos.exists():
        raise SystemExit(f"bench: {args.aisos} not found (build the aisos-llm target, or set AISOS_LLM / --aisos)")
    if args.kquant_speed:
        kquant_speed(args.aisos)
        return 0

    bin_dir = None if args.aisos_only else build_llama_cpp(args.jobs)
    load_start = os.getloadavg()
    bandwidth = memory_bandwidth(args.threads)
    models = [("SmolLM2-135M Q4_1", smollm2_model)]
    if not args.skip_1b:
        models += [("random Llama 1.1B Q4_0", lambda: random_llama_1b("Q4_0")),
                   ("random Llama 1.1B Q8_0", lambda: random_llama_1b("Q8_0"))]
        if bin_dir:  # llama-quantize comes from the llama.cpp build
            models.append(("random Llama 1.1B Q4_K_M", lambda: random_llama_1b_q4_k_m(bin_dir, str(args.jobs))))
        else:
            log("--aisos-only: no llama.cpp build, so no Q4_K_M model (llama-quantize writes it)")
    if args.only:
        models = [(label, make) for label, make in models if args.only in label]
        if not models:
            raise SystemExit(f"bench: no model label contains {args.only!r}")
    models = [(label, make()) for label, make in models]

    from oracle import vocab
    rows = []
    for label, path in models:
        tokenizer_json = vocab.smollm2_tokenizer_json(path) if "SmolLM2" in label else None
        prompt = aisos_prompt_ids(path, tokenizer_json)
        ours = bench_aisos(args.aisos, path, args.threads, args.reps, prompt)
        nan = float("nan")
        theirs = bench_llama_cpp(bin_dir, path, args.threads, args.reps) if bin_dir else {"rss": nan}
        per_token = bytes_per_token(path)
        rows.append((label, path, ours, theirs, per_token))

    print()
    print(f"machine: {os.cpu_count()} CPUs, threads {args.threads}; streaming read bandwidth {bandwidth:.1f} GB/s; "
          f"load average at start {load_start[0]:.1f}, at end {os.getloadavg()[0]:.1f} "
          "(above the thread count, other processes share the cores and every figure is low)")
    print(f"llama.cpp: {llama_cpp_version()} (vendored, CPU, Release); aisos-llm: {args.aisos}")
    print(f"prefill = {PREFILL_TOKENS}-token prompt, decode = {DECODE_TOKENS} tokens; best of {args.reps} "
          "(llama.cpp: llama-bench mean of its reps); tok/s")
    header = (f"{'model':<26} {'aisos pp':>9} {'llama pp':>9} {'ratio':>6} {'aisos tg':>9} {'llama tg':>9} "
              f"{'ratio':>6} {'roofline tg':>11} {'aisos RSS':>10} {'llama RSS':>10}")
    print(header)
    print("-" * len(header))
    for label, path, ours, theirs, per_token in rows:
        roofline = bandwidth * 1e9 / per_token
        pp_ratio = ours["prefill"] / theirs["prefill"] if theirs.get("prefill") else float("nan")
        tg_ratio = ours["decode"] / theirs["decode"] if theirs.get("decode") else float("nan")
        print(f"{label:<26} {ours['prefill']:>9.1f} {theirs.get('prefill', float('nan')):>9.1f} {pp_ratio:>6.2f} "
              f"{ours['decode']:>9.1f} {theirs.get('decode', float('nan')):>9.1f} {tg_ratio:>6.2f} "
              f"{roofline:>11.1f} {ours['rss'] / 2**20:>8.0f}Mi {theirs['rss'] / 2**20:>8.0f}Mi")
    if bin_dir is None:
        print("(--aisos-only: llama.cpp columns not measured)")
    print()
    for label, path, ours, theirs, per_token in rows:
        size = path.stat().st_size
        print(f"{label}: file {size / 2**20:.0f} MiB, weights read per token {per_token / 2**20:.0f} MiB; "
              f"aisos decode at {ours['decode'] * per_token / 1e9:.1f} GB/s effective "
              f"({ours['decode_tokens']} tokens decoded, prompt {ours['prefill_tokens']} tokens); "
              f"aisos RSS - file = {(ours['rss'] - size) / 2**20:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
