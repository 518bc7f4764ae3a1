"""aiSOS against a real Linux peer: QEMU's NIC on a TAP device that lives in
a private network namespace holding 10.0.3.1/24; aiSOS boots with the static
address 10.0.3.2/24 from aisos.cfg. ping and curl run inside the namespace,
so only the namespace's own network is ever touched (issue 4)."""

from __future__ import annotations

import json
import os
import random
import re

import pytest

from netlab.netns import tap_script

from . import wire
from .conftest import DRIVER_NAMES, QEMU_DEVICES, guest_config, wait_configured

LINUX_SIDE = "10.0.3.1"
GUEST_SIDE = "10.0.3.2"
CONFIG = guest_config(f"{GUEST_SIDE}/24", LINUX_SIDE)


def boot_on_tap(boot_guest, namespace, tmp_path, nic: str, mac: str):
    # QEMU creates the tap in the root namespace (the name must be unique
    # there) and runs the script before the guest starts; the script moves
    # the tap into the test's namespace.
    tap = f"nlt{os.getpid() % 100000}{nic[0]}"
    script = tap_script(tmp_path / f"tap-up-{nic}.sh", namespace, f"{LINUX_SIDE}/24")
    machine = boot_guest(config_text=CONFIG, extra_args=[
        "-netdev", f"tap,id=n0,ifname={tap},script={script},downscript=no",
        "-device", f"{QEMU_DEVICES[nic]},netdev=n0,mac={mac},romfile=",
    ])
    return machine, tap


@pytest.mark.parametrize("nic,mac", [("virtio", "52:54:00:4e:4c:01"), ("e1000", "52:54:00:4e:4c:02")])
def test_ping_and_tcp_from_a_linux_namespace(boot_guest, netns, tmp_path, nic, mac):
    namespace = netns()
    machine, tap = boot_on_tap(boot_guest, namespace, tmp_path, nic, mac)
    driver, reported_mac, ip = wait_configured(machine, ip=GUEST_SIDE)
    assert driver == DRIVER_NAMES[nic]
    assert reported_mac == mac

    # ICMP echo: every one of five answered (the first waits for ARP).
    result = namespace.run(["ping", "-c", "5", "-W", "30", GUEST_SIDE], check=False, timeout=300)
    assert re.search(r"\b5 packets transmitted, 5 received\b", result.stdout), result.stdout + result.stderr

    # ARP: Linux learned aiSOS's MAC for its address.
    neighbours = namespace.run(["ip", "neigh", "show", GUEST_SIDE, "dev", tap]).stdout
    assert f"lladdr {mac}" in neighbours, neighbours

    # TCP from Linux's own stack: curl, then a larger echo.
    result = namespace.run(["curl", "-sS", "--fail", "--max-time", "120", f"http://{GUEST_SIDE}/health"],
                           check=False, timeout=180)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"status": "ok"}

    payload = tmp_path / "payload.bin"
    payload.write_bytes(random.Random(nic).randbytes(4 << 20))
    result = namespace.run(["curl", "-sS", "--fail", "--max-time", "300", "-H", "Expect:",
                            "-H", "Content-Type: application/octet-stream", "--data-binary", f"@{payload}",
                            f"http://{GUEST_SIDE}/debug/echo"],
                           check=False, timeout=400, text=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stdout == payload.read_bytes()


def test_concurrent_connections_over_a_real_linux_tcp(boot_guest, netns, tmp_path):
    """200 connections from Linux's TCP at once (no slirp in between, which
    would hide SYN handling): every one gets its own correct answer."""
    namespace = netns()
    machine, _ = boot_on_tap(boot_guest, namespace, tmp_path, "virtio", "52:54:00:4e:4c:03")
    wait_configured(machine, ip=GUEST_SIDE)
    with namespace.entered():
        wire.wait_http(GUEST_SIDE, 80)
        sockets = [wire.connect(GUEST_SIDE, 80) for _ in range(200)]
    try:
        from .test_connections import exchange_one_request_each
        exchange_one_request_each(sockets)
    finally:
        for sock in sockets:
            sock.close()
