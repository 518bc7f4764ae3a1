"""Boot aiSOS in QEMU: the one place that knows the QEMU command line.

Used by tools/run.py (`./aisos run`) and by the integration tests
(tests/integration/conftest.py). A Machine is q35 + OVMF (read-only code,
a private writable copy of the variable store), an NVMe data disk, one NIC
with user networking and a host port forwarded to guest port 80, and the
guest's COM1 read through a pipe as it arrives:

    with Machine(MachineConfig(image=Path("build/metal/aisos.iso"))) as machine:
        machine.wait_for(r"^aisos: ready$", timeout=300)
        print(machine.output)

Everything waits on events (serial bytes arriving, QEMU exiting); nothing
sleeps for a fixed time. The serial output of every run is kept under
build/test-logs/ for post-mortems.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence, TextIO

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
LOG_DIR = BUILD / "test-logs"
KVM_VERDICT = BUILD / "kvm-probe.json"

QEMU = "qemu-system-x86_64"
OVMF_CODE_CANDIDATES = (
    Path("/usr/share/OVMF/OVMF_CODE_4M.fd"),
    Path("/usr/share/OVMF/OVMF_CODE.fd"),
    Path("/usr/share/edk2/ovmf/OVMF_CODE.fd"),
)
OVMF_VARS_CANDIDATES = (
    Path("/usr/share/OVMF/OVMF_VARS_4M.fd"),
    Path("/usr/share/OVMF/OVMF_VARS.fd"),
    Path("/usr/share/edk2/ovmf/OVMF_VARS.fd"),
)

NIC_DEVICES = {
    "virtio": "virtio-net-pci",
    "e1000": "e1000",
    "e1000e": "e1000e",
}
ACCELS = ("auto", "kvm", "tcg")
GUEST_HTTP_PORT = 80
NVME_SERIAL = "aisos0001"

# OVMF draws its console with ANSI escapes (clear screen, cursor moves,
# attributes); they are noise in text that tests match against.
_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-9;=?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=<>78cDEHM])")
_ANSI_INCOMPLETE_LIMIT = 32

# Lines QEMU prints on stderr when the guest can no longer run; waiting any
# longer for serial output would only burn the timeout.
_QEMU_FATAL = re.compile(r"KVM internal error|emulation failure|qemu: fatal|Could not open|failed to initialize")


class MachineError(RuntimeError):
    """QEMU could not start, stopped, or did not print what was expected."""


class MachineExited(MachineError):
    pass


class MachineTimeout(MachineError, TimeoutError):
    pass


def find_firmware(candidates: Sequence[Path], what: str) -> Path:
    for path in candidates:
        if path.is_file():
            return path
    raise MachineError(f"OVMF {what} not found (tried {', '.join(map(str, candidates))}); install the 'ovmf' package")


def free_tcp_port(address: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (another process may take it later;
    QEMU then fails to start with a clear 'Could not set up host forwarding')."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


@dataclasses.dataclass
class MachineConfig:
    image: Path  # build/metal/aisos.iso (CD) or build/metal/aisos.img (raw GPT disk)
    smp: int = 4
    mem: int = 4096  # MiB
    nic: str = "virtio"  # virtio | e1000 | e1000e | none
    port: Optional[int] = None  # host port forwarded to guest port 80; None picks a free one
    forward_address: str = "127.0.0.1"  # host address the forward listens on ("" = all)
    disk: Optional[Path] = None  # NVMe data disk (raw); None: no NVMe device
    accel: str = "auto"  # auto | kvm | tcg
    extra_args: Sequence[str] = ()
    allow_reboot: bool = False  # False: a reset (or triple fault) ends QEMU instead of looping
    name: str = "aisos"  # prefix of the log file names


def image_kind(image: Path) -> str:
    """'cdrom' for an ISO 9660 image, 'disk' for anything else."""
    with open(image, "rb") as f:
        f.seek(0x8001)
        return "cdrom" if f.read(5) == b"CD001" else "disk"


def _qemu_version() -> str:
    try:
        out = subprocess.run([QEMU, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as error:
        raise MachineError(f"{QEMU} cannot run ({error}); install the 'qemu-system-x86' package") from error
    return out.splitlines()[0] if out else "unknown"


def _kvm_device_usable() -> Optional[str]:
    """None when /dev/kvm can be opened read-write, else why not."""
    if not os.path.exists("/dev/kvm"):
        return "/dev/kvm does not exist"
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as error:
        return f"/dev/kvm cannot be opened ({error.strerror})"
    os.close(fd)
    return None


def probe_kvm(timeout: float = 60.0) -> tuple[bool, str]:
    """Does KVM really run a guest here? /dev/kvm existing is not enough: some
    sandboxes provide a paravirtual /dev/kvm that runs Linux guests but fails
    on firmware and custom kernels. The probe boots OVMF itself under KVM with
    no boot device: a working KVM reaches the boot manager ("BdsDxe") in a few
    seconds; a broken one stops with "KVM internal error"."""
    reason = _kvm_device_usable()
    if reason:
        return False, reason
    code = find_firmware(OVMF_CODE_CANDIDATES, "code")
    with tempfile.TemporaryDirectory(prefix="aisos-kvm-probe-") as scratch:
        variables = Path(scratch) / "vars.fd"
        shutil.copyfile(find_firmware(OVMF_VARS_CANDIDATES, "variables"), variables)
        command = [
            QEMU, "-accel", "kvm", "-machine", "q35", "-cpu", "host", "-m", "256", "-smp", "1",
            "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio",
            "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
            "-drive", f"if=pflash,format=raw,unit=1,file={variables}",
        ]
        process = _QemuProcess(command, log_path=None, echo=None)
        try:
            process.start()
            process.wait_for(r"BdsDxe", timeout=timeout)
            return True, "OVMF reached the boot manager under KVM"
        except MachineError as error:
            fatal = _QEMU_FATAL.search(process.stderr)
            detail = fatal.group(0) if fatal else str(error).splitlines()[0]
            return False, f"KVM fails to run OVMF here: {detail}"
        finally:
            process.kill()


def kvm_usable(refresh: bool = False) -> tuple[bool, str]:
    """The cached verdict of probe_kvm(), redone when QEMU, the host kernel or
    OVMF change (or when refresh is set)."""
    key = json.dumps([_qemu_version(), os.uname().release, str(find_firmware(OVMF_CODE_CANDIDATES, "code")),
                      find_firmware(OVMF_CODE_CANDIDATES, "code").stat().st_size, _kvm_device_usable()])
    if not refresh:
        try:
            cached = json.loads(KVM_VERDICT.read_text())
            if cached.get("key") == key:
                return bool(cached["usable"]), str(cached["reason"])
        except (OSError, ValueError, KeyError):
            pass
    usable, reason = probe_kvm()
    try:
        KVM_VERDICT.parent.mkdir(parents=True, exist_ok=True)
        # Atomic, since several test runs may probe at the same time.
        temporary = KVM_VERDICT.with_name(f"{KVM_VERDICT.name}.{os.getpid()}")
        temporary.write_text(json.dumps({"key": key, "usable": usable, "reason": reason}) + "\n")
        temporary.replace(KVM_VERDICT)
    except OSError:
        pass  # no cache, no harm: the next run probes again
    return usable, reason


def resolve_accel(accel: str) -> tuple[str, str]:
    """'kvm' or 'tcg' for a requested accel, and why."""
    if accel not in ACCELS:
        raise MachineError(f"unknown accel {accel!r}; expected one of {', '.join(ACCELS)}")
    if accel == "tcg":
        return "tcg", "requested"
    if accel == "kvm":
        reason = _kvm_device_usable()
        if reason:
            raise MachineError(f"--accel kvm requested but {reason}")
        return "kvm", "requested"
    usable, reason = kvm_usable()
    return ("kvm" if usable else "tcg"), reason


def qemu_command(config: MachineConfig, accel: str, variables: Path) -> list[str]:
    """The full QEMU command line for a config, with accel already resolved
    ('kvm' or 'tcg') and `variables` a writable copy of OVMF_VARS."""
    code = find_firmware(OVMF_CODE_CANDIDATES, "code")
    image = Path(config.image)
    if not image.is_file():
        raise MachineError(f"boot image {image} does not exist (build it with ./aisos build)")
    if config.smp < 1 or config.mem < 128:
        raise MachineError("smp must be at least 1 and mem at least 128 MiB")
    command = [QEMU, "-machine", "q35", "-smp", str(config.smp), "-m", str(config.mem)]
    if accel == "kvm":
        command += ["-accel", "kvm", "-cpu", "host"]
    else:
        # -cpu max exposes what TCG can emulate (AVX2, XSAVE, x2APIC,
        # RDRAND/RDSEED, ...) so the kernel's feature paths run.
        command += ["-accel", "tcg", "-cpu", "max"]
    command += [
        "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
        "-drive", f"if=pflash,format=raw,unit=1,file={variables}",
        "-display", "none",
        "-serial", "stdio",
        "-monitor", "none",
    ]
    if not config.allow_reboot:
        command.append("-no-reboot")
    # The boot medium comes first in the firmware's boot order; snapshot and
    # read-only keep the built image unchanged whatever the guest does.
    if image_kind(image) == "cdrom":
        command += ["-drive", f"file={image},format=raw,if=none,id=bootmedia,media=cdrom,readonly=on",
                    "-device", "ide-cd,drive=bootmedia,bootindex=0"]
    else:
        command += ["-drive", f"file={image},format=raw,if=none,id=bootmedia,snapshot=on",
                    "-device", "ide-hd,drive=bootmedia,bootindex=0"]
    if config.disk is not None:
        command += ["-drive", f"file={config.disk},format=raw,if=none,id=nvm,discard=unmap",
                    "-device", f"nvme,serial={NVME_SERIAL},drive=nvm"]
    if config.nic != "none":
        if config.nic not in NIC_DEVICES:
            raise MachineError(f"unknown nic {config.nic!r}; expected one of {', '.join(NIC_DEVICES)}")
        forward = f"tcp:{config.forward_address}:{config.port}-:{GUEST_HTTP_PORT}"
        # romfile= skips the NIC's iPXE option ROM: faster firmware, and the
        # firmware never tries to network-boot.
        command += ["-netdev", f"user,id=net0,hostfwd={forward}",
                    "-device", f"{NIC_DEVICES[config.nic]},netdev=net0,romfile="]
    command += list(config.extra_args)
    return command


_ESP_TYPE_GUID = bytes.fromhex("28732ac11ff8d211ba4b00a0c93ec93b")  # C12A7328-F81F-11D2-BA4B-00A0C93EC93B, on-disk order


def esp_offset(image: Path) -> int:
    """Byte offset of the FAT EFI System Partition inside a boot image: the
    El Torito EFI boot image of an ISO, or the ESP of a GPT disk image."""
    with open(image, "rb") as f:
        if image_kind(image) == "cdrom":
            # Boot record volume descriptor (sector 17) -> boot catalog; the
            # first bootable entry after the validation entry holds the image.
            f.seek(17 * 2048)
            record = f.read(2048)
            if record[1:6] != b"CD001" or record[7:30].rstrip(b"\0") != b"EL TORITO SPECIFICATION":
                raise MachineError(f"{image}: ISO without an El Torito boot record")
            catalog_lba = int.from_bytes(record[0x47:0x4B], "little")
            f.seek(catalog_lba * 2048)
            catalog = f.read(2048)
            for entry in range(1, 64):
                raw = catalog[entry * 32:(entry + 1) * 32]
                if raw[0] == 0x88:
                    return int.from_bytes(raw[8:12], "little") * 2048
            raise MachineError(f"{image}: El Torito catalog has no bootable entry")
        f.seek(512)
        header = f.read(92)
        if header[:8] != b"EFI PART":
            raise MachineError(f"{image}: neither an ISO nor a GPT disk image")
        entries_lba = int.from_bytes(header[72:80], "little")
        count = int.from_bytes(header[80:84], "little")
        size = int.from_bytes(header[84:88], "little")
        f.seek(entries_lba * 512)
        table = f.read(count * size)
        for i in range(count):
            entry = table[i * size:(i + 1) * size]
            if entry[:16] == _ESP_TYPE_GUID:
                return int.from_bytes(entry[32:40], "little") * 512
        raise MachineError(f"{image}: GPT has no EFI System Partition")


def _mtools(*args: str) -> None:
    environment = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    result = subprocess.run(args, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        raise MachineError(f"{' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")


def derive_image(image: Path, destination: Path, put: Optional[dict] = None, delete: Iterable[str] = ()) -> Path:
    """A copy of `image` with files on its ESP replaced or removed, without
    rebuilding: put maps an ESP path ("/aisos/aisos.cfg") to bytes or to a
    host file; delete lists ESP paths to remove. The FAT is edited in place
    inside the copy (mtools with the img@@offset syntax)."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(image, destination)
    target = f"{destination}@@{esp_offset(destination)}"
    for path in delete:
        _mtools("mdel", "-i", target, f"::{path}")
    with tempfile.TemporaryDirectory(prefix="aisos-esp-") as scratch:
        for index, (path, content) in enumerate((put or {}).items()):
            source = Path(content) if isinstance(content, (str, Path)) else Path(scratch) / f"file{index}"
            if not isinstance(content, (str, Path)):
                source.write_bytes(bytes(content))
            _mtools("mcopy", "-o", "-i", target, str(source), f"::{path}")
    return destination


