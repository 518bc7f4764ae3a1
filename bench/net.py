#!/usr/bin/env python3
"""Network benchmark: aiSOS against a Linux guest in the same QEMU
configuration (issue 4). Not a test: it prints a table and the ratios.

    build/venv/bin/python bench/net.py [--smp 2] [--mem 2048] [--nic virtio]
        [--accel auto] [--duration 10] [--upload-mb 200]
        [--image build/metal/aisos.iso] [--only aisos|linux] [--json FILE]

Both guests: q35, OVMF, the same -smp/-m/-cpu/accel, the same NIC model on
QEMU user networking with host port -> guest port 80, a static address
(10.0.2.15/24 via 10.0.2.2), no disk. aiSOS boots its ISO with a derived
aisos.cfg; Linux (Debian's kernel, bench/net/linux_guest.py) is handed to
OVMF with -kernel/-initrd instead of a boot disk, and serves with nginx.

Rows, for each guest:
  boot     seconds from QEMU start to the first 200 from GET /health
  wrk      requests/s and p99 latency of GET /health, keep-alive, with 1
           connection and with 50 (after a short warm-up run)
  upload   MB/s of one PUT of --upload-mb MB: aiSOS PUT /debug/sink,
           Linux nginx WebDAV PUT into tmpfs (curl -T, no Expect)
Needs: wrk, curl, busybox-static, nginx-light (or nginx), apt-get download
access for linux-image-amd64's kernel package.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "bench" / "net"))

import qemu  # noqa: E402
import linux_guest  # noqa: E402

CACHE = ROOT / "build" / "netlab-bench"
BOOT_TIMEOUT = 900.0
# debug_endpoints: PUT /debug/sink, the upload target.
STATIC_CONFIG = f"ip={linux_guest.GUEST_IP}/24\ngw={linux_guest.GATEWAY}\ndebug_endpoints=true\n"


@dataclasses.dataclass
class Result:
    value: Optional[float] = None
    note: str = ""

    def text(self, digits: int) -> str:
        return f"{self.value:.{digits}f}" if self.value is not None else "n/a"


class Guest:
    """A running guest reachable on 127.0.0.1:port."""

    name: str
    upload_path: str
    port: int
    started_at: float

    def stop(self) -> None:
        raise NotImplementedError

    def check_upload(self, status: int, body: bytes, size: int) -> Optional[str]:
        """None when the upload answer is right, else what is wrong."""
        return None if 200 <= status < 300 else f"HTTP {status}: {body[:200]!r}"


class AisosGuest(Guest):
    name = "aiSOS"
    upload_path = "/debug/sink"

    def __init__(self, image: Path, smp: int, mem: int, nic: str, accel: str):
        image = qemu.derive_image(image, CACHE / f"aisos-static{image.suffix}",
                                  put={"/aisos/aisos.cfg": STATIC_CONFIG.encode()})
        config = qemu.MachineConfig(image=image, smp=smp, mem=mem, nic=nic, accel=accel, disk=None, name="bench-net-aisos")
        self.machine = qemu.Machine(config)
        self.port = self.machine.port
        self.accel = self.machine.accel
        self.started_at = time.monotonic()
        self.machine.start()

    def stop(self) -> None:
        self.machine.kill()

    def check_upload(self, status: int, body: bytes, size: int) -> Optional[str]:
        problem = super().check_upload(status, body, size)
        if problem:
            return problem
        try:
            consumed = json.loads(body)["bytes"]
        except (ValueError, KeyError, TypeError):
            return f"unexpected answer {body[:200]!r}"
        return None if consumed == size else f"the server counted {consumed} bytes of {size}"


class LinuxGuest(Guest):
    name = "Linux"
    upload_path = "/upload/blob"

    def __init__(self, smp: int, mem: int, nic: str, accel: str):
        kernel, initramfs = linux_guest.build(CACHE, nic)
        self.accel, _ = qemu.resolve_accel(accel)
        self.port = qemu.free_tcp_port()
        self._scratch = Path(tempfile.mkdtemp(prefix="aisos-bench-linux-"))
        variables = self._scratch / "OVMF_VARS.fd"
        shutil.copyfile(qemu.find_firmware(qemu.OVMF_VARS_CANDIDATES, "variables"), variables)
        code = qemu.find_firmware(qemu.OVMF_CODE_CANDIDATES, "code")
        # The same machine as qemu.qemu_command() builds for aiSOS, with the
        # kernel and initramfs given to OVMF instead of a boot medium.
        command = [qemu.QEMU, "-machine", "q35", "-smp", str(smp), "-m", str(mem)]
        command += ["-accel", "kvm", "-cpu", "host"] if self.accel == "kvm" else ["-accel", "tcg", "-cpu", "max"]
        command += [
            "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
            "-drive", f"if=pflash,format=raw,unit=1,file={variables}",
            "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
            "-netdev", f"user,id=net0,hostfwd=tcp:127.0.0.1:{self.port}-:{qemu.GUEST_HTTP_PORT}",
            "-device", f"{qemu.NIC_DEVICES[nic]},netdev=net0,romfile=",
            "-kernel", str(kernel), "-initrd", str(initramfs),
            "-append", "console=ttyS0 quiet panic=-1",
        ]
        log = qemu.LOG_DIR / f"bench-net-linux-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        self.process = qemu._QemuProcess(command, log, None)
        self.started_at = time.monotonic()
        self.process.start()

    def stop(self) -> None:
        self.process.kill()
        shutil.rmtree(self._scratch, ignore_errors=True)


# -- measurements -------------------------------------------------------------

def http_status(port: int, path: str) -> Optional[int]:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.settimeout(10)
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
            head = b""
            while b"\r\n" not in head:
                data = sock.recv(4096)
                if not data:
                    return None
                head += data
    except OSError:
        return None
    match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return int(match.group(1)) if match else None


def measure_boot(guest: Guest) -> Result:
    """Seconds from QEMU start to the first 200 from GET /health. The probe
    repeats every 50 ms, which bounds the error of the figure."""
    deadline = guest.started_at + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        if http_status(guest.port, "/health") == 200:
            return Result(time.monotonic() - guest.started_at)
        time.sleep(0.05)
    return Result(None, f"no 200 from /health within {BOOT_TIMEOUT:.0f} s")


_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def run_wrk(port: int, connections: int, duration: int) -> tuple[Result, Result]:
    """(requests/s, p99 latency in ms) of wrk on GET /health."""
    threads = min(connections, 2)
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "30s",
            f"http://127.0.0.1:{port}/health"]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 120).stdout
    except FileNotFoundError:
        return Result(None, "wrk is missing (apt-get install wrk)"), Result(None, "wrk is missing")
    except subprocess.TimeoutExpired:
        return Result(None, "wrk did not finish"), Result(None, "wrk did not finish")
    rate = re.search(r"^Requests/sec:\s*([\d.]+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    notes = []
    errors = re.search(r"Socket errors: (.*)$", out, re.M)
    if errors:
        notes.append(f"socket errors: {errors.group(1)}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        notes.append(f"{non2xx.group(1)} non-2xx responses")
    note = "; ".join(notes)
    if not rate or not p99:
        return Result(None, f"wrk output not understood: {out.strip()[-300:]}"), Result(None, "")
    return (Result(float(rate.group(1)), note),
            Result(float(p99.group(1)) * _UNITS_MS[p99.group(2)], note))


def upload_file(size: int) -> Path:
    path = CACHE / f"upload-{size}.bin"
    if not path.exists() or path.stat().st_size != size:
        CACHE.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        with open(temporary, "wb") as f:
            for start in range(0, size, 8 << 20):
                f.write(os.urandom(min(8 << 20, size - start)))
        temporary.replace(path)
    return path


def measure_upload(guest: Guest, payload: Path) -> Result:
    size = payload.stat().st_size
    with tempfile.NamedTemporaryFile(prefix="aisos-bench-answer-") as answer:
        argv = ["curl", "-sS", "-o", answer.name, "-w", "%{http_code} %{time_total}", "--max-time", "3600",
                "-H", "Expect:", "-H", "Content-Type: application/octet-stream", "-T", str(payload),
                f"http://127.0.0.1:{guest.port}{guest.upload_path}"]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=3700)
        if result.returncode != 0:
            return Result(None, f"curl failed: {result.stderr.strip()}")
        status, seconds = result.stdout.split()
        problem = guest.check_upload(int(status), Path(answer.name).read_bytes(), size)
    if problem:
        return Result(None, problem)
    return Result(size / float(seconds) / 1e6)


ROWS = [
    # key, label, digits, higher is better
    ("boot", "boot to first HTTP answer (s)", 2, False),
    ("rps1", "wrk 1 connection: requests/s", 0, True),
    ("p99_1", "wrk 1 connection: p99 latency (ms)", 2, False),
    ("rps50", "wrk 50 connections: requests/s", 0, True),
    ("p99_50", "wrk 50 connections: p99 latency (ms)", 2, False),
    ("upload", "upload {mb} MB (MB/s)", 2, True),
]


def bench_guest(guest: Guest, args) -> dict[str, Result]:
    results: dict[str, Result] = {}
    try:
        results["boot"] = measure_boot(guest)
        print(f"{guest.name}: boot {results['boot'].text(2)} s {results['boot'].note}", flush=True)
        if results["boot"].value is None:
            return results
        run_wrk(guest.port, 1, 2)  # warm-up: TCG translates the hot paths once
        results["rps1"], results["p99_1"] = run_wrk(guest.port, 1, args.duration)
        results["rps50"], results["p99_50"] = run_wrk(guest.port, 50, args.duration)
        print(f"{guest.name}: wrk 1c {results['rps1'].text(0)} req/s p99 {results['p99_1'].text(2)} ms, "
              f"50c {results['rps50'].text(0)} req/s p99 {results['p99_50'].text(2)} ms", flush=True)
        results["upload"] = measure_upload(guest, upload_file(args.upload_mb * 1_000_000))
        print(f"{guest.name}: upload {results['upload'].text(2)} MB/s {results['upload'].note}", flush=True)
    finally:
        guest.stop()
    return results


def print_table(results: dict[str, dict[str, Result]], args, accel: str) -> None:
    print()
    print(f"QEMU q35 + OVMF, -smp {args.smp} -m {args.mem}, {args.nic} NIC on user networking (hostfwd), accel {accel}; "
          f"wrk {args.duration} s per run; Linux = Debian kernel + nginx via -kernel/-initrd")
    header = f"{'metric':<40} {'aiSOS':>12} {'Linux':>12} {'aiSOS advantage':>16}"
    print(header)
    print("-" * len(header))
    notes = []
    for key, label, digits, higher_better in ROWS:
        label = label.format(mb=args.upload_mb)
        a = results.get("aiSOS", {}).get(key, Result(None, "not run"))
        l = results.get("Linux", {}).get(key, Result(None, "not run"))
        ratio = "n/a"
        if a.value and l.value:
            factor = a.value / l.value if higher_better else l.value / a.value
            ratio = f"{factor:.2f}x"
        print(f"{label:<40} {a.text(digits):>12} {l.text(digits):>12} {ratio:>16}")
        for name, result in (("aiSOS", a), ("Linux", l)):
            if result.note and result.note != "not run":
                notes.append(f"  {label}, {name}: {result.note}")
    print("(aiSOS advantage > 1: aiSOS is ahead on that row)")
    if notes:
        print("notes:")
        print("\n".join(notes))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/net.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smp", type=int, default=2)
    parser.add_argument("--mem", type=int, default=2048)
    parser.add_argument("--nic", choices=sorted(qemu.NIC_DEVICES), default="virtio")
    parser.add_argument("--accel", choices=qemu.ACCELS, default="auto")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--upload-mb", type=int, default=200)
    parser.add_argument("--image", type=Path, default=ROOT / "build" / "metal" / "aisos.iso")
    parser.add_argument("--only", choices=("aisos", "linux"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    results: dict[str, dict[str, Result]] = {}
    accel = qemu.resolve_accel(args.accel)[0]
    guests = []
    if args.only in (None, "aisos"):
        guests.append(("aiSOS", lambda: AisosGuest(args.image, args.smp, args.mem, args.nic, args.accel)))
    if args.only in (None, "linux"):
        guests.append(("Linux", lambda: LinuxGuest(args.smp, args.mem, args.nic, args.accel)))
    for name, start in guests:  # one after the other: they share the host's cores
        try:
            results[name] = bench_guest(start(), args)
        except (qemu.MachineError, linux_guest.GuestBuildError) as error:
            print(f"bench/net.py: {name}: {error}", file=sys.stderr)
    print_table(results, args, accel)
    if args.json:
        args.json.write_text(json.dumps({guest: {key: dataclasses.asdict(result) for key, result in rows.items()}
                                         for guest, rows in results.items()}, indent=2) + "\n")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
