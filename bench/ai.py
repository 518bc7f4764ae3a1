#!/usr/bin/env python3
"""Inference benchmark: SmolLM2-135M through aiSOS's HTTP API (/ai and
/v1/completions) against the native engine CLI (aisos-llm) in a Linux guest,
in the same QEMU configuration (issue 8). Not a test: it prints a table and
the ratios, and asserts nothing about speed.

    build/venv/bin/python bench/ai.py [--max-tokens 32] [--reps 1]
        [--smp 4] [--mem 4096] [--accel auto] [--image build/run/aisos.img]
        [--model build/models/SmolLM2-135M-Instruct-Q4_1.gguf]
        [--cli build/aibench-release/bin/aisos-llm] [--only aisos|linux]
        [--json FILE]

Both guests: q35, OVMF, -cpu max (TCG) or host (KVM), the same -smp, -m and
accel, one after the other (they share the host's cores).
- aiSOS boots --image (the run image: llm.rpk and the model in its initrd,
  preinstalled on a fresh NVMe disk) with a derived aisos.cfg that sets the
  admin password, waits for GET /health 200 (model loaded), logs in.
  --llm-rpk FILE swaps the image's initrd for one with that module (e.g. a
  newer build/metal/modules/llm.rpk than the image was built with).
- Linux boots Debian's kernel with a busybox initramfs holding the static
  aisos-llm and the model (bench/ai/linux_llm_guest.py); /init runs the CLI
  and prints to the serial console. No network, no disk: the model is in RAM.

The prompts:
- short: "Hi" as one chat message (aiSOS: POST /ai, which applies the chat
  template; Linux: aisos-llm --chat -p Hi -n 1).
- long: PROMPT below, about 64 tokens, no chat template (aiSOS: POST
  /v1/completions; Linux: aisos-llm -p PROMPT), --max-tokens new tokens,
  temperature 0 (greedy) on both.

How each figure is computed:
- TTFT (short prompt), aiSOS: wall time on the host from sending the
  streamed POST /ai to the arrival of the first non-empty body chunk (raw
  socket, so client buffering does not merge chunks). Linux: the CLI's own
  prefill time for the same templated prompt (prompt tokens / its prefill
  tok/s), in the guest, no HTTP; it includes the logits of the last prompt
  token, i.e. what the first token needs.
- prefill tok/s, aiSOS: prompt_tokens / TTFT of the streamed long-prompt
  /v1/completions request, prompt_tokens from the delta of
  aisos_llm_prompt_tokens_total in /metrics. Includes HTTP and queueing, so
  it is a lower bound of the engine's prefill rate. Linux: the CLI's prefill
  tok/s (engine timer).
- decode tok/s, aiSOS: (completion_tokens - 1) / (arrival of the last
  text-bearing SSE event - arrival of the first), completion_tokens from the
  delta of aisos_llm_tokens_generated_total. Linux: the CLI's decode tok/s
  (decode evaluations / decode time, engine timer).
- ratio: aiSOS / Linux for rates (> 1: aiSOS faster); Linux / aiSOS for
  TTFT (> 1: aiSOS faster), so > 1 means aiSOS is ahead in every row.
With --reps N each figure is the median of N runs.

Kernels: the Linux CLI gets the kernel set the llm module says it uses
(its console line "llm: computing on the CPU: ... <isa> kernels"): an
image from after commit 84386a8 takes scalar under TCG (emulated AVX2
measured ~10x slower), older ones avx2. Without that line (--only linux):
scalar under TCG, the CLI's default under KVM; --linux-kernels overrides.
Threads: the CLI runs with -t <smp>; aiSOS gives the model the CPUs that do
not poll the network (its line says how many; the table notes it).
Needs: busybox-static, apt-get download access for linux-image-amd64, and
a statically linked aisos-llm (built into build/aibench-release when --cli
is the default and it is missing).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "bench" / "ai"))
sys.path.insert(0, str(ROOT / "bench" / "net"))

import qemu  # noqa: E402
import linux_guest  # noqa: E402
import linux_llm_guest  # noqa: E402

CACHE = ROOT / "build" / "aibench-cache"
DEFAULT_CLI = ROOT / "build" / "aibench-release" / "bin" / "aisos-llm"
BOOT_TIMEOUT = 1800.0
REQUEST_TIMEOUT = 3600.0
PASSWORD = "bench-ai-password-1"
SHORT_PROMPT = "Hi"
# About 64 tokens with SmolLM2's tokenizer (the script prints the count). It
# ends mid-sentence: a prompt ending in a full stop made the greedy model
# stop at once (end of generation, 0 tokens) on /v1/completions.
PROMPT = ("Why do operating systems schedule processes, what does a context switch cost, and how could a server "
          "that only runs language model inference avoid most of that cost by polling network queues on dedicated "
          "cores and handing the remaining cores to the model's threads? Keep it short and concrete.\n"
          " An operating system schedules processes because")


class BenchError(RuntimeError):
    pass


# -- aiSOS ---------------------------------------------------------------------

class StreamTimes:
    """Arrival times (host monotonic) of the pieces of one streamed answer."""

    def __init__(self) -> None:
        self.sent = 0.0
        self.pieces: list[tuple[float, str]] = []  # (arrival, text), non-empty text only
        self.status = 0
        self.error = ""


def _stream_request(port: int, path: str, body: dict, token: str, sse: bool) -> StreamTimes:
    """POST `body` as JSON, read the chunked answer from a raw socket and
    stamp each decoded chunk (text/plain) or SSE event with the time of the
    recv() that completed it."""
    payload = json.dumps(body).encode()
    request = (f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
               f"Authorization: Bearer {token}\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode()
    times = StreamTimes()
    buffer = b""
    headers_done = False
    chunked = False
    events = b""  # SSE text not yet split into events
    with socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT) as connection:
        times.sent = time.monotonic()
        connection.sendall(request + payload)
        finished = False
        while not finished:
            data = connection.recv(65536)
            now = time.monotonic()
            if not data:
                break
            buffer += data
            if not headers_done:
                head, separator, rest = buffer.partition(b"\r\n\r\n")
                if not separator:
                    continue
                headers_done = True
                match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
                times.status = int(match.group(1)) if match else 0
                chunked = b"transfer-encoding: chunked" in head.lower()
                buffer = rest
                if times.status != 200 or not chunked:
                    # Not a stream: read the rest for the error text.
                    while True:
                        more = connection.recv(65536)
                        if not more:
                            break
                        buffer += more
                    times.error = f"answered {times.status}{' (not chunked)' if times.status == 200 else ''}: {buffer[:300]!r}"
                    return times
            # Chunked framing: size line, data, CRLF.
            while True:
                line, separator, rest = buffer.partition(b"\r\n")
                if not separator:
                    break
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    finished = True
                    break
                if len(rest) < size + 2:
                    break
                chunk, buffer = rest[:size], rest[size + 2:]
                if not sse:
                    if chunk:
                        times.pieces.append((now, chunk.decode("utf-8", "replace")))
                    continue
                events += chunk
                while b"\n\n" in events:
                    event, events = events.split(b"\n\n", 1)
                    for event_line in event.split(b"\n"):
                        if not event_line.startswith(b"data:"):
                            continue
                        data_text = event_line[5:].strip()
                        if data_text == b"[DONE]":
                            continue
                        try:
                            text = json.loads(data_text)["choices"][0].get("text") or ""
                        except (ValueError, KeyError, IndexError, TypeError):
                            times.error = f"unreadable SSE event {data_text[:200]!r}"
                            continue
                        if text:
                            times.pieces.append((now, text))
    if not times.pieces and not times.error:
        times.error = "the stream carried no text"
    return times


class Aisos:
    def __init__(self, args):
        self.args = args
        cfg = (f"ip={linux_guest.GUEST_IP}/24\ngw={linux_guest.GATEWAY}\nhostname=aisos\n"
               f"admin_password={PASSWORD}\n").encode()
        put = {"/aisos/aisos.cfg": cfg}
        if args.llm_rpk:
            # A fresh initrd (tools/make_initrd.py) with this module and --model,
            # in place of the image's own.
            initrd = CACHE / "initrd"
            result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_initrd.py"), "-o", str(initrd),
                                     f"models/{args.model.name}={args.model}", f"system/pkg/llm.rpk={args.llm_rpk}"],
                                    capture_output=True, text=True)
            if result.returncode != 0:
                raise BenchError(f"make_initrd.py failed: {result.stderr.strip()}")
            put["/aisos/initrd"] = initrd
        image = qemu.derive_image(args.image, CACHE / f"aisos-bench{args.image.suffix}", put=put,
                                  delete=["/aisos/initrd"] if args.llm_rpk else ())
        self.disk = CACHE / "aisos-disk.img"
        self.disk.unlink(missing_ok=True)
        with open(self.disk, "wb") as f:
            f.truncate(2 << 30)
        config = qemu.MachineConfig(image=image, smp=args.smp, mem=args.mem, accel=args.accel, disk=self.disk,
                                    name="bench-ai-aisos")
        self.machine = qemu.Machine(config)
        self.port = self.machine.port
        started = time.monotonic()
        self.machine.start()
        self.machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT)
        deadline = time.monotonic() + BOOT_TIMEOUT
        while True:  # 503 "loading" until the model is loaded
            status, body = self.machine.wait_http("/health", timeout=max(1.0, deadline - time.monotonic()))
            if status == 200:
                break
            if time.monotonic() > deadline:
                raise BenchError(f"/health still answers {status} {body[:200]!r}")
            time.sleep(1)
        self.ready_after = time.monotonic() - started
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        connection.request("POST", "/auth/login", json.dumps({"user": "admin", "password": PASSWORD}),
                           {"Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise BenchError(f"login failed: {response.status} {body[:200]!r}")
        self.token = json.loads(body)["token"]

    def metrics(self) -> dict[str, float]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        connection.request("GET", "/metrics")
        values = {}
        for line in connection.getresponse().read().decode().splitlines():
            if line.startswith("aisos_llm_") and " " in line:
                name, value = line.rsplit(" ", 1)
                try:
                    values[name] = float(value)
                except ValueError:
                    pass
        return values

    def request(self, path: str, body: dict, sse: bool) -> tuple[StreamTimes, dict[str, float]]:
        before = self.metrics()
        times = _stream_request(self.port, path, body, self.token, sse)
        after = self.metrics()
        delta = {key: after.get(key, 0) - before.get(key, 0)
                 for key in ("aisos_llm_prompt_tokens_total", "aisos_llm_tokens_generated_total")}
        delta["module_ttft_s"] = after.get("aisos_llm_time_to_first_token_seconds", 0)
        delta["module_decode_tok_s"] = after.get("aisos_llm_decode_tokens_per_second", 0)
        return times, delta

    def stop(self) -> None:
        self.machine.kill()
        self.disk.unlink(missing_ok=True)


def bench_aisos(args) -> dict:
    out: dict = {"ttft_s": [], "prefill_tok_s": [], "decode_tok_s": [], "notes": []}
    started = time.monotonic()
    guest = Aisos(args)
    try:
        print(f"aiSOS: model loaded, /health 200 after {guest.ready_after:.0f} s", flush=True)
        engine = re.search(r"llm: computing on the CPU: (\d+) CPUs, (\d+) engine threads per generation, (\w+) kernels",
                           guest.machine.output)
        if engine:
            out["kernels"], out["threads"] = engine.group(3), int(engine.group(2))
            out["notes"].append(f"llm module: {engine.group(2)} engine threads, {engine.group(3)} kernels")
        for rep in range(args.reps):
            times, delta = guest.request("/ai", {"prompt": SHORT_PROMPT, "max_tokens": args.short_tokens,
                                                 "temperature": 0, "stream": True}, sse=False)
            if times.error:
                raise BenchError(f"POST /ai: {times.error}")
            ttft = times.pieces[0][0] - times.sent
            out["ttft_s"].append(ttft)
            print(f"aiSOS: short prompt: {delta['aisos_llm_prompt_tokens_total']:.0f} prompt tokens, TTFT {ttft:.2f} s "
                  f"(module's own TTFT {delta['module_ttft_s']:.2f} s)", flush=True)
            times, delta = guest.request("/v1/completions", {"prompt": PROMPT, "max_tokens": args.max_tokens,
                                                             "temperature": 0, "stream": True}, sse=True)
            if times.error:
                raise BenchError(f"POST /v1/completions: {times.error}")
            prompt_tokens = delta["aisos_llm_prompt_tokens_total"]
            completion_tokens = delta["aisos_llm_tokens_generated_total"]
            ttft = times.pieces[0][0] - times.sent
            span = times.pieces[-1][0] - times.pieces[0][0]
            out["prompt_tokens"] = int(prompt_tokens)
            out["completion_tokens"] = int(completion_tokens)
            out["prefill_tok_s"].append(prompt_tokens / ttft)
            if completion_tokens >= 2 and span > 0:
                out["decode_tok_s"].append((completion_tokens - 1) / span)
            else:
                out["notes"].append(f"decode not measurable: {completion_tokens:.0f} tokens over {span:.3f} s")
            print(f"aiSOS: long prompt: {prompt_tokens:.0f} prompt tokens, TTFT {ttft:.2f} s, {completion_tokens:.0f} "
                  f"tokens in {len(times.pieces)} SSE events, first->last {span:.2f} s "
                  f"(module's own TTFT {delta['module_ttft_s']:.2f} s, decode {delta['module_decode_tok_s']:.2f} tok/s)",
                  flush=True)
            print(f"aiSOS: answer: {''.join(text for _, text in times.pieces)[:200]!r}", flush=True)
    finally:
        guest.stop()
    print(f"aiSOS: done after {time.monotonic() - started:.0f} s", flush=True)
    return out


# -- Linux ---------------------------------------------------------------------

def ensure_cli(path: Path) -> Path:
    if path.exists() or path != DEFAULT_CLI:
        return path
    build_dir = DEFAULT_CLI.parent.parent
    print(f"building a static aisos-llm in {build_dir}", flush=True)
    for argv in (["cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release", "-DAISOS_SANITIZE=OFF",
                  "-DCMAKE_EXE_LINKER_FLAGS=-static"],
                 ["cmake", "--build", str(build_dir), "-j2", "--target", "aisos-llm"]):
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 0:
            raise BenchError(f"{' '.join(argv)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return path


CLI_LINE = re.compile(r"^prefill: (\d+) tokens, ([\d.]+) tok/s; decode: (\d+) tokens, ([\d.]+) tok/s$", re.M)


def bench_linux(args, accel: str, aisos_kernels: Optional[str]) -> dict:
    out: dict = {"ttft_s": [], "prefill_tok_s": [], "decode_tok_s": [], "notes": []}
    cli = ensure_cli(args.cli)
    isa = args.linux_kernels or aisos_kernels or ("scalar" if accel == "tcg" else None)
    kernels = ["--kernels", isa] if isa else []
    out["notes"].append(f"aisos-llm -t {args.smp}, {isa or 'default'} kernels")
    threads = ["-t", str(args.smp)]
    runs = []
    for rep in range(args.reps):
        runs.append((f"short{rep}", ["--chat", "-p", SHORT_PROMPT, "-n", "1", "--temp", "0", *threads, *kernels]))
        runs.append((f"long{rep}", ["-p", PROMPT, "-n", str(args.max_tokens), "--temp", "0", *threads, *kernels]))
    kernel, initramfs = linux_llm_guest.build(CACHE, cli, args.model, runs)
    scratch = Path(tempfile.mkdtemp(prefix="aisos-bench-ai-linux-"))
    variables = scratch / "OVMF_VARS.fd"
    shutil.copyfile(qemu.find_firmware(qemu.OVMF_VARS_CANDIDATES, "variables"), variables)
    code = qemu.find_firmware(qemu.OVMF_CODE_CANDIDATES, "code")
    # tools/qemu.py's machine, firmware, CPU and memory; the kernel and
    # initramfs given to OVMF instead of a boot medium; no NIC or disk needed.
    command = [qemu.QEMU, "-machine", "q35", "-smp", str(args.smp), "-m", str(args.mem)]
    command += ["-accel", "kvm", "-cpu", "host"] if accel == "kvm" else ["-accel", "tcg", "-cpu", "max"]
    command += [
        "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
        "-drive", f"if=pflash,format=raw,unit=1,file={variables}",
        "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot", "-nic", "none",
        "-kernel", str(kernel), "-initrd", str(initramfs),
        "-append", "console=ttyS0 quiet panic=-1",
    ]
    log = qemu.LOG_DIR / f"bench-ai-linux-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    process = qemu._QemuProcess(command, log, None)
    started = time.monotonic()
    process.start()
    try:
        process.wait_for(rf"^{linux_llm_guest.DONE_LINE}$", timeout=BOOT_TIMEOUT * 2)
    finally:
        process.kill()
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"Linux: done after {time.monotonic() - started:.0f} s (log {log})", flush=True)
    output = process.output
    for name, _ in runs:
        match = re.search(rf"^{linux_llm_guest.BEGIN} {name}$(.*?)^{linux_llm_guest.END} {name} rc=(\d+)$",
                          output, re.M | re.S)
        if not match:
            raise BenchError(f"the Linux guest printed no complete run {name}")
        text, rc = match.group(1), int(match.group(2))
        figures = CLI_LINE.search(text)
        if rc != 0 or not figures:
            raise BenchError(f"aisos-llm run {name} failed (rc {rc}): {text.strip()[-500:]}")
        prompt_tokens, prefill, generated, decode = (int(figures.group(1)), float(figures.group(2)),
                                                     int(figures.group(3)), float(figures.group(4)))
        if name.startswith("short"):
            out["ttft_s"].append(prompt_tokens / prefill)
            print(f"Linux: short prompt: {prompt_tokens} prompt tokens, prefill {prompt_tokens / prefill:.2f} s", flush=True)
        else:
            out["prompt_tokens"], out["completion_tokens"] = prompt_tokens, generated
            out["prefill_tok_s"].append(prefill)
            out["decode_tok_s"].append(decode)
            answer = CLI_LINE.sub("", text).strip()
            print(f"Linux: long prompt: {prompt_tokens} prompt tokens, prefill {prefill:.2f} tok/s, "
                  f"{generated} tokens, decode {decode:.2f} tok/s", flush=True)
            print(f"Linux: answer: {answer[:200]!r}", flush=True)
    return out


# -- table ---------------------------------------------------------------------

ROWS = [
    # key, label, digits, higher is better
    ("ttft_s", "TTFT, short prompt (s)", 2, False),
    ("prefill_tok_s", "prefill (tok/s)", 2, True),
    ("decode_tok_s", "decode (tok/s)", 2, True),
]


def median(values: list[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def print_table(results: dict, args, accel: str) -> None:
    print()
    prompt = results.get("aiSOS", {}).get("prompt_tokens") or results.get("Linux", {}).get("prompt_tokens")
    print(f"QEMU q35 + OVMF, -smp {args.smp} -m {args.mem}, accel {accel}, -cpu {'host' if accel == 'kvm' else 'max'}; "
          f"{args.model.name}; long prompt {prompt if prompt is not None else '?'} tokens, "
          f"{args.max_tokens} new tokens, greedy; {args.reps} rep(s), median")
    header = f"{'metric':<26} {'aiSOS':>10} {'Linux+aisos-llm':>16} {'ratio':>8}"
    print(header)
    print("-" * len(header))
    for key, label, digits, higher in ROWS:
        a = median(results.get("aiSOS", {}).get(key, []))
        l = median(results.get("Linux", {}).get(key, []))
        ratio = "n/a"
        if a and l:
            ratio = f"{(a / l) if higher else (l / a):.2f}x"
        a_text = f"{a:.{digits}f}" if a is not None else "n/a"
        l_text = f"{l:.{digits}f}" if l is not None else "n/a"
        print(f"{label:<26} {a_text:>10} {l_text:>16} {ratio:>8}")
    print("(ratio > 1: aiSOS ahead; rates aiSOS/Linux, TTFT Linux/aiSOS)")
    print("(aiSOS: host wall clock over HTTP, streamed: TTFT = send -> first chunk; prefill = prompt_tokens / TTFT "
          "of the long prompt; decode = (completion_tokens-1) / (first -> last SSE event); token counts from /metrics)")
    print("(Linux: aisos-llm's own timers in the guest, no HTTP: TTFT = prefill time of the templated \"Hi\"; "
          "prefill and decode tok/s as the CLI prints them)")
    for name in ("aiSOS", "Linux"):
        for note in results.get(name, {}).get("notes", []):
            print(f"note, {name}: {note}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/ai.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-tokens", type=int, default=32, help="new tokens for the long prompt (default 32)")
    parser.add_argument("--short-tokens", type=int, default=4, help="max_tokens of aiSOS's short-prompt request")
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--smp", type=int, default=4)
    parser.add_argument("--mem", type=int, default=4096)
    parser.add_argument("--accel", choices=qemu.ACCELS, default="auto")
    parser.add_argument("--image", type=Path, default=ROOT / "build" / "run" / "aisos.img")
    parser.add_argument("--llm-rpk", type=Path,
                        help="boot with a new initrd holding this llm.rpk and --model instead of the image's")
    parser.add_argument("--model", type=Path, default=ROOT / "build" / "models" / "SmolLM2-135M-Instruct-Q4_1.gguf")
    parser.add_argument("--cli", type=Path, default=DEFAULT_CLI, help="a statically linked aisos-llm")
    parser.add_argument("--linux-kernels", choices=("scalar", "avx2", "avx512"),
                        help="kernel set of the Linux CLI (default: the one aiSOS's llm module reports)")
    parser.add_argument("--only", choices=("aisos", "linux"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.max_tokens < 2 or args.reps < 1 or args.short_tokens < 1:
        parser.error("--max-tokens must be at least 2, --reps and --short-tokens at least 1")
    if not args.model.exists():
        parser.error(f"{args.model} is missing (tools/fetch_model.py fetches it)")
    if args.only != "linux" and not args.image.exists():
        parser.error(f"{args.image} is missing (./aisos build builds the run image)")

    accel = qemu.resolve_accel(args.accel)[0]
    CACHE.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    sides = []
    if args.only in (None, "aisos"):
        sides.append(("aiSOS", lambda: bench_aisos(args)))
    if args.only in (None, "linux"):
        sides.append(("Linux", lambda: bench_linux(args, accel, results.get("aiSOS", {}).get("kernels"))))
    for name, run in sides:  # one after the other: they share the host's cores
        try:
            results[name] = run()
        except (BenchError, qemu.MachineError, linux_guest.GuestBuildError, OSError, http.client.HTTPException) as error:
            print(f"bench/ai.py: {name}: {error}", file=sys.stderr)
    print_table(results, args, accel)
    if args.json:
        args.json.write_text(json.dumps({"config": {"smp": args.smp, "mem": args.mem, "accel": accel,
                                                    "max_tokens": args.max_tokens, "reps": args.reps,
                                                    "model": args.model.name, "prompt": PROMPT,
                                                    "short_prompt": SHORT_PROMPT},
                                         **results}, indent=2) + "\n")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
