"""Large files and a filling disk on /fs (issue 6), beyond test_fs.py:

  * a 1 GB upload, streamed from a generator (never held in memory) with its
    sha256 computed on the fly, survives POST /sys/reboot (the same QEMU
    process, a warm reset) and reads back streaming with the same sha256;
  * a chunked upload (no Content-Length, so the server cannot refuse it up
    front) that outgrows a 96 MiB disk gets 507 mid-stream; the old version
    stays readable, aisos_fs_free_bytes returns exactly to its value before
    the upload, and so it does after a client that disconnects mid-upload;
    after a power-off the disk passes aisos-fsck and still holds the old
    version.

test_fs.py already checks a Content-Length upload larger than the disk (507,
old version intact, the space usable again); this file does not repeat it.

AISOS_FS_UPLOAD_MB sets the size of the large upload (default 1024)."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_fs import BOOT_TIMEOUT, PASSWORD, ROOT, Client, fsck, new_disk, pattern, power_off  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
from qemu import Machine, MachineConfig, derive_image  # noqa: E402

UPLOAD_MB = int(os.environ.get("AISOS_FS_UPLOAD_MB", "1024"))
PIECE = 1 << 20


@pytest.fixture
def image(metal_build, tmp_path):
    return derive_image(metal_build / "aisos.img", tmp_path / "aisos.img",
                        put={"/aisos/aisos.cfg": f"admin_password={PASSWORD}\n".encode()})


def boot(image, disk, allow_reboot=False):
    machine = Machine(MachineConfig(image=image, smp=2, mem=1024, disk=disk, allow_reboot=allow_reboot,
                                    name="fs-large")).start()
    machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT)
    client = Client(machine.port)
    client.login()
    return machine, client


class Stream:
    """Deterministic pseudo-random bytes, one MiB piece at a time, hashed as
    they are produced. Every piece differs (its index is mixed in), so a
    piece written to the wrong place or twice changes the digest."""

    def __init__(self, size: int, seed: str):
        self.size = size
        self.base = hashlib.sha256(seed.encode()).digest() * (PIECE // 32)
        self.digest = hashlib.sha256()
        self.sent = 0

    def piece(self, index: int, length: int) -> bytes:
        stamp = hashlib.sha256(f"{index}".encode()).digest()
        return (stamp + self.base[len(stamp):])[:length]

    def __iter__(self):
        index = 0
        while self.sent < self.size:
            data = self.piece(index, min(PIECE, self.size - self.sent))
            self.digest.update(data)
            self.sent += len(data)
            index += 1
            yield data


def metrics(client) -> dict[str, int]:
    status, _, body = client.call("GET", "/metrics")
    assert status == 200
    values = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = int(value)
    return values


def put_stream(client, path, stream, chunked=False, timeout=3600):
    """PUT with the body taken from an iterable, never materialised; returns
    (status, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=timeout)
    headers = {"Authorization": f"Bearer {client.token}", "Content-Type": "application/octet-stream"}
    if not chunked:
        headers["Content-Length"] = str(stream.size)
    connection.request("PUT", path, body=iter(stream), headers=headers, encode_chunked=chunked)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def get_digest(client, path, timeout=3600) -> tuple[int, int, str]:
    """(status, byte count, sha256) of a GET read in 1 MiB pieces."""
    connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=timeout)
    connection.request("GET", path, headers={"Authorization": f"Bearer {client.token}"})
    response = connection.getresponse()
    digest = hashlib.sha256()
    count = 0
    while True:
        data = response.read(PIECE)
        if not data:
            break
        digest.update(data)
        count += len(data)
    connection.close()
    assert response.status != 200 or int(response.getheader("Content-Length")) == count
    return response.status, count, digest.hexdigest()


def reboot(machine, client):
    """POST /sys/reboot and wait for the same QEMU process to serve again."""
    mark = len(machine.output)
    assert client.call("POST", "/sys/reboot")[0] == 202
    machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT, start=mark)
    fresh = Client(machine.port)
    fresh.login()
    return fresh


