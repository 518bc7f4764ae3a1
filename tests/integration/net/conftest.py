"""Fixtures for the network integration tests (issue 4).

  user_guest(nic)   an aiSOS guest on QEMU user networking, port 80 forwarded
                    to a host port; one per NIC model, shared by the session
                    and booted again if an earlier test left it dead
  guest             user_guest("virtio"), checked healthy before the test
  boot_guest(...)   boots a private guest (own netdev, own aisos.cfg)
  netns()           a fresh network namespace, deleted at teardown even when
                    the test fails (tools/netlab/netns.py)
  start_relay(...)  the lossy relay of tools/netlab/relay.py inside a namespace

Environment: AISOS_METAL_BUILD, AISOS_ACCEL (see ../conftest.py).
AISOS_NET_LOSSY_MB sets the size of the lossy-relay transfers (default 20,
see test_lossy.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Optional, Sequence

import pytest

ROOT = Path(__file__).resolve().parents[3]
TOOLS = ROOT / "tools"
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

from qemu import LOG_DIR, Machine, MachineConfig, derive_image  # noqa: E402
from netlab import netns as netns_lib  # noqa: E402

from . import wire  # noqa: E402

# TCG on two shared cores: OVMF alone can take a minute when other guests run.
BOOT_TIMEOUT = 600
# The same small machine for every network test and for bench/net.py.
SMP = 2
MEM = 2048
RELAY = TOOLS / "netlab" / "relay.py"

DRIVER_NAMES = {"virtio": "virtio-net", "e1000": "e1000", "e1000e": "e1000e"}
QEMU_DEVICES = {"virtio": "virtio-net-pci", "e1000": "e1000", "e1000e": "e1000e"}
QEMU_DEFAULT_MAC = "52:54:00:12:34:56"
NET_LINE = re.compile(r"^aisos: net (\S+) mac ([0-9a-f]{2}(?::[0-9a-f]{2}){5}) ip (\S+)$", re.M)

# Figures (throughput, timings) collected by tests and printed once at the end.
FIGURES: list[str] = []


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long transfers (minutes); deselect with -m 'not slow'")


FIGURES_FILE = LOG_DIR / "net-figures.txt"


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("network figures (measured, not asserted)")
        for line in FIGURES:
            terminalreporter.write_line(line)
        # Also kept on disk: ./aisos test prints much more after this.
        try:
            FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
            FIGURES_FILE.write_text("".join(f"{line}\n" for line in FIGURES))
            terminalreporter.write_line(f"(also in {FIGURES_FILE})")
        except OSError:
            pass


@dataclasses.dataclass
class Guest:
    machine: Machine
    host: str
    port: int
    driver: str
    mac: str
    ip: str

    def request(self, method: str, path: str, body: Optional[bytes] = None, headers: Optional[dict] = None,
                timeout: float = wire.IO_TIMEOUT) -> wire.Response:
        return wire.request(self.host, self.port, method, path, body, headers, timeout)

    def connect(self, timeout: float = wire.IO_TIMEOUT):
        return wire.connect(self.host, self.port, timeout)


# The interface may be configured (DHCP) a little after the server is ready.
CONFIGURE_AFTER_READY_TIMEOUT = 120


def wait_configured(machine: Machine, ip: Optional[str] = None) -> tuple[str, str, str]:
    """Waits for `aisos: net <driver> mac <mac> ip <ip>` (with that ip when
    given; a line with ip '-' means not configured yet) and `aisos: ready`;
    returns (driver, mac, ip). Fails at once on a kernel panic."""
    def configured(text: str, end: int):
        for match in NET_LINE.finditer(text, 0, end):
            if (ip is None and match.group(3) != "-") or match.group(3) == ip:
                return match
        return None

    def progress(text: str):
        end = text.rfind("\n") + 1
        panic = re.search(r"^aisos: panic .*$", text[:end], re.M)
        if panic:
            return panic
        return configured(text, end) or re.search(r"^aisos: ready$", text[:end], re.M)

    wanted = f"'aisos: net <driver> mac <mac> ip {ip or '<address>'}'"
    event = machine.wait_until(progress, BOOT_TIMEOUT, f"{wanted} or 'aisos: ready'")
    if event.group(0).startswith("aisos: panic"):
        raise AssertionError(f"the kernel panicked: {event.group(0)} (log: {machine.log_path})")
    match = machine.wait_until(lambda text: configured(text, text.rfind("\n") + 1),
                               CONFIGURE_AFTER_READY_TIMEOUT, wanted)
    machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT)
    return match.group(1), match.group(2), match.group(3)


def start_machine(image: Path, scratch: Path, name: str, nic: str = "virtio", config_text: Optional[str] = None,
                  extra_args: Sequence[str] = ()) -> Machine:
    if config_text is not None:
        scratch.mkdir(parents=True, exist_ok=True)
        image = derive_image(image, scratch / f"{name}-{image.name}", put={"/aisos/aisos.cfg": config_text.encode()})
    config = MachineConfig(image=image, smp=SMP, mem=MEM, nic=nic, extra_args=tuple(extra_args), disk=None,
                           accel=os.environ.get("AISOS_ACCEL", "auto"), name=name)
    return Machine(config).start()


# The /debug/* and /ws/echo test endpoints are off unless aisos.cfg turns them on.
DEBUG_ENDPOINTS = "debug_endpoints=true\n"


def guest_config(ip: str = "dhcp", gateway: Optional[str] = None) -> str:
    """An aisos.cfg for a test guest: its address and the test endpoints."""
    text = f"ip={ip}\n"
    if gateway:
        text += f"gw={gateway}\n"
    return text + DEBUG_ENDPOINTS


class UserGuests:
    """One guest per NIC model on user networking, booted on first use."""

    def __init__(self, image: Path, scratch: Path):
        self.image = image
        self.scratch = scratch
        self.guests: dict[str, Guest] = {}
        self.failures: dict[str, str] = {}

    def get(self, nic: str) -> Guest:
        if nic in self.failures:
            # One failed boot per NIC is enough to know; later tests say so at once.
            pytest.fail(f"the {nic} guest did not come up earlier in this session: {self.failures[nic]}")
        guest = self.guests.get(nic)
        if guest is not None and not self._healthy(guest):
            guest.machine.kill()
            guest = None
        if guest is None:
            machine = start_machine(self.image, self.scratch, f"net-user-{nic}", nic=nic, config_text=guest_config())
            try:
                driver, mac, ip = wait_configured(machine)
                wire.wait_http("127.0.0.1", machine.port, timeout=BOOT_TIMEOUT)
            except Exception as error:
                machine.kill()
                self.failures[nic] = str(error).splitlines()[0] + f" (log: {machine.log_path})"
                raise
            guest = Guest(machine, "127.0.0.1", machine.port, driver, mac, ip)
            self.guests[nic] = guest
        return guest

    @staticmethod
    def _healthy(guest: Guest) -> bool:
        if not guest.machine.running:
            return False
        try:
            return guest.request("GET", "/health", timeout=60).status == 200
        except (OSError, AssertionError):
            return False

    def close(self) -> None:
        for guest in self.guests.values():
            guest.machine.kill()
        self.guests.clear()


@pytest.fixture(scope="session")
def user_guests(metal_build, tmp_path_factory):
    pool = UserGuests(metal_build / "aisos.iso", tmp_path_factory.mktemp("net-images"))
    yield pool
    pool.close()


@pytest.fixture
def user_guest(user_guests):
    return user_guests.get


@pytest.fixture
def guest(user_guests) -> Guest:
    return user_guests.get("virtio")


@pytest.fixture
def boot_guest(metal_build, tmp_path, request):
    """boot_guest(nic="none", config_text=None, extra_args=()) -> Machine; the
    machines are killed at teardown (before the namespaces they use go)."""
    machines: list[Machine] = []

    def factory(nic: str = "none", config_text: Optional[str] = None, extra_args: Sequence[str] = ()) -> Machine:
        machine = start_machine(metal_build / "aisos.iso", tmp_path, f"{request.node.name}-{len(machines)}",
                                nic=nic, config_text=config_text, extra_args=extra_args)
        machines.append(machine)
        return machine

    yield factory
    for machine in machines:
        machine.kill()


@pytest.fixture(scope="session")
def namespaces_usable():
    reason = netns_lib.usable()
    if reason:
        pytest.skip(f"no network namespaces here: {reason}")
    netns_lib.remove_stale()


@pytest.fixture
def netns(namespaces_usable):
    """netns() -> a new Namespace; all are deleted at teardown."""
    created: list[netns_lib.Namespace] = []

    def factory() -> netns_lib.Namespace:
        namespace = netns_lib.Namespace().create()
        created.append(namespace)
        return namespace

    yield factory
    for namespace in created:
        namespace.delete()


class RelayProcess:
    def __init__(self, namespace: netns_lib.Namespace, process: subprocess.Popen, stats_path: Path):
        self.namespace = namespace
        self.process = process
        self.stats_path = stats_path

    def stop(self) -> dict:
        """Stops the relay and returns its counters."""
        code = self.namespace.stop(self.process)
        output = self.process.stdout.read() if self.process.stdout else ""
        if code != 0:
            raise AssertionError(f"relay exited with {code}: {output}")
        return json.loads(self.stats_path.read_text())


@pytest.fixture
def start_relay(tmp_path):
    """start_relay(namespace, a, b, loss=0, duplicate=0, reorder=0, seed=1) ->
    RelayProcess, running inside `namespace` and ready (it said so)."""
    started: list[RelayProcess] = []

    def factory(namespace: netns_lib.Namespace, a: str, b: str, loss: float = 0.0, duplicate: float = 0.0,
                reorder: float = 0.0, seed: int = 1) -> RelayProcess:
        stats = tmp_path / f"relay{len(started)}.json"
        process = namespace.popen([sys.executable, str(RELAY), "--a", a, "--b", b, "--loss", str(loss),
                                   "--duplicate", str(duplicate), "--reorder", str(reorder), "--seed", str(seed),
                                   "--stats", str(stats)],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = process.stdout.readline()  # blocks until the relay is ready or gone
        if line.strip() != "relay: ready":
            process.wait(timeout=30)
            raise AssertionError(f"relay did not start: {line}{process.stdout.read()}")
        relay = RelayProcess(namespace, process, stats)
        started.append(relay)
        return relay

    yield factory
    for relay in started:
        relay.namespace.stop(relay.process)
