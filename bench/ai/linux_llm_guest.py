"""The Linux baseline guest of bench/ai.py: Debian's kernel (fetched and
unpacked by bench/net/linux_guest.py, nothing installed) and an initramfs
with busybox, the statically linked native engine CLI (aisos-llm) and the
model file. Its /init runs the CLI once per requested prompt, prints every
run's output between marker lines on the serial console, then powers off.

No network and no disk: the model is read from the initramfs (RAM), the
numbers come from the CLI's own timers (its stderr line
"prefill: N tokens, X tok/s; decode: M tokens, Y tok/s").
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "net"))

import linux_guest  # noqa: E402

BEGIN = "ai-guest: begin"
END = "ai-guest: end"
DONE_LINE = "ai-guest: done"

INIT_HEAD = """\
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "ai-guest: cpus $(grep -c ^processor /proc/cpuinfo)"
"""

INIT_TAIL = """\
echo "%s"
sync
poweroff -f
""" % DONE_LINE


def build(cache: Path, cli: Path, model: Path, runs: list[tuple[str, list[str]]]) -> tuple[Path, Path]:
    """(kernel, initramfs). `runs` is a list of (name, CLI arguments after
    -m /model.gguf); each run's output is printed between
    "ai-guest: begin NAME" and "ai-guest: end NAME rc=N"."""
    cache.mkdir(parents=True, exist_ok=True)
    kernel, _ = linux_guest.fetch_kernel(cache)
    if not cli.exists():
        raise linux_guest.GuestBuildError(f"{cli} is missing")
    if "statically linked" not in linux_guest._run(["file", "-L", str(cli)]):
        raise linux_guest.GuestBuildError(f"{cli} is not statically linked (build it with -static)")
    script = INIT_HEAD
    for name, arguments in runs:
        command = " ".join(shlex.quote(part) for part in ["/aisos-llm", "-m", "/model.gguf", *arguments])
        script += f'echo "{BEGIN} {name}"\n{command} 2>&1\necho "{END} {name} rc=$?"\n'
    script += INIT_TAIL

    archive = linux_guest.Cpio()
    for directory in ("bin", "dev", "proc", "sys", "tmp"):
        archive.directory(directory)
    archive.copy(linux_guest._which("busybox", "busybox-static"), "bin/busybox")
    archive.copy(cli, "aisos-llm")
    archive.copy(model, "model.gguf")
    archive.file("init", script.encode(), 0o755)
    initramfs = cache / "initramfs-ai.cpio"
    initramfs.write_bytes(archive.finish())
    return kernel, initramfs