def read_esp_file(image: Path, path: str) -> bytes:
    """The content of one file on the image's ESP."""
    with tempfile.TemporaryDirectory(prefix="aisos-esp-") as scratch:
        out = Path(scratch) / "file"
        _mtools("mcopy", "-i", f"{image}@@{esp_offset(image)}", f"::{path}", str(out))
        return out.read_bytes()


class _QemuProcess:
    """A QEMU process whose stdout is the guest's serial port. Reader threads
    collect serial output and stderr as they arrive and wake waiters."""

    def __init__(self, command: list[str], log_path: Optional[Path], echo: Optional[TextIO]):
        self.command = command
        self.log_path = log_path
        self._echo = echo
        self._process: Optional[subprocess.Popen] = None
        self._condition = threading.Condition()
        self._text = ""  # serial output, escapes and CRs removed
        self._pending = ""  # a possibly incomplete escape sequence
        self._stderr = ""
        self._readers_done = 0
        self._threads: list[threading.Thread] = []
        self._log: Optional[object] = None
        self.started_at: Optional[float] = None
        self.lines: list[tuple[float, str]] = []  # (seconds after start, line) as each line completed
        self._line_begin = 0

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> None:
        if self._process is not None:
            raise MachineError("machine already started")
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "wb")
            self._log.write(("# " + " ".join(self.command) + "\n").encode())
            self._log.flush()
        try:
            self._process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, start_new_session=True)
        except OSError as error:
            raise MachineError(f"cannot start {self.command[0]}: {error}") from error
        self.started_at = time.monotonic()
        for target, stream in ((self._read_serial, self._process.stdout), (self._read_stderr, self._process.stderr)):
            thread = threading.Thread(target=target, args=(stream,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def kill(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for thread in self._threads:
            thread.join(timeout=10)
        if self._log is not None:
            if self._stderr:
                self._log.write(b"\n# qemu stderr:\n" + self._stderr.encode(errors="replace"))
            self._log.close()
            self._log = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> Optional[int]:
        return None if self._process is None else self._process.poll()

    # -- output ------------------------------------------------------------
    @property
    def output(self) -> str:
        with self._condition:
            return self._text

    @property
    def stderr(self) -> str:
        with self._condition:
            return self._stderr

    def _read_serial(self, stream) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            data = stream.read1(65536)
            if self._log is not None and data:
                self._log.write(data)
                self._log.flush()
            if self._echo is not None and data:
                self._echo.write(data.decode("utf-8", errors="replace"))
                self._echo.flush()
            with self._condition:
                self._append(decoder.decode(data, final=not data))
                if not data:
                    self._append_final()
                    self._readers_done += 1
                self._condition.notify_all()
            if not data:
                return

    def _read_stderr(self, stream) -> None:
        while True:
            data = stream.read1(65536)
            with self._condition:
                if data:
                    self._stderr += data.decode("utf-8", errors="replace")
                else:
                    self._readers_done += 1
                self._condition.notify_all()
            if not data:
                return

    def _append(self, text: str) -> None:
        pending = self._pending + text
        cut = len(pending)
        escape = pending.rfind("\x1b")
        if escape != -1 and len(pending) - escape < _ANSI_INCOMPLETE_LIMIT and not _ANSI_ESCAPE.match(pending, escape):
            cut = escape  # wait for the rest of this escape sequence
        self._pending = pending[cut:]
        self._text += _ANSI_ESCAPE.sub("", pending[:cut]).replace("\r", "")
        self._stamp_lines()

    def _stamp_lines(self) -> None:
        """Records when each complete line arrived, for boot-time figures."""
        now = time.monotonic() - (self.started_at or 0.0)
        while True:
            newline = self._text.find("\n", self._line_begin)
            if newline == -1:
                return
            self.lines.append((now, self._text[self._line_begin:newline]))
            self._line_begin = newline + 1

    def _append_final(self) -> None:
        self._text += self._pending.replace("\r", "")
        self._pending = ""
        self._stamp_lines()

    # -- waiting -----------------------------------------------------------
    def _tail(self, chars: int = 3000) -> str:
        tail = self._text[-chars:]
        stderr = self._stderr.strip()
        message = f"\n--- last serial output ---\n{tail}\n--- end ---"
        if stderr:
            message += f"\n--- qemu stderr ---\n{stderr[-chars:]}\n--- end ---"
        if self.log_path is not None:
            message += f"\nfull log: {self.log_path}"
        return message

    def wait_until(self, check: Callable[[str], object], timeout: float, what: str):
        """Waits until check(serial text) is truthy and returns it. Raises
        MachineExited when QEMU ends first, MachineError when QEMU reports a
        fatal guest error, MachineTimeout after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                result = check(self._text)
                if result:
                    return result
                fatal = _QEMU_FATAL.search(self._stderr)
                if fatal:
                    raise MachineError(f"QEMU reports a fatal error while waiting for {what}: {fatal.group(0)}{self._tail()}")
                if self._readers_done == 2:
                    code = self._process.wait() if self._process else None
                    raise MachineExited(f"QEMU exited (status {code}) while waiting for {what}{self._tail()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise MachineTimeout(f"timed out after {timeout:.0f} s waiting for {what}{self._tail()}")
                # Bounded so that an infinite timeout stays a valid argument.
                self._condition.wait(min(remaining, 3600.0))

    def wait_for(self, pattern: str | re.Pattern, timeout: float, start: int = 0) -> re.Match:
        """The first match of `pattern` (re.MULTILINE) in the serial output
        from offset `start` on, waiting for it to appear. Only complete lines
        are searched, so "$" never matches in the middle of a line that is
        still arriving."""
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, re.MULTILINE)
        return self.wait_until(lambda text: regex.search(text, start, text.rfind("\n") + 1), timeout, f"/{regex.pattern}/")


MAX_LOGS = 500


def _prune_logs(log_dir: Path) -> None:
    """Keeps the newest MAX_LOGS serial logs so build/test-logs stays small."""
    try:
        logs = sorted(log_dir.glob("*.log"), key=lambda path: path.stat().st_mtime, reverse=True)
        for old in logs[MAX_LOGS:]:
            old.unlink()
    except OSError:
        pass  # racing with another run's pruning is harmless


class Machine:
    """One aiSOS guest. start() boots it; wait_for() waits for serial output;
    kill() (or leaving the `with` block) ends QEMU and cleans up."""

    def __init__(self, config: MachineConfig, echo: Optional[TextIO] = None, log_dir: Path = LOG_DIR):
        self.config = config
        self.accel, self.accel_reason = resolve_accel(config.accel)
        if config.port is None and config.nic != "none":
            config.port = free_tcp_port()
        self.port = config.port
        self._scratch = Path(tempfile.mkdtemp(prefix="aisos-qemu-"))
        variables = self._scratch / "OVMF_VARS.fd"
        shutil.copyfile(find_firmware(OVMF_VARS_CANDIDATES, "variables"), variables)
        self.command = qemu_command(config, self.accel, variables)
        _prune_logs(log_dir)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        safe_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", config.name)[:100]
        self.log_path = log_dir / f"{safe_name}-{stamp}-{os.getpid()}-{id(self) & 0xffff:04x}.log"
        self._process = _QemuProcess(self.command, self.log_path, echo)

    def start(self) -> "Machine":
        self._process.start()
        return self

    def kill(self) -> None:
        self._process.kill()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> "Machine":
        if self._process.started_at is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.kill()

    @property
    def output(self) -> str:
        """All serial output so far, without ANSI escapes and carriage returns."""
        return self._process.output

    @property
    def stderr(self) -> str:
        return self._process.stderr

    @property
    def running(self) -> bool:
        return self._process.running

    @property
    def returncode(self) -> Optional[int]:
        return self._process.returncode

    @property
    def lines(self) -> list[tuple[float, str]]:
        """Every complete serial line with the time it arrived, in seconds
        after QEMU started (host clock, so it includes firmware time)."""
        with self._process._condition:
            return list(self._process.lines)

    def line_time(self, pattern: str) -> Optional[float]:
        """When the first line matching `pattern` arrived, or None."""
        regex = re.compile(pattern)
        for seconds, line in self.lines:
            if regex.search(line):
                return seconds
        return None

    @property
    def seconds_since_start(self) -> float:
        started = self._process.started_at
        return 0.0 if started is None else time.monotonic() - started

    def wait_for(self, pattern: str | re.Pattern, timeout: float, start: int = 0) -> re.Match:
        return self._process.wait_for(pattern, timeout, start)

    def wait_until(self, check: Callable[[str], object], timeout: float, what: str):
        return self._process.wait_until(check, timeout, what)

    def wait_exit(self, timeout: float) -> int:
        """Waits for QEMU to end by itself (guest poweroff, or a reset with
        allow_reboot off) and returns its exit status."""
        try:
            self._process.wait_until(lambda _: False, timeout, "QEMU to exit")
        except MachineExited:
            pass
        code = self.returncode
        assert code is not None
        return code

    def wait_port(self, port: Optional[int] = None, timeout: float = 300.0) -> None:
        """Waits until the guest accepts TCP connections on the forwarded port.
        QEMU's user networking accepts every connection on the host side and
        closes it only once the guest refuses, so a bare connect() proves
        nothing: a port counts as open when the connection survives briefly
        without being closed by the far side."""
        self._wait_network(port, timeout, "the guest to listen on port 80", self._accepts)

    def wait_http(self, path: str = "/health", port: Optional[int] = None, timeout: float = 300.0) -> tuple[int, bytes]:
        """Waits until GET `path` through the forwarded port gets an HTTP
        response; returns (status, body)."""
        return self._wait_network(port, timeout, f"an HTTP answer to GET {path}", lambda p: self._http_get(p, path))

    def _wait_network(self, port, timeout, what, attempt):
        port = port or self.port
        if port is None:
            raise MachineError("this machine has no forwarded port")
        deadline = time.monotonic() + timeout
        while True:
            result = attempt(port)
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise MachineTimeout(f"timed out after {timeout:.0f} s waiting for {what}{self._process._tail()}")
            # Between attempts, wake early if QEMU exits or reports an error.
            try:
                self._process.wait_until(lambda _: False, min(0.5, remaining), what)
            except MachineTimeout:
                pass

    @staticmethod
    def _accepts(port: int):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
                connection.settimeout(0.5)
                try:
                    return connection.recv(1) != b""  # data: open; EOF: refused behind the forward
                except socket.timeout:
                    return True  # still open: the guest accepted
        except OSError:
            return False

    @staticmethod
    def _http_get(port: int, path: str):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
                connection.settimeout(10)
                connection.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
                response = b""
                while True:
                    data = connection.recv(65536)
                    if not data:
                        break
                    response += data
        except OSError:
            return None
        match = re.match(rb"HTTP/1\.[01] (\d{3})[^\r\n]*\r\n", response)
        if not match:
            return None
        _, _, body = response.partition(b"\r\n\r\n")
        return int(match.group(1)), body


def boot_command_line(config: MachineConfig) -> str:
    """The command line a config produces, for humans (run.py --dry-run)."""
    accel, _ = resolve_accel(config.accel)
    return " ".join(qemu_command(config, accel, Path("<copy of OVMF_VARS>")))


LOADER_STARTED = r"^aisos-boot: aiSOS loader"
LOADER_DONE = r"^aisos-boot: starting the kernel$"


def boot_milestones(machine: Machine, until: str) -> dict[str, Optional[float]]:
    """Seconds after QEMU started at which the loader's first line, its last
    line, the kernel's first line and the `until` line arrived."""
    lines = machine.lines
    found: dict[str, Optional[float]] = {"loader started": None, "loader done": None, "kernel first line": None, "until": None}
    done_index = None
    for index, (seconds, line) in enumerate(lines):
        if found["loader started"] is None and re.search(LOADER_STARTED, line):
            found["loader started"] = seconds
        if done_index is None and re.search(LOADER_DONE, line):
            found["loader done"] = seconds
            done_index = index
        elif done_index is not None and found["kernel first line"] is None and line.strip():
            found["kernel first line"] = seconds
        if found["until"] is None and re.search(until, line):
            found["until"] = seconds
    return found


def measure_boot(image: Path, runs: int, smp: int, mem: int, accel: str, until: str, timeout: float) -> int:
    """Boots `runs` times the way ./aisos run does (NVMe disk, virtio NIC)
    and prints when each milestone line arrived and the medians."""
    import statistics
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="aisos-boot-time-") as scratch:
        disk = Path(scratch) / "disk.img"
        with open(disk, "wb") as f:
            f.truncate(2 << 30)
        for run in range(runs):
            config = MachineConfig(image=image, smp=smp, mem=mem, accel=accel, disk=disk, name="boot-time")
            with Machine(config) as machine:
                machine.wait_for(until, timeout=timeout)
                found = boot_milestones(machine, until)
            found[f"/{until}/"] = found.pop("until")
            for name, seconds in found.items():
                if seconds is not None:
                    results.setdefault(name, []).append(seconds)
            print(f"run {run + 1} ({machine.accel}): "
                  + ", ".join(f"{name} {seconds:.2f} s" if seconds is not None else f"{name} -" for name, seconds in found.items()), flush=True)
    print(f"median of {runs}: " + ", ".join(f"{name} {statistics.median(values):.2f} s" for name, values in results.items()))
    return 0


def main(argv: list[str]) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="tools/qemu.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("kvm", help="probe KVM again and print the verdict")
    timing = commands.add_parser("boot-time", help="median time from QEMU start to boot milestones")
    timing.add_argument("--image", type=Path, default=BUILD / "metal" / "aisos.iso")
    timing.add_argument("--runs", type=int, default=5)
    timing.add_argument("--smp", type=int, default=4)
    timing.add_argument("--mem", type=int, default=4096)
    timing.add_argument("--accel", choices=ACCELS, default="auto")
    timing.add_argument("--until", default=r"^aisos: ready$", help="regex of the last milestone line")
    timing.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    try:
        if args.command == "kvm":
            usable, why = kvm_usable(refresh=True)
            print(f"kvm usable: {usable} ({why})")
            return 0
        return measure_boot(args.image, args.runs, args.smp, args.mem, args.accel, args.until, args.timeout)
    except MachineError as error:
        print(f"tools/qemu.py: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
