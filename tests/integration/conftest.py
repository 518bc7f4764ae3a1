"""pytest fixtures for booting aiSOS in QEMU (see tools/qemu.py).

    def test_something(boot):
        machine = boot(smp=4, mem=4096)
        machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT)

Environment:
  AISOS_METAL_BUILD  bare-metal build directory (default build/metal)
  AISOS_ACCEL        auto | kvm | tcg (default auto: KVM only where it works)
Serial logs of every boot are kept in build/test-logs/.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional, Sequence

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from qemu import Machine, MachineConfig, derive_image  # noqa: E402

# Generous: under TCG on two shared cores OVMF alone takes 10-30 s.
BOOT_TIMEOUT = 300
DEFAULT_DISK_SIZE = 256 << 20


@pytest.fixture(scope="session")
def metal_build() -> Path:
    """The bare-metal build directory holding aisos.iso, aisos.img and
    kernel/kernel.elf; skips the test when it has not been built."""
    path = Path(os.environ.get("AISOS_METAL_BUILD", ROOT / "build" / "metal"))
    if not path.is_absolute():
        path = ROOT / path
    missing = [name for name in ("aisos.iso", "aisos.img") if not (path / name).is_file()]
    if missing:
        pytest.skip(f"{path} has no {' or '.join(missing)}; run ./aisos build first")
    return path


@pytest.fixture
def boot(request, metal_build, tmp_path):
    """A factory that boots a machine and returns it running; every machine it
    made is killed at teardown.

    boot(image=None, smp=4, mem=4096, nic="virtio", extra_args=(),
         config_text=None, disk=True, accel=None)
      image        boot image; default build/metal/aisos.iso
      config_text  boot with this aisos.cfg (a copy of the image is edited)
      disk         True: a fresh 256 MiB NVMe disk; a Path: that disk; None: no NVMe
    """
    machines: list[Machine] = []

    def factory(image: Optional[Path] = None, smp: int = 4, mem: int = 4096, nic: str = "virtio",
                extra_args: Sequence[str] = (), config_text: Optional[str] = None, disk=True,
                accel: Optional[str] = None) -> Machine:
        index = len(machines)
        image = Path(image) if image is not None else metal_build / "aisos.iso"
        if config_text is not None:
            image = derive_image(image, tmp_path / f"config{index}-{image.name}",
                                 put={"/aisos/aisos.cfg": config_text.encode()})
        disk_path = None
        if disk is True:
            disk_path = tmp_path / f"nvme{index}.img"
            with open(disk_path, "wb") as f:
                f.truncate(DEFAULT_DISK_SIZE)
        elif disk:
            disk_path = Path(disk)
        config = MachineConfig(image=image, smp=smp, mem=mem, nic=nic, extra_args=tuple(extra_args), disk=disk_path,
                               accel=accel or os.environ.get("AISOS_ACCEL", "auto"), name=request.node.name)
        machine = Machine(config)
        machines.append(machine)
        machine.start()
        return machine

    yield factory
    for machine in machines:
        machine.kill()
