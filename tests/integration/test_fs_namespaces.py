"""Several NVMe namespaces and controllers (issue 6): one controller with two
namespaces plus a second controller with one. Every namespace gets its
"aisos: nvme ..." console line and an entry in /sys/info "nvme"; /fs lives
on the first namespace of the first controller, what is written there
survives POST /sys/reboot (and passes aisos-fsck), and the other two
namespaces are left byte for byte as they were."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_fs import BOOT_TIMEOUT, PASSWORD, ROOT, Client, fsck, pattern, power_off  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
from qemu import Machine, MachineConfig, derive_image  # noqa: E402

# name -> (size in MiB, controller serial, namespace id on it)
NAMESPACES = {
    "fs": (128, "aisosctl1", 1),
    "second": (64, "aisosctl1", 2),
    "other": (48, "aisosctl2", 1),
}


@pytest.fixture
def image(metal_build, tmp_path):
    return derive_image(metal_build / "aisos.img", tmp_path / "aisos.img",
                        put={"/aisos/aisos.cfg": f"admin_password={PASSWORD}\n".encode()})


def make_disks(tmp_path) -> dict[str, Path]:
    """The /fs namespace starts empty (formatted at first boot); the others
    carry a recognisable pattern, so that any write to them shows."""
    disks = {}
    for name, (mib, _, _) in NAMESPACES.items():
        path = tmp_path / f"{name}.img"
        with open(path, "wb") as f:
            if name == "fs":
                f.truncate(mib << 20)
            else:
                for index in range(mib):
                    f.write(pattern(1 << 20, f"{name}-{index}"))
        disks[name] = path
    return disks


def nvme_args(disks: dict[str, Path]) -> list[str]:
    """Controller aisosctl1 with namespaces 1 and 2, then controller
    aisosctl2 with namespace 1 (in this order on the PCI bus)."""
    args = []
    for name, path in disks.items():
        args += ["-drive", f"file={path},format=raw,if=none,id=drive-{name}"]
    args += ["-device", "nvme,id=ctl1,serial=aisosctl1",
             "-device", "nvme-ns,drive=drive-fs,bus=ctl1,nsid=1",
             "-device", "nvme-ns,drive=drive-second,bus=ctl1,nsid=2",
             "-device", "nvme,id=ctl2,serial=aisosctl2,drive=drive-other"]
    return args


def digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def test_two_controllers_three_namespaces(image, tmp_path):
    disks = make_disks(tmp_path)
    untouched = {name: digest(path) for name, path in disks.items() if name != "fs"}
    data = pattern(3 << 20, "on-the-first-namespace")
    config = MachineConfig(image=image, smp=2, mem=1024, disk=None, extra_args=nvme_args(disks),
                           allow_reboot=True, name="fs-namespaces")
    with Machine(config) as machine:
        machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT)
        console = re.findall(r"^aisos: nvme (.+) (\d+) MiB$", machine.output, re.M)
        assert sorted(int(mib) for _, mib in console) == sorted(mib for mib, _, _ in NAMESPACES.values()), console
        assert all(model.startswith("QEMU NVMe") for model, _ in console), console

        client = Client(machine.port)
        client.login()
        status, _, body = client.call("GET", "/sys/info")
        assert status == 200
        listed = {(entry["serial"], entry["namespace"], entry["size_mib"]) for entry in json.loads(body)["nvme"]}
        assert listed == {(serial, nsid, mib) for mib, serial, nsid in NAMESPACES.values()}, listed

        # /fs is the first namespace of the first controller: its size shows in
        # /metrics (the data area is a bit smaller than the namespace).
        status, _, body = client.call("GET", "/metrics")
        total = int(re.search(rb"^aisos_fs_total_bytes (\d+)$", body, re.M).group(1))
        assert 64 << 20 < total <= 128 << 20, total

        assert client.call("PUT", "/fs/ns/file.bin", data)[0] == 201

        mark = len(machine.output)
        assert client.call("POST", "/sys/reboot")[0] == 202
        machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT, start=mark)
        again = re.findall(r"^aisos: nvme (.+) (\d+) MiB$", machine.output[mark:], re.M)
        assert len(again) == len(NAMESPACES), again
        client = Client(machine.port)
        client.login()
        status, _, body = client.call("GET", "/fs/ns/file.bin")
        assert status == 200 and body == data
        power_off(machine, client)

    fsck(disks["fs"])
    for name, expected in untouched.items():
        assert digest(disks[name]) == expected, f"namespace {name} was written to"
