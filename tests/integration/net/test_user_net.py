"""HTTP through each NIC model on QEMU user networking (slirp, DHCP, hostfwd):
GET /health and POST /debug/echo, with Python and with curl (issue 4)."""

from __future__ import annotations

import json
import random
import subprocess

import pytest

from . import wire
from .conftest import DRIVER_NAMES, QEMU_DEFAULT_MAC

NICS = ["virtio", "e1000", "e1000e"]


@pytest.mark.parametrize("nic", NICS)
def test_interface_is_configured_by_dhcp(user_guest, nic):
    guest = user_guest(nic)
    assert guest.driver == DRIVER_NAMES[nic]
    assert guest.mac == QEMU_DEFAULT_MAC
    assert guest.ip == "10.0.2.15", "slirp's DHCP server hands out 10.0.2.15"


@pytest.mark.parametrize("nic", NICS)
def test_health(user_guest, nic):
    guest = user_guest(nic)
    response = guest.request("GET", "/health")
    assert response.status == 200
    assert response.json() == {"status": "ok"}
    assert response.header("Content-Type").startswith("application/json")
    assert response.header("Server").startswith("aiSOS/")
    assert response.header("Date")


@pytest.mark.parametrize("nic", NICS)
def test_echo_bodies_of_many_sizes(user_guest, nic):
    guest = user_guest(nic)
    rng = random.Random(nic)
    with guest.connect() as sock:
        reader = wire.Reader(sock)
        # Sizes around segment, window and buffer boundaries, all on one connection.
        for size in (0, 1, 1459, 1460, 1461, 65535, 65536, 300007, 1 << 20):
            body = rng.randbytes(size)
            sock.sendall(wire.request_bytes("POST", "/debug/echo", body,
                                            {"Content-Type": "application/octet-stream"}))
            response = reader.read_response()
            assert response.status == 200, f"size {size}: {response.status} {response.body[:200]!r}"
            assert response.header("Content-Type") == "application/octet-stream"
            assert len(response.body) == size
            assert response.body == body, f"echo of {size} bytes differs"


@pytest.mark.parametrize("nic", NICS)
def test_echo_of_a_chunked_request(user_guest, nic):
    guest = user_guest(nic)
    chunks = [b"a" * 10, bytes(range(256)) * 40, b"\r\n0\r\n", b"z"]
    body = b"".join(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for chunk in chunks) + b"0\r\n\r\n"
    response = guest.request("POST", "/debug/echo", body,
                             {"Transfer-Encoding": "chunked", "Content-Type": "application/octet-stream"})
    assert response.status == 200
    assert response.body == b"".join(chunks)


@pytest.mark.parametrize("nic", NICS)
def test_curl_get_and_post(user_guest, nic, tmp_path):
    guest = user_guest(nic)
    base = f"http://127.0.0.1:{guest.port}"
    result = subprocess.run(["curl", "-sS", "--fail", "--max-time", "120", f"{base}/health"],
                            capture_output=True, timeout=180)
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads(result.stdout) == {"status": "ok"}

    payload = tmp_path / "payload.bin"
    payload.write_bytes(random.Random(1).randbytes(3 << 20))
    result = subprocess.run(["curl", "-sS", "--fail", "--max-time", "300", "-H", "Content-Type: application/octet-stream",
                             "--data-binary", f"@{payload}", f"{base}/debug/echo"],
                            capture_output=True, timeout=400)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == payload.read_bytes()
