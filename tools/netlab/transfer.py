#!/usr/bin/env python3
"""Measure bulk TCP throughput between Linux and aiSOS through the relay,
with or without impairment: the topology of tests/integration/net/test_lossy.py
as a command, for working on the TCP stack.

    curl (Linux TCP, namespace) -- tap -- relay.py -- unix dgram -- QEMU NIC -- aiSOS

    python3 tools/netlab/transfer.py [--image build/metal/aisos.iso] [--mb 20]
        [--loss 0.03] [--duplicate 0.01] [--reorder 0.02] [--nic virtio]
        [--congestion cubic] [--smp 2] [--mem 2048]

Prints the download (GET /debug/bytes) and upload (PUT /debug/sink) rates,
aiSOS's TCP counters from /metrics and the relay's counters. Needs root
(network namespaces).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOOLS))

import qemu  # noqa: E402
from netlab.netns import Namespace, NamespaceError, usable  # noqa: E402

LINUX_SIDE, GUEST_SIDE = "10.0.4.1", "10.0.4.2"


def wait_http(namespace: Namespace, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = namespace.run(["curl", "-sS", "--max-time", "10", f"http://{GUEST_SIDE}/health"], check=False, timeout=30)
        if result.returncode == 0:
            return
        time.sleep(0.5)
    raise TimeoutError(f"no answer from http://{GUEST_SIDE}/health within {timeout:.0f} s")


def curl_rate(namespace: Namespace, argv: list[str], size: int) -> str:
    started = time.monotonic()
    result = namespace.run(["curl", "-sS", "--fail", "--max-time", "3600", *argv], check=False, timeout=3700)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        return f"failed: {result.stderr.strip()}"
    return f"{size / seconds / 1e6:.2f} MB/s ({seconds:.1f} s) {result.stdout.strip()[:80]}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tools/netlab/transfer.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", type=Path, default=TOOLS.parent / "build" / "metal" / "aisos.iso")
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--loss", type=float, default=0.0)
    parser.add_argument("--duplicate", type=float, default=0.0)
    parser.add_argument("--reorder", type=float, default=0.0)
    parser.add_argument("--nic", choices=sorted(qemu.NIC_DEVICES), default="virtio")
    parser.add_argument("--congestion", help="Linux congestion control in the namespace (default: the host's; "
                        "a host may refuse some inside a namespace: here reno works, cubic does not)")
    parser.add_argument("--smp", type=int, default=2)
    parser.add_argument("--mem", type=int, default=2048)
    parser.add_argument("--accel", choices=qemu.ACCELS, default="auto")
    args = parser.parse_args(argv)
    reason = usable()
    if reason:
        print(f"transfer.py: {reason}", file=sys.stderr)
        return 2
    size = args.mb * 1_000_000
    scratch = Path(tempfile.mkdtemp(prefix="aisos-nl-"))
    machine = None
    try:
        image = qemu.derive_image(args.image, scratch / f"aisos{args.image.suffix}", put={
            "/aisos/aisos.cfg": f"ip={GUEST_SIDE}/24\ngw={LINUX_SIDE}\ndebug_endpoints=true\n".encode()})
        payload = scratch / "payload.bin"
        with open(payload, "wb") as f:
            for start in range(0, size, 8 << 20):
                f.write(os.urandom(min(8 << 20, size - start)))
        qemu_socket, relay_socket = scratch / "qemu.sock", scratch / "relay.sock"
        with Namespace() as namespace:
            namespace.run(["sh", "-c", "echo 512 > /proc/sys/net/unix/max_dgram_qlen"])
            if args.congestion:
                namespace.run(["sh", "-c", f"echo {args.congestion} > /proc/sys/net/ipv4/tcp_congestion_control"])
            relay = namespace.popen([sys.executable, str(TOOLS / "netlab" / "relay.py"),
                                     "--a", f"unix:{relay_socket},{qemu_socket}", "--b", "tap:nl0",
                                     "--loss", str(args.loss), "--duplicate", str(args.duplicate),
                                     "--reorder", str(args.reorder)],
                                    stdout=subprocess.PIPE, text=True)
            if relay.stdout.readline().strip() != "relay: ready":
                raise NamespaceError("the relay did not start")
            namespace.run(["ip", "addr", "add", f"{LINUX_SIDE}/24", "dev", "nl0"])
            namespace.run(["ip", "link", "set", "nl0", "up"])
            config = qemu.MachineConfig(image=image, smp=args.smp, mem=args.mem, nic="none", accel=args.accel,
                                        name="netlab-transfer", extra_args=[
                "-netdev", f"dgram,id=n0,local.type=unix,local.path={qemu_socket},"
                           f"remote.type=unix,remote.path={relay_socket}",
                "-device", f"{qemu.NIC_DEVICES[args.nic]},netdev=n0,romfile="])
            machine = qemu.Machine(config).start()
            machine.wait_for(r"^aisos: ready$", timeout=900)
            wait_http(namespace, 300)
            congestion = namespace.run(["cat", "/proc/sys/net/ipv4/tcp_congestion_control"]).stdout.strip()
            print(f"{args.mb} MB, loss {args.loss}, duplicate {args.duplicate}, reorder {args.reorder}, "
                  f"{args.nic}, Linux {congestion}", flush=True)
            print("download:", curl_rate(namespace, ["-o", "/dev/null", f"http://{GUEST_SIDE}/debug/bytes?n={size}"], size),
                  flush=True)
            print("upload:  ", curl_rate(namespace, ["-H", "Expect:", "-T", str(payload), f"http://{GUEST_SIDE}/debug/sink"],
                                          size), flush=True)
            metrics = namespace.run(["curl", "-sS", "--max-time", "60", f"http://{GUEST_SIDE}/metrics"], check=False).stdout
            print("aiSOS:   ", " ".join(line for line in metrics.splitlines() if re.match(r"aisos_tcp_", line)))
            namespace.stop(relay)
            print("relay:   ", relay.stdout.read().strip())
    finally:
        if machine is not None:
            machine.kill()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
