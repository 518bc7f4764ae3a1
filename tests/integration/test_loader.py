"""The UEFI loader (boot/) in QEMU: clear messages for a missing or broken
kernel.elf / aisos.cfg instead of a crash, and the hand-over to the kernel.

Each broken image is derived from the real one by editing its ESP with
mtools, so these tests need nothing but ./aisos build.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qemu import derive_image, read_esp_file

# Generous: under TCG on two shared cores OVMF alone takes 10-30 s.
BOOT_TIMEOUT = 300
STOPPED = r"^aisos-boot: boot stopped; the machine waits here"
HANDOVER = r"^aisos-boot: starting the kernel$"
# Small machines: the loader does not care, and OVMF starts faster.
SMALL = dict(smp=1, mem=512, nic="none", disk=None)


def broken_image(metal_build: Path, tmp_path: Path, name: str, **changes) -> Path:
    return derive_image(metal_build / "aisos.iso", tmp_path / f"{name}.iso", **changes)


def expect_stop(machine, error_pattern: str):
    """The loader printed `error_pattern` as its error line, then parked the
    machine; QEMU (run with -no-reboot) is still alive, so no triple fault."""
    error = machine.wait_for(r"^aisos-boot: error: " + error_pattern, timeout=BOOT_TIMEOUT)
    machine.wait_for(STOPPED, timeout=60, start=error.start())
    assert machine.running, "QEMU ended: the loader crashed instead of waiting"
    assert not re.search(HANDOVER, machine.output, re.MULTILINE)
    return error


def test_missing_kernel_is_reported(boot, metal_build, tmp_path):
    image = broken_image(metal_build, tmp_path, "no-kernel", delete=["/aisos/kernel.elf"])
    machine = boot(image=image, **SMALL)
    expect_stop(machine, r"cannot load \\aisos\\kernel\.elf: file not found$")


def _elf_with(kernel: bytes, offset: int, value: bytes) -> bytes:
    return kernel[:offset] + value + kernel[offset + len(value):]


# (name, how to break the real kernel.elf, the reason the loader must give)
CORRUPTIONS = [
    ("garbage", lambda k: b"this is not an ELF file\n" * 64, r"not an ELF file \(bad magic\)"),
    ("empty", lambda k: b"", r"file is empty"),
    ("truncated", lambda k: k[:200], r"ELF (program header table|segment data) lies outside the file"),
    ("wrong-machine", lambda k: _elf_with(k, 18, (0xB7).to_bytes(2, "little")), r"ELF file is not for x86_64"),
    ("32-bit", lambda k: _elf_with(k, 4, b"\x01"), r"ELF file is not 64-bit"),
    ("entry-outside", lambda k: _elf_with(k, 24, (0xFFFFFFFFFFFF0000).to_bytes(8, "little")),
     r"ELF entry point is not inside an executable segment"),
]


@pytest.mark.parametrize("name,corrupt,reason", CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_corrupt_kernel_is_reported(boot, metal_build, tmp_path, name, corrupt, reason):
    kernel = read_esp_file(metal_build / "aisos.iso", "/aisos/kernel.elf")
    assert kernel[:4] == b"\x7fELF", "the built image should hold a real ELF kernel"
    image = broken_image(metal_build, tmp_path, name, put={"/aisos/kernel.elf": corrupt(kernel)})
    machine = boot(image=image, **SMALL)
    error = expect_stop(machine, r".*kernel\.elf.*$")
    assert re.search(reason, error.group(0)), f"unexpected reason in {error.group(0)!r}"


def test_missing_config_uses_defaults(boot, metal_build, tmp_path):
    image = broken_image(metal_build, tmp_path, "no-config", delete=["/aisos/aisos.cfg"])
    machine = boot(image=image, **SMALL)
    found = machine.wait_for(r"^aisos-boot: no aisos\.cfg, using defaults$", timeout=BOOT_TIMEOUT)
    machine.wait_for(HANDOVER, timeout=120, start=found.start())


def test_binary_config_is_rejected(boot, metal_build, tmp_path):
    image = broken_image(metal_build, tmp_path, "binary-config", put={"/aisos/aisos.cfg": b"ip=dhcp\n\0\0\0garbage"})
    machine = boot(image=image, **SMALL)
    expect_stop(machine, r"\\aisos\\aisos\.cfg is not a text file: it contains a NUL byte$")


def test_oversized_config_is_rejected(boot, metal_build, tmp_path):
    big = b"# padding\n" * 7000  # 70 000 bytes, over the 64 KiB limit
    image = broken_image(metal_build, tmp_path, "big-config", put={"/aisos/aisos.cfg": big})
    machine = boot(image=image, **SMALL)
    expect_stop(machine, r"cannot load \\aisos\\aisos\.cfg: file is larger than the loader accepts$")


def test_initrd_is_loaded(boot, metal_build, tmp_path):
    image = broken_image(metal_build, tmp_path, "initrd", put={"/aisos/initrd": bytes(range(256)) * 1000})
    machine = boot(image=image, **SMALL)
    machine.wait_for(r"^aisos-boot: loaded \\aisos\\initrd \(250 KiB\) at 0x[0-9a-f]+$", timeout=BOOT_TIMEOUT)
    machine.wait_for(HANDOVER, timeout=120)


@pytest.mark.parametrize("image_name", ["aisos.iso", "aisos.img"])
def test_loader_hands_over_to_kernel(boot, metal_build, image_name):
    """Both images boot, the loader finds everything the hand-over needs, and
    the kernel takes over (it prints lines starting "aisos: ")."""
    machine = boot(image=metal_build / image_name)
    machine.wait_for(r"^aisos-boot: loaded \\aisos\\kernel\.elf \(", timeout=BOOT_TIMEOUT)
    machine.wait_for(r"^aisos-boot: loaded \\aisos\\aisos\.cfg \(", timeout=60)
    machine.wait_for(r"^aisos-boot: ACPI RSDP at 0x[0-9a-f]+$", timeout=60)
    handover = machine.wait_for(HANDOVER, timeout=120)
    assert "aisos-boot: error" not in machine.output
    machine.wait_for(r"^aisos: ", timeout=BOOT_TIMEOUT, start=handover.end())


def test_run_script_boots_with_the_given_config(metal_build, tmp_path):
    """./aisos run --config FILE: tools/run.py swaps aisos.cfg in a copy of
    the image, creates the NVMe disk, and streams the console to stdout."""
    import queue
    import subprocess
    import sys
    import threading

    from qemu import ROOT, free_tcp_port

    config = tmp_path / "custom.cfg"
    config.write_text("# custom configuration for this test\nhostname=run-test\n")
    disk = tmp_path / "disk.img"
    command = [sys.executable, str(ROOT / "tools" / "run.py"), "--no-build", "--image", str(metal_build / "aisos.img"),
               "--config", str(config), "--disk", str(disk), "--port", str(free_tcp_port()), "--smp", "1", "--mem", "512"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               text=True, errors="replace")
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout] + [lines.put(None)], daemon=True).start()
    seen = []
    try:
        expected = f"aisos-boot: loaded \\aisos\\aisos.cfg ({config.stat().st_size} bytes)"
        while True:
            line = lines.get(timeout=BOOT_TIMEOUT)
            assert line is not None, "run.py ended early:\n" + "".join(seen)
            seen.append(line)
            if expected in line:
                break
        assert disk.stat().st_size == 2 << 30, "run.py should create a 2 GiB sparse disk"
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode in (0, 130), "".join(seen[-20:])
