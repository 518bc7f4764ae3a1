"""nvme_cache under /fs in the real kernel (issue 6): a file read twice is
served from the cache the second time (counters in /metrics), a 64 MiB
upload reads back with the same sha256 before and after a power-off, and
the disk passes fsck after it."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_fs import PASSWORD, ROOT, boot, fsck, new_disk, pattern, power_off  # noqa: E402,F401

sys.path.insert(0, str(ROOT / "tools"))
from qemu import derive_image  # noqa: E402


@pytest.fixture
def image(metal_build, tmp_path):
    return derive_image(metal_build / "aisos.img", tmp_path / "aisos.img",
                        put={"/aisos/aisos.cfg": f"admin_password={PASSWORD}\n".encode()})


def metrics(client):
    status, _, body = client.call("GET", "/metrics")
    assert status == 200
    values = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = int(value)
    return values


def get(client, path):
    status, headers, body = client.call("GET", path)
    assert status == 200, body[:200]
    assert int(headers["Content-Length"]) == len(body)
    return body


def test_second_read_of_a_file_hits_the_cache(image, tmp_path):
    data = pattern(2 << 20, "cached")
    blocks = len(data) // 4096
    machine, client = boot(image, new_disk(tmp_path, 256))
    try:
        before = metrics(client)
        assert before["aisos_cache_budget_bytes"] > 0
        assert client.call("PUT", "/fs/cache/file.bin", data)[0] == 201
        after_put = metrics(client)
        # The upload's 1 MiB data writes go around the cache.
        assert after_put["aisos_cache_bypass_write_blocks_total"] - before["aisos_cache_bypass_write_blocks_total"] >= blocks
        assert after_put["aisos_cache_dirty_bytes"] == 0  # the commit flushed everything

        assert get(client, "/fs/cache/file.bin") == data
        first = metrics(client)
        assert first["aisos_cache_misses_total"] > after_put["aisos_cache_misses_total"]
        assert first["aisos_cache_read_ahead_total"] > after_put["aisos_cache_read_ahead_total"]

        assert get(client, "/fs/cache/file.bin") == data
        second = metrics(client)
        assert second["aisos_cache_hits_total"] - first["aisos_cache_hits_total"] >= blocks
        assert second["aisos_cache_misses_total"] == first["aisos_cache_misses_total"]
        assert second["aisos_disk_read_bytes_total"] == first["aisos_disk_read_bytes_total"]
    finally:
        machine.kill()


def test_64_mib_upload_reads_back_before_and_after_a_power_off(image, tmp_path):
    size = 64 << 20
    data = pattern(size, "sixty-four")
    digest = hashlib.sha256(data).hexdigest()
    disk = new_disk(tmp_path, 512)
    machine, client = boot(image, disk)
    try:
        assert client.call("PUT", "/fs/models/m64.bin", data)[0] == 201
        assert hashlib.sha256(get(client, "/fs/models/m64.bin")).hexdigest() == digest
        status, _, body = client.call("GET", "/fs/models/m64.bin", headers={"Range": "bytes=33554431-33558527"})
        assert status == 206 and body == data[33554431:33558528]
        power_off(machine, client)
    finally:
        machine.kill()
    fsck(disk)

    machine, client = boot(image, disk)
    try:
        assert hashlib.sha256(get(client, "/fs/models/m64.bin")).hexdigest() == digest
        values = metrics(client)
        assert values["aisos_cache_resident_bytes"] <= values["aisos_cache_budget_bytes"]
    finally:
        machine.kill()
