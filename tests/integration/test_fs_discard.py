"""Freed blocks go back to the disk, and the MSI-X completion option (issue 6).

QEMU's NVMe drive runs with discard=unmap, so a Dataset Management
deallocate or a Write Zeroes with DEAC punches a hole in the raw image: the
image's allocated size on the host shows whether aiSOS handed the blocks of
a deleted file back. Three boots cover the three discard settings of
aisos.cfg (auto picks Dataset Management on QEMU's controller; write_zeroes;
off) and the second also runs with nvme_completion=msix: its reads and
writes complete through MSI-X interrupts, and the data comes back intact."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_fs import BOOT_TIMEOUT, PASSWORD, Client, fsck, new_disk, pattern, power_off  # noqa: E402
from qemu import Machine, MachineConfig, derive_image  # noqa: E402

FILE_BYTES = 24 << 20


def allocated(path: Path) -> int:
    return os.stat(path).st_blocks * 512


def metric(client: Client, name: str) -> int:
    status, _, body = client.call("GET", "/metrics")
    assert status == 200
    match = re.search(rf"^{name} (\d+)$".encode(), body, re.M)
    assert match, f"{name} missing from /metrics"
    return int(match.group(1))


@pytest.mark.parametrize("settings, discard, completion", [
    ("", "deallocate", "poll"),
    ("nvme_discard=write_zeroes\nnvme_completion=msix\n", "write zeroes", "msix"),
    ("nvme_discard=off\n", "none", "poll"),
], ids=["auto", "write-zeroes-msix", "off"])
def test_deleted_files_are_discarded(metal_build, tmp_path, settings, discard, completion):
    image = derive_image(metal_build / "aisos.img", tmp_path / "aisos.img",
                         put={"/aisos/aisos.cfg": f"admin_password={PASSWORD}\n{settings}".encode()})
    disk = new_disk(tmp_path, 256)
    data = pattern(FILE_BYTES, f"discard-{discard}")
    with Machine(MachineConfig(image=image, smp=2, mem=1024, disk=disk, name=f"fs-discard-{completion}")) as machine:
        machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT)
        client = Client(machine.port)
        client.login()
        status, _, body = client.call("GET", "/sys/info")
        assert status == 200
        (nvme,) = json.loads(body)["nvme"]
        assert nvme["discard"] == discard and nvme["completion"] == completion, nvme

        interrupts_before = metric(client, "aisos_nvme_interrupts_total")
        empty = allocated(disk)
        assert client.call("PUT", "/fs/scratch/big.bin", data)[0] == 201
        status, _, body = client.call("GET", "/fs/scratch/big.bin")
        assert status == 200 and hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
        with_file = allocated(disk)
        assert with_file - empty >= FILE_BYTES, (empty, with_file)
        if completion == "msix":
            # Every command of the upload and the read completed by interrupt.
            assert metric(client, "aisos_nvme_interrupts_total") - interrupts_before >= FILE_BYTES // (256 << 10)
        else:
            assert metric(client, "aisos_nvme_interrupts_total") == 0

        commands_before = metric(client, "aisos_nvme_discard_commands_total")
        discarded_before = metric(client, "aisos_cache_discarded_bytes_total")
        assert client.call("DELETE", "/fs/scratch/big.bin")[0] == 204
        # The previous generation (mount's fallback) still refers to the
        # file's blocks until the next change is durable; that change may
        # also take some of them for its own data.
        again = pattern(3 << 20, f"after-{discard}")
        assert client.call("PUT", "/fs/scratch/again.bin", again)[0] == 201
        after = allocated(disk)
        commands = metric(client, "aisos_nvme_discard_commands_total") - commands_before
        discarded = metric(client, "aisos_cache_discarded_bytes_total") - discarded_before
        if discard == "none":
            assert commands == 0
            assert after >= with_file, (with_file, after)
        else:
            assert commands >= 1
            assert discarded >= FILE_BYTES - (4 << 20), discarded
            # The file's blocks were handed back: the image shrank by (nearly) the file.
            assert with_file - after >= FILE_BYTES - (4 << 20), (with_file, after)

        # The new file, partly on blocks freed and discarded, reads back intact.
        status, _, body = client.call("GET", "/fs/scratch/again.bin")
        assert status == 200 and body == again
        power_off(machine, client)
    fsck(disk)
