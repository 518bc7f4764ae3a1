"""/fs over HTTP on the NVMe disk (issue 6): streaming uploads land on disk
and survive a power-off, Range reads, listings, deletes, the reserved
/fs/system, and a full disk answering 507 with the old version intact."""

import hashlib
import http.client
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from qemu import Machine, MachineConfig, derive_image  # noqa: E402

BOOT_TIMEOUT = 600
PASSWORD = "correct-horse-battery-1"


def pattern(size, seed):
    block = hashlib.sha256(seed.encode()).digest() * 2048  # 64 KiB
    data = (block * (size // len(block) + 1))[:size]
    return data


class Client:
    def __init__(self, port):
        self.port = port
        self.token = None

    def call(self, method, path, body=None, headers=None, timeout=300):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        all_headers = dict(headers or {})
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, dict(response.getheaders()), data

    def login(self):
        status, _, body = self.call("POST", "/auth/login", json.dumps({"user": "admin", "password": PASSWORD}),
                                    {"Content-Type": "application/json"})
        assert status == 200, body
        self.token = json.loads(body)["token"]


def boot(image, disk):
    machine = Machine(MachineConfig(image=image, smp=2, mem=1024, disk=disk, name="fs")).start()
    machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT)
    client = Client(machine.port)
    client.login()
    return machine, client


def power_off(machine, client):
    assert client.call("POST", "/sys/poweroff")[0] == 202
    assert machine.wait_exit(timeout=120) == 0


def fsck(disk):
    tool = ROOT / "build" / "host" / "bin" / "aisos-fsck"
    if not tool.exists():
        pytest.skip("aisos-fsck not built")
    checked = subprocess.run([str(tool), str(disk)], capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.fixture
def image(metal_build, tmp_path):
    return derive_image(metal_build / "aisos.img", tmp_path / "aisos.img",
                        put={"/aisos/aisos.cfg": f"admin_password={PASSWORD}\n".encode()})


def new_disk(tmp_path, mib):
    disk = tmp_path / "nvme.img"
    with open(disk, "wb") as f:
        f.truncate(mib << 20)
    return disk


def test_upload_survives_a_power_off_and_reads_back(image, tmp_path):
    disk = new_disk(tmp_path, 512)
    size = int(os.environ.get("AISOS_FS_UPLOAD_MB", "128")) << 20
    data = pattern(size, "model")
    machine, client = boot(image, disk)
    try:
        assert client.call("PUT", "/fs/models/big.bin", data)[0] == 201
        assert client.call("PUT", "/fs/models/big.bin", data)[0] == 204  # replaced
        assert client.call("PUT", "/fs/notes/readme.txt", b"hello aiSOS\n")[0] == 201
        power_off(machine, client)
    finally:
        machine.kill()
    fsck(disk)

    machine, client = boot(image, disk)
    try:
        status, headers, body = client.call("GET", "/fs/models/big.bin")
        assert status == 200 and int(headers["Content-Length"]) == size
        assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data).hexdigest()
        status, headers, body = client.call("GET", "/fs/models/big.bin", headers={"Range": "bytes=1000-1999"})
        assert status == 206 and body == data[1000:2000]
        assert headers["Content-Range"] == f"bytes 1000-1999/{size}"
        status, headers, _ = client.call("GET", "/fs/models/big.bin", headers={"Range": f"bytes={size}-"})
        assert status == 416
        status, headers, body = client.call("HEAD", "/fs/notes/readme.txt")
        assert status == 200 and body == b"" and int(headers["Content-Length"]) == 12
        status, _, body = client.call("GET", "/fs/")
        listing = {entry["name"]: entry for entry in json.loads(body)}
        assert listing["models"]["type"] == "dir" and listing["notes"]["type"] == "dir"
        status, _, body = client.call("GET", "/fs/models")
        assert json.loads(body)[0]["name"] == "big.bin" and json.loads(body)[0]["size"] == size
        assert client.call("DELETE", "/fs/notes")[0] == 409  # not empty
        assert client.call("DELETE", "/fs/notes/readme.txt")[0] == 204
        assert client.call("DELETE", "/fs/notes")[0] == 204
        assert client.call("GET", "/fs/notes/readme.txt")[0] == 404
        assert client.call("GET", "/fs/system/users")[0] == 403
        assert client.call("PUT", "/fs/system/users", b"x")[0] == 403
        assert client.call("GET", "/fs/a%2F..%2Fb")[0] == 400
        anonymous = Client(machine.port)
        assert anonymous.call("GET", "/fs/models/big.bin")[0] == 401
        assert anonymous.call("PUT", "/fs/x", b"x")[0] == 401
    finally:
        machine.kill()


def test_full_disk_answers_507_and_keeps_the_old_version(image, tmp_path):
    disk = new_disk(tmp_path, 64)
    machine, client = boot(image, disk)
    try:
        old = pattern(8 << 20, "old")
        assert client.call("PUT", "/fs/data.bin", old)[0] == 201
        status, _, body = client.call("PUT", "/fs/data.bin", pattern(96 << 20, "new"))
        assert status == 507, body
        status, _, body = client.call("GET", "/fs/data.bin")
        assert status == 200 and body == old
        # The space of the failed upload came back: a file that fits still goes in.
        assert client.call("PUT", "/fs/other.bin", pattern(32 << 20, "other"))[0] == 201
        power_off(machine, client)
    finally:
        machine.kill()
    fsck(disk)
