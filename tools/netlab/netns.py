"""Network namespaces for the network tests: a private Linux peer for aiSOS.

    with Namespace() as ns:
        ns.run(["ip", "addr", "add", "10.0.3.1/24", "dev", "tap0"])
        ns.run(["ping", "-c", "5", "10.0.3.2"])
        with ns.entered():
            sock = socket.create_connection(("10.0.3.2", 80))  # lives in ns

Every namespace is named aisos-nl-<pid>-<n>, so namespaces left behind by a
test process that died (SIGKILL, power cut) are recognised and removed by
remove_stale(); nothing outside that prefix is ever touched. Needs root
(CAP_SYS_ADMIN and CAP_NET_ADMIN) and the `ip` tool of iproute2.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import re
import shlex
import signal
import subprocess
from pathlib import Path
from typing import Iterator, Optional, Sequence

PREFIX = "aisos-nl"
CLONE_NEWNET = 0x40000000
_counter = itertools.count()
_NAME = re.compile(rf"^{PREFIX}-(\d+)-(\d+)$")


class NamespaceError(RuntimeError):
    pass


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=60)
    except FileNotFoundError as error:
        raise NamespaceError("the `ip` tool is missing; install iproute2") from error
    if check and result.returncode != 0:
        raise NamespaceError(f"ip {' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result


def usable() -> Optional[str]:
    """None when namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun does not exist"
    try:
        subprocess.run(["ip", "-V"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "the `ip` tool (iproute2) cannot run"
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale() -> list[str]:
    """Deletes our namespaces whose creating process no longer exists."""
    removed = []
    for line in _ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        match = _NAME.match(name)
        if match and not _pid_alive(int(match.group(1))):
            _ip("netns", "del", name, check=False)
            removed.append(name)
    return removed


_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise NamespaceError(f"setns failed: {os.strerror(error)}")


class Namespace:
    def __init__(self) -> None:
        self.name = f"{PREFIX}-{os.getpid()}-{next(_counter)}"
        self._processes: list[subprocess.Popen] = []
        self._created = False

    def create(self) -> "Namespace":
        _ip("netns", "add", self.name)
        self._created = True
        self.run(["ip", "link", "set", "lo", "up"])
        return self

    def __enter__(self) -> "Namespace":
        return self.create()

    def __exit__(self, *exc) -> None:
        self.delete()

    # -- running things inside --------------------------------------------
    def command(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, argv: Sequence[str], check: bool = True, timeout: float = 300,
            **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        result = subprocess.run(self.command(argv), timeout=timeout, **kwargs)
        if check and result.returncode != 0:
            raise NamespaceError(f"in {self.name}: {shlex.join(argv)} exited with {result.returncode}:\n"
                                 f"{result.stdout}{result.stderr}")
        return result

    def popen(self, argv: Sequence[str], **kwargs) -> subprocess.Popen:
        """A background process in the namespace, ended by delete() if it is
        still running then."""
        kwargs.setdefault("start_new_session", True)
        process = subprocess.Popen(self.command(argv), **kwargs)
        self._processes.append(process)
        return process

    @contextlib.contextmanager
    def entered(self) -> Iterator[None]:
        """Runs the block with the calling thread inside the namespace:
        sockets made there stay in it after the block ends."""
        original = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            target = os.open(f"/run/netns/{self.name}", os.O_RDONLY | os.O_CLOEXEC)
            try:
                _setns(target)
            finally:
                os.close(target)
            try:
                yield
            finally:
                _setns(original)
        finally:
            os.close(original)

    # -- teardown ----------------------------------------------------------
    def stop(self, process: subprocess.Popen, timeout: float = 15) -> Optional[int]:
        """Ends one background process (SIGTERM, then SIGKILL)."""
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        return process.returncode

    def delete(self) -> None:
        for process in self._processes:
            self.stop(process)
        self._processes.clear()
        if self._created:
            _ip("netns", "del", self.name, check=False)
            self._created = False


def tap_script(path: Path, namespace: Namespace, address: str) -> Path:
    """A QEMU `-netdev tap,script=` helper: QEMU creates the tap in the root
    namespace and runs this (with the tap's name as $1) before the guest
    starts; it moves the tap into `namespace` and gives the Linux side
    `address` (e.g. "10.0.3.1/24"). QEMU keeps its descriptor across the move."""
    path = Path(path)
    path.write_text("#!/bin/sh\nset -e\n"
                    f"ip link set \"$1\" netns {shlex.quote(namespace.name)}\n"
                    f"ip -n {shlex.quote(namespace.name)} addr add {shlex.quote(address)} dev \"$1\"\n"
                    f"ip -n {shlex.quote(namespace.name)} link set \"$1\" up\n")
    path.chmod(0o755)
    return path