def test_large_upload_survives_a_reboot(image, tmp_path):
    size = UPLOAD_MB << 20
    disk = new_disk(tmp_path, UPLOAD_MB + 512)  # sparse on the host
    stream = Stream(size, "large")
    machine, client = boot(image, disk, allow_reboot=True)
    try:
        started = time.monotonic()
        status, body = put_stream(client, "/fs/models/large.bin", stream)
        upload_seconds = time.monotonic() - started
        assert status == 201, body
        assert stream.sent == size
        expected = stream.digest.hexdigest()

        client = reboot(machine, client)
        assert machine.output.count("aisos: ready") >= 2  # it really went through a second boot

        status, _, body = client.call("GET", "/fs/models")
        assert status == 200
        assert [(entry["name"], entry["size"]) for entry in json.loads(body)] == [("large.bin", size)]
        started = time.monotonic()
        status, count, digest = get_digest(client, "/fs/models/large.bin")
        download_seconds = time.monotonic() - started
        assert (status, count) == (200, size)
        assert digest == expected
        # A piece far into the file, against the generator's own bytes.
        index = (size // PIECE) - 3
        status, _, body = client.call("GET", "/fs/models/large.bin",
                                      headers={"Range": f"bytes={index * PIECE}-{index * PIECE + 4095}"})
        assert status == 206 and body == stream.piece(index, PIECE)[:4096]
        print(f"{UPLOAD_MB} MiB: upload {size / upload_seconds / 1e6:.1f} MB/s, "
              f"download {size / download_seconds / 1e6:.1f} MB/s ({machine.accel})")
        power_off(machine, client)
    finally:
        machine.kill()
    fsck(disk)


def abort_upload(client, path, total, send):
    """Starts a Content-Length PUT of `total` bytes, sends `send` of them and
    drops the connection."""
    with socket.create_connection(("127.0.0.1", client.port), timeout=120) as connection:
        connection.sendall((f"PUT {path} HTTP/1.1\r\nHost: aisos\r\nAuthorization: Bearer {client.token}\r\n"
                            f"Content-Length: {total}\r\n\r\n").encode())
        piece = pattern(PIECE, "aborted")
        for _ in range(send // PIECE):
            connection.sendall(piece)


def test_chunked_upload_filling_the_disk_gets_507_and_gives_the_space_back(image, tmp_path):
    disk = new_disk(tmp_path, 96)
    old = pattern(4 << 20, "old")
    machine, client = boot(image, disk)
    try:
        assert client.call("PUT", "/fs/data.bin", old)[0] == 201
        free_before = metrics(client)["aisos_fs_free_bytes"]
        assert 0 < free_before < 96 << 20

        too_big = Stream(free_before + (16 << 20), "too-big")
        status, body = put_stream(client, "/fs/data.bin", too_big, chunked=True)
        assert status == 507, body
        assert json.loads(body)["error"]["code"] == 507
        assert metrics(client)["aisos_fs_free_bytes"] == free_before
        status, _, body = client.call("GET", "/fs/data.bin")
        assert status == 200 and body == old
        status, _, body = client.call("GET", "/fs/")
        files = [(entry["name"], entry["size"]) for entry in json.loads(body) if entry["type"] == "file"]
        assert files == [("data.bin", len(old))]  # (the listing also shows the system directory)

        # A new file that fills the disk: 507 and no trace of it.
        status, body = put_stream(client, "/fs/new/huge.bin", Stream(free_before + PIECE, "huge"), chunked=True)
        assert status == 507, body
        assert client.call("GET", "/fs/new/huge.bin")[0] == 404
        assert metrics(client)["aisos_fs_free_bytes"] == free_before

        # A client that goes away half way: the partial data is dropped too.
        abort_upload(client, "/fs/data.bin", 48 << 20, 24 << 20)
        # The server drops the writer when it sees the connection close,
        # which may be just after our next request arrives: poll, bounded.
        deadline = time.monotonic() + 60
        while metrics(client)["aisos_fs_free_bytes"] != free_before:
            assert time.monotonic() < deadline, "the aborted upload's space did not come back"
            time.sleep(0.2)
        status, _, body = client.call("GET", "/fs/data.bin")
        assert status == 200 and body == old

        # What fits exactly in the space that came back still goes in.
        fits = Stream(free_before - (1 << 20), "fits")
        status, body = put_stream(client, "/fs/fits.bin", fits, chunked=True)
        assert status == 201, body
        power_off(machine, client)
    finally:
        machine.kill()
    fsck(disk)

    machine, client = boot(image, disk)
    try:
        status, _, body = client.call("GET", "/fs/data.bin")
        assert status == 200 and body == old
        status, count, digest = get_digest(client, "/fs/fits.bin")
        assert (status, count, digest) == (200, fits.size, fits.digest.hexdigest())
    finally:
        machine.kill()
