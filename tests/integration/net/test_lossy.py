"""Bulk transfers through a lossy path between Linux's TCP and aiSOS's TCP:

    curl (Linux TCP, in a namespace) -- tap nl0 -- relay.py -- unix dgram -- QEMU virtio-net -- aiSOS
                                                   drops 3%, duplicates 1%,
                                                   reorders 2%, each way

A download from GET /debug/bytes and an upload to PUT /debug/sink, both
checked (SHA-256 of the download; byte count of the upload, and its SHA-256
once the sink reports one); the throughput is reported, not asserted
(issue 4).

Size: AISOS_NET_LOSSY_MB per transfer, default 20. The issue asks for
200 MB; at 3% loss this path moves about 0.4 MB/s each way here (TCG on two
shared cores; aiSOS recovers most losses by retransmission timeout, having
no SACK), so 200 MB each way would take about 17 minutes, beyond the ~10
minute budget of the whole network suite. Run the full size with
AISOS_NET_LOSSY_MB=200.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy
import pytest

from . import wire
from .conftest import FIGURES, guest_config, wait_configured

LINUX_SIDE = "10.0.4.1"
GUEST_SIDE = "10.0.4.2"
MAC = "52:54:00:4e:4c:10"
LOSS, DUPLICATE, REORDER = 0.03, 0.01, 0.02
SIZE = int(os.environ.get("AISOS_NET_LOSSY_MB", "20")) * 1_000_000
# Far beyond any plausible run, so a stalled transfer fails instead of hanging.
TRANSFER_TIMEOUT = 3600


@pytest.fixture
def short_dir():
    # Unix socket paths must fit in 108 bytes; pytest's tmp_path may not.
    path = Path(tempfile.mkdtemp(prefix="aisos-nl-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def write_payload(path: Path, size: int) -> str:
    """A pseudo-random file (incompressible, no repeating pattern a broken
    stack could get right by accident); returns its SHA-256."""
    rng = numpy.random.default_rng(20240404)
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for start in range(0, size, 8 << 20):
            block = rng.integers(0, 256, size=min(8 << 20, size - start), dtype=numpy.uint8).tobytes()
            digest.update(block)
            f.write(block)
    return digest.hexdigest()


def mb_per_s(size: int, seconds: float) -> str:
    return f"{size / seconds / 1e6:.2f} MB/s"


@pytest.mark.slow
def test_bulk_transfers_through_a_lossy_relay(boot_guest, netns, start_relay, short_dir, tmp_path):
    namespace = netns()
    # The relay's own unix socket takes bursts from QEMU (the default queue is 10 frames).
    namespace.run(["sysctl", "-qw", "net.unix.max_dgram_qlen=512"])
    qemu_socket, relay_socket = short_dir / "qemu.sock", short_dir / "relay.sock"
    relay = start_relay(namespace, f"unix:{relay_socket},{qemu_socket}", "tap:nl0",
                        loss=LOSS, duplicate=DUPLICATE, reorder=REORDER, seed=4)
    namespace.run(["ip", "addr", "add", f"{LINUX_SIDE}/24", "dev", "nl0"])
    namespace.run(["ip", "link", "set", "nl0", "up"])

    machine = boot_guest(config_text=guest_config(f"{GUEST_SIDE}/24", LINUX_SIDE), extra_args=[
        "-netdev", f"dgram,id=n0,local.type=unix,local.path={qemu_socket},"
                   f"remote.type=unix,remote.path={relay_socket}",
        "-device", f"virtio-net-pci,netdev=n0,mac={MAC},romfile=",
    ])
    wait_configured(machine, ip=GUEST_SIDE)
    with namespace.entered():
        wire.wait_http(GUEST_SIDE, 80)

    # Download: curl's output is hashed as it arrives.
    expected = wire.debug_bytes_sha256(SIZE)
    started = time.monotonic()
    curl = namespace.popen(["curl", "-sS", "--fail", "--max-time", str(TRANSFER_TIMEOUT), "-o", "-",
                            f"http://{GUEST_SIDE}/debug/bytes?n={SIZE}"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    digest, received = hashlib.sha256(), 0
    while True:
        block = curl.stdout.read(1 << 20)
        if not block:
            break
        digest.update(block)
        received += len(block)
    curl.wait(timeout=TRANSFER_TIMEOUT)
    download_seconds = time.monotonic() - started
    assert curl.returncode == 0, curl.stderr.read().decode(errors="replace")
    assert received == SIZE
    assert digest.hexdigest() == expected, "downloaded bytes differ from the /debug/bytes generator"

    # Upload: PUT /debug/sink reports what it consumed.
    payload = tmp_path / "payload.bin"
    payload_sha = write_payload(payload, SIZE)
    started = time.monotonic()
    result = namespace.run(["curl", "-sS", "--fail", "--max-time", str(TRANSFER_TIMEOUT), "-H", "Expect:",
                            "-H", "Content-Type: application/octet-stream", "-T", str(payload),
                            f"http://{GUEST_SIDE}/debug/sink"], check=False, timeout=TRANSFER_TIMEOUT + 60)
    upload_seconds = time.monotonic() - started
    payload.unlink()
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["bytes"] == SIZE
    if "sha256" in answer:
        assert answer["sha256"] == payload_sha, "the server consumed different bytes than were sent"

    metrics = ""
    try:
        with namespace.entered():
            metrics = wire.request(GUEST_SIDE, 80, "GET", "/metrics").body.decode(errors="replace")
    except (OSError, AssertionError):
        pass
    stats = relay.stop()
    for direction in ("a_to_b", "b_to_a"):
        assert stats[direction]["dropped"] > 0, f"{direction}: the relay must really have dropped frames"
        assert stats[direction]["reordered"] > 0 and stats[direction]["duplicated"] > 0

    retransmits = [line for line in metrics.splitlines() if "retrans" in line and not line.startswith("#")]
    # The Linux side's congestion control is the host's default (per namespace).
    congestion = namespace.run(["cat", "/proc/sys/net/ipv4/tcp_congestion_control"], check=False).stdout.strip()
    FIGURES.append(f"lossy relay ({LOSS:.0%} loss, {DUPLICATE:.0%} dup, {REORDER:.0%} reorder each way), "
                   f"virtio-net, Linux TCP {congestion or '?'}, "
                   f"{SIZE // 1_000_000} MB: download {mb_per_s(SIZE, download_seconds)} "
                   f"({download_seconds:.1f} s), upload {mb_per_s(SIZE, upload_seconds)} ({upload_seconds:.1f} s)")
    FIGURES.append(f"  relay aiSOS->Linux {stats['a_to_b']}")
    FIGURES.append(f"  relay Linux->aiSOS {stats['b_to_a']}")
    if retransmits:
        FIGURES.append("  aiSOS " + "; ".join(retransmits))
