#!/usr/bin/env python3
"""Storage benchmark: aiSOS /fs against ext4 in a Linux guest, in the same
QEMU configuration (issue 6). Not a test: it prints a table and the ratios.

    build/venv/bin/python bench/fs.py [--size-mb 1024] [--rand-seconds 20]
        [--smp 2] [--mem 2048] [--nic virtio] [--accel auto]
        [--image build/metal/aisos.iso] [--only aisos|linux] [--json FILE]
        [--nvme-completion poll|msix]

Both guests: q35, OVMF, the same -smp/-m/-cpu/accel, the same NIC on QEMU
user networking (host port -> guest port 80), and the same NVMe device as
tools/qemu.py gives aiSOS (`-device nvme,serial=aisos0001` on a raw sparse
file of --size-mb + 512 MiB, a fresh one per guest). aiSOS boots its ISO;
Linux (Debian's kernel, bench/fs/linux_fs_guest.py) formats the disk with
ext4 and serves it with nginx.

Over HTTP, the same client for both (one keep-alive connection):
  write   PUT /fs/bench/big.bin of --size-mb MiB, streamed (MB/s). aiSOS
          answers once the data is durable (flushed); nginx answers after
          write + rename, without fsync, so its figure is not durable.
  read    GET of the whole file (MB/s), sha256 checked against the upload.
  rand    GET with Range: 4 KiB at random 4 KiB-aligned offsets, one at a
          time, for --rand-seconds (requests/s). Linux drops its page cache
          first (sync + drop_caches via a CGI on guest port 81); aiSOS's
          block cache cannot be dropped, and its hit ratio is printed.
Linux also reports local figures from inside the guest (fsbench.c: 1 MiB
writes + fsync, cold 1 MiB reads, O_DIRECT 4 KiB random reads), so the
reader sees what the HTTP path costs.
Needs: gcc (static libc), busybox-static, nginx-light, e2fsprogs, apt-get
download access for linux-image-amd64's kernel package.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "bench" / "fs"))
sys.path.insert(0, str(ROOT / "bench" / "net"))

import qemu  # noqa: E402
import linux_fs_guest  # noqa: E402
import linux_guest  # noqa: E402

CACHE = ROOT / "build" / "storage-bench"
BOOT_TIMEOUT = 1800.0
PASSWORD = "bench-fs-password-1"
PIECE = 1 << 20
FILE_PATH = "/fs/bench/big.bin"


@dataclasses.dataclass
class Result:
    value: Optional[float] = None
    note: str = ""

    def text(self, digits: int) -> str:
        return f"{self.value:.{digits}f}" if self.value is not None else "n/a"


class Payload:
    """--size-mb MiB of pseudo-random bytes, one MiB at a time, never all in
    memory; sixteen random base pieces, each use stamped with its index."""

    def __init__(self, size: int):
        self.size = size
        rng = random.Random(1)
        self.bases = [rng.randbytes(PIECE) for _ in range(16)]
        self.digest = hashlib.sha256()

    def __iter__(self):
        sent = 0
        index = 0
        while sent < self.size:
            length = min(PIECE, self.size - sent)
            piece = (index.to_bytes(8, "little") + self.bases[index % 16][8:])[:length]
            self.digest.update(piece)
            sent += length
            index += 1
            yield piece


def disk_file(size_mb: int, name: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{name}-disk.img"
    path.unlink(missing_ok=True)
    with open(path, "wb") as f:
        f.truncate((size_mb + 512) << 20)
    return path


class Guest:
    name: str
    port: int
    headers: dict[str, str]

    def stop(self) -> None:
        raise NotImplementedError

    def before_random_reads(self) -> str:
        return ""

    def after_random_reads(self) -> str:
        return ""


class AisosGuest(Guest):
    name = "aiSOS"

    def __init__(self, args):
        image = qemu.derive_image(args.image, CACHE / f"aisos-bench{args.image.suffix}",
                                  put={"/aisos/aisos.cfg": (f"ip={linux_guest.GUEST_IP}/24\ngw={linux_guest.GATEWAY}\n"
                                                            f"admin_password={PASSWORD}\n"
                                                            f"nvme_completion={args.nvme_completion}\n").encode()})
        self.disk = disk_file(args.size_mb, "aisos")
        config = qemu.MachineConfig(image=image, smp=args.smp, mem=args.mem, nic=args.nic, accel=args.accel,
                                    disk=self.disk, name="bench-fs-aisos")
        self.machine = qemu.Machine(config)
        self.port = self.machine.port
        self.machine.start()
        self.machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT)
        self.machine.wait_http("/health", timeout=BOOT_TIMEOUT)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        connection.request("POST", "/auth/login", json.dumps({"user": "admin", "password": PASSWORD}),
                           {"Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise qemu.MachineError(f"login failed: {response.status} {body[:200]!r}")
        self.headers = {"Authorization": "Bearer " + json.loads(body)["token"]}
        self._cache_before: dict[str, int] = {}

    def _metrics(self) -> dict[str, int]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        connection.request("GET", "/metrics")
        values = {}
        for line in connection.getresponse().read().decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = int(value)
        return values

    def before_random_reads(self) -> str:
        self._cache_before = self._metrics()
        return f"block cache budget {self._cache_before.get('aisos_cache_budget_bytes', 0) >> 20} MiB"

    def after_random_reads(self) -> str:
        after = self._metrics()
        hits = after["aisos_cache_hits_total"] - self._cache_before["aisos_cache_hits_total"]
        misses = after["aisos_cache_misses_total"] - self._cache_before["aisos_cache_misses_total"]
        total = hits + misses
        return f"cache hits {hits} misses {misses}" + (f" ({100 * hits / total:.0f}% hits)" if total else "")

    def stop(self) -> None:
        self.machine.kill()
        self.disk.unlink(missing_ok=True)


class LinuxGuest(Guest):
    name = "Linux"
    headers: dict[str, str] = {}

    def __init__(self, args):
        kernel, initramfs = linux_fs_guest.build(CACHE, args.nic, args.size_mb, args.rand_seconds)
        self.accel, _ = qemu.resolve_accel(args.accel)
        self.port = qemu.free_tcp_port()
        self.drop_port = qemu.free_tcp_port()
        self.disk = disk_file(args.size_mb, "linux")
        self._scratch = Path(tempfile.mkdtemp(prefix="aisos-bench-fs-linux-"))
        variables = self._scratch / "OVMF_VARS.fd"
        shutil.copyfile(qemu.find_firmware(qemu.OVMF_VARS_CANDIDATES, "variables"), variables)
        code = qemu.find_firmware(qemu.OVMF_CODE_CANDIDATES, "code")
        # qemu.qemu_command()'s machine, NVMe device and NIC, with the kernel
        # and initramfs given to OVMF instead of a boot medium.
        command = [qemu.QEMU, "-machine", "q35", "-smp", str(args.smp), "-m", str(args.mem)]
        command += ["-accel", "kvm", "-cpu", "host"] if self.accel == "kvm" else ["-accel", "tcg", "-cpu", "max"]
        command += [
            "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
            "-drive", f"if=pflash,format=raw,unit=1,file={variables}",
            "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
            "-drive", f"file={self.disk},format=raw,if=none,id=nvm,discard=unmap",
            "-device", f"nvme,serial={qemu.NVME_SERIAL},drive=nvm",
            "-netdev", (f"user,id=net0,hostfwd=tcp:127.0.0.1:{self.port}-:{qemu.GUEST_HTTP_PORT},"
                        f"hostfwd=tcp:127.0.0.1:{self.drop_port}-:{linux_fs_guest.DROP_PORT}"),
            "-device", f"{qemu.NIC_DEVICES[args.nic]},netdev=net0,romfile=",
            "-kernel", str(kernel), "-initrd", str(initramfs),
            "-append", "console=ttyS0 quiet panic=-1",
        ]
        log = qemu.LOG_DIR / f"bench-fs-linux-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        self.process = qemu._QemuProcess(command, log, None)
        self.process.start()
        found = self.process.wait_for(rf"^(?:{linux_fs_guest.READY_LINE}|{linux_fs_guest.FAILED_LINE}.*)", timeout=BOOT_TIMEOUT)
        if found.group(0).startswith(linux_fs_guest.FAILED_LINE):
            self.stop()
            raise qemu.MachineError(f"the Linux guest could not set up its disk: {found.group(0)}")
        self.local = {}
        for what, size, seconds, ops in re.findall(r"^fsbench: (\w+) bytes (\d+) seconds ([\d.]+) ops (\d+)$",
                                                   self.process.output, re.M):
            self.local[what] = (int(size), float(seconds), int(ops))
        problems = re.findall(r"^(?:linux-guest: .*fail.*|fsbench.*: .*)$", self.process.output, re.M)
        self.problems = [line for line in problems if not line.startswith("fsbench: ")]

    def before_random_reads(self) -> str:
        connection = http.client.HTTPConnection("127.0.0.1", self.drop_port, timeout=300)
        connection.request("GET", "/cgi-bin/drop")
        response = connection.getresponse()
        body = response.read()
        if response.status != 200 or b"dropped" not in body:
            raise qemu.MachineError(f"dropping the page cache failed: {response.status} {body[:200]!r}")
        return "page cache dropped first"

    def stop(self) -> None:
        self.process.kill()
        shutil.rmtree(self._scratch, ignore_errors=True)
        self.disk.unlink(missing_ok=True)


# -- measurements over HTTP ---------------------------------------------------

def measure_write(guest: Guest, payload: Payload) -> Result:
    connection = http.client.HTTPConnection("127.0.0.1", guest.port, timeout=3600)
    headers = dict(guest.headers, **{"Content-Length": str(payload.size), "Content-Type": "application/octet-stream"})
    started = time.monotonic()
    connection.request("PUT", FILE_PATH, body=iter(payload), headers=headers)
    response = connection.getresponse()
    body = response.read()
    seconds = time.monotonic() - started
    connection.close()
    if response.status not in (200, 201, 204):
        return Result(None, f"PUT answered {response.status}: {body[:200]!r}")
    return Result(payload.size / seconds / 1e6)


def measure_read(guest: Guest, payload: Payload) -> Result:
    connection = http.client.HTTPConnection("127.0.0.1", guest.port, timeout=3600)
    started = time.monotonic()
    connection.request("GET", FILE_PATH, headers=guest.headers)
    response = connection.getresponse()
    digest = hashlib.sha256()
    count = 0
    while True:
        data = response.read(PIECE)
        if not data:
            break
        digest.update(data)
        count += len(data)
    seconds = time.monotonic() - started
    connection.close()
    if response.status != 200:
        return Result(None, f"GET answered {response.status}")
    if count != payload.size or digest.hexdigest() != payload.digest.hexdigest():
        return Result(None, f"GET returned {count} bytes that differ from the upload")
    return Result(count / seconds / 1e6)


def measure_random_reads(guest: Guest, size: int, seconds: float) -> Result:
    note = guest.before_random_reads()
    connection = http.client.HTTPConnection("127.0.0.1", guest.port, timeout=300)
    rng = random.Random(2)
    blocks = size // 4096
    operations = 0
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        offset = rng.randrange(blocks) * 4096
        connection.request("GET", FILE_PATH, headers=dict(guest.headers, Range=f"bytes={offset}-{offset + 4095}"))
        response = connection.getresponse()
        body = response.read()
        if response.status != 206 or len(body) != 4096:
            return Result(None, f"Range GET answered {response.status} with {len(body)} bytes")
        if offset % PIECE == 0 and body[:8] != (offset // PIECE).to_bytes(8, "little"):
            return Result(None, f"Range GET at {offset} returned the wrong bytes")
        operations += 1
    elapsed = time.monotonic() - started
    connection.close()
    after = guest.after_random_reads()
    return Result(operations / elapsed, "; ".join(part for part in (note, after) if part))


def bench_guest(start, args) -> dict[str, Result]:
    results: dict[str, Result] = {}
    started = time.monotonic()
    guest = start()
    try:
        print(f"{guest.name}: up after {time.monotonic() - started:.0f} s", flush=True)
        if isinstance(guest, LinuxGuest):
            for line in guest.problems:
                print(f"{guest.name}: {line}", flush=True)
            for what, key in (("write", "local_write"), ("read", "local_read")):
                if what in guest.local:
                    size, seconds, _ = guest.local[what]
                    results[key] = Result(size / seconds / 1e6)
            if "rand" in guest.local:
                _, seconds, ops = guest.local["rand"]
                results["local_rand"] = Result(ops / seconds, "O_DIRECT")
        payload = Payload(args.size_mb << 20)
        results["write"] = measure_write(guest, payload)
        print(f"{guest.name}: write {results['write'].text(1)} MB/s {results['write'].note}", flush=True)
        results["read"] = measure_read(guest, payload)
        print(f"{guest.name}: read {results['read'].text(1)} MB/s {results['read'].note}", flush=True)
        results["rand"] = measure_random_reads(guest, payload.size, args.rand_seconds)
        print(f"{guest.name}: random 4 KiB reads {results['rand'].text(0)}/s {results['rand'].note}", flush=True)
    finally:
        guest.stop()
    return results


ROWS = [
    # key, label, digits
    ("write", "HTTP PUT {mb} MiB sequential (MB/s)", 1),
    ("read", "HTTP GET {mb} MiB sequential (MB/s)", 1),
    ("rand", "HTTP Range GET 4 KiB random (IOPS)", 0),
    ("local_write", "local write {mb} MiB + fsync (MB/s)", 1),
    ("local_read", "local read {mb} MiB, cold (MB/s)", 1),
    ("local_rand", "local 4 KiB random O_DIRECT (IOPS)", 0),
]


def print_table(results: dict[str, dict[str, Result]], args, accel: str) -> None:
    print()
    print(f"QEMU q35 + OVMF, -smp {args.smp} -m {args.mem}, accel {accel}, {args.nic} NIC on user networking, "
          f"nvme on a raw sparse file ({args.size_mb + 512} MiB); Linux = Debian kernel, ext4, nginx")
    header = f"{'metric':<40} {'aiSOS':>10} {'Linux':>10} {'aiSOS/Linux':>12}"
    print(header)
    print("-" * len(header))
    notes = []
    for key, label, digits in ROWS:
        label = label.format(mb=args.size_mb)
        a = results.get("aiSOS", {}).get(key, Result(None, ""))
        l = results.get("Linux", {}).get(key, Result(None, ""))
        ratio = f"{a.value / l.value:.2f}x" if a.value and l.value else "n/a"
        a_text = a.text(digits) if not key.startswith("local") else "-"
        print(f"{label:<40} {a_text:>10} {l.text(digits):>10} {ratio:>12}")
        for name, result in (("aiSOS", a), ("Linux", l)):
            if result.note:
                notes.append(f"  {label}, {name}: {result.note}")
    print("(aiSOS/Linux > 1: aiSOS is ahead; local rows: inside the Linux guest, no HTTP; aiSOS has no local path)")
    print("(Linux's PUT is acknowledged without fsync; aiSOS's only once durable)")
    if notes:
        print("notes:")
        print("\n".join(notes))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/fs.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--rand-seconds", type=int, default=20)
    parser.add_argument("--smp", type=int, default=2)
    parser.add_argument("--mem", type=int, default=2048)
    parser.add_argument("--nic", choices=sorted(qemu.NIC_DEVICES), default="virtio")
    parser.add_argument("--accel", choices=qemu.ACCELS, default="auto")
    parser.add_argument("--image", type=Path, default=ROOT / "build" / "metal" / "aisos.iso")
    parser.add_argument("--only", choices=("aisos", "linux"))
    parser.add_argument("--nvme-completion", choices=("poll", "msix"), default="poll",
                        help="aiSOS's aisos.cfg nvme_completion (the Linux guest's driver uses interrupts)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.size_mb < 1 or args.rand_seconds < 1:
        parser.error("--size-mb and --rand-seconds must be at least 1")

    accel = qemu.resolve_accel(args.accel)[0]
    results: dict[str, dict[str, Result]] = {}
    guests = []
    if args.only in (None, "aisos"):
        guests.append(("aiSOS", lambda: AisosGuest(args)))
    if args.only in (None, "linux"):
        guests.append(("Linux", lambda: LinuxGuest(args)))
    for name, start in guests:  # one after the other: they share the host's cores
        try:
            results[name] = bench_guest(start, args)
        except (qemu.MachineError, linux_guest.GuestBuildError, OSError, http.client.HTTPException) as error:
            print(f"bench/fs.py: {name}: {error}", file=sys.stderr)
    print_table(results, args, accel)
    if args.json:
        args.json.write_text(json.dumps({"config": {"size_mb": args.size_mb, "smp": args.smp, "mem": args.mem,
                                                    "nic": args.nic, "accel": accel},
                                         **{guest: {key: dataclasses.asdict(result) for key, result in rows.items()}
                                            for guest, rows in results.items()}}, indent=2) + "\n")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
