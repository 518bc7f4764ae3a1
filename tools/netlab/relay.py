#!/usr/bin/env python3
"""A lossy Ethernet relay: forwards frames between two endpoints and, in each
direction independently, drops, duplicates and reorders them.

Endpoints (one frame per datagram or per tap read/write):
  unix:LOCAL,REMOTE    a unix datagram socket bound at LOCAL that sends to
                       REMOTE; QEMU's `-netdev dgram,local.type=unix,...`
                       on the other side (unix paths are not confined by
                       network namespaces, so QEMU in the root namespace
                       and the relay inside a test namespace can meet).
  udp:HOST:PORT,HOST:PORT  the same with UDP (local, then remote).
  tap:NAME             a TAP device created by the relay in its current
                       network namespace (run it with `ip netns exec`).

    python3 tools/netlab/relay.py --a unix:/tmp/r.sock,/tmp/q.sock --b tap:nl0 \\
        --loss 0.03 --duplicate 0.01 --reorder 0.02 --seed 1 --stats /tmp/stats.json

The relay prints "relay: ready" on stdout once both endpoints are open, runs
until SIGTERM or SIGINT, forwards what is already queued to it, then writes
its counters as JSON to --stats (and to stdout). Decisions come from a seeded random generator per direction, so a
run with the same traffic is reproducible.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import fcntl
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time
from typing import Optional

MAX_FRAME = 65536
# Default longest wait for room in a full datagram peer before the frame is lost.
SEND_WAIT_SECONDS = 0.5

# linux/if_tun.h
TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


class EndpointError(Exception):
    pass


class Endpoint:
    """One side of the relay: a file descriptor that yields and takes whole
    Ethernet frames."""

    name: str

    def fileno(self) -> int:
        raise NotImplementedError

    def receive(self) -> Optional[bytes]:
        """The next frame, or None when none is waiting."""
        raise NotImplementedError

    def send(self, frame: bytes) -> bool:
        """False when the far side cannot take the frame (not there yet,
        buffer full): the frame is lost, like on a wire."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class DatagramEndpoint(Endpoint):
    def __init__(self, family: int, local, remote, name: str, send_wait: float = SEND_WAIT_SECONDS):
        self.name = name
        self.remote = remote
        self.send_wait = send_wait
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        if family == socket.AF_UNIX:
            try:
                os.unlink(local)
            except FileNotFoundError:
                pass
        # Large buffers: the relay must not be the narrowest queue on the path.
        for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, option, 4 << 20)
            except OSError:
                pass
        self.sock.bind(local)
        self.sock.setblocking(False)
        self.local = local

    def fileno(self) -> int:
        return self.sock.fileno()

    def receive(self) -> Optional[bytes]:
        try:
            return self.sock.recv(MAX_FRAME)
        except (BlockingIOError, InterruptedError):
            return None
        except ConnectionRefusedError:
            return None  # an earlier send found nobody; not a receive error

    def send(self, frame: bytes) -> bool:
        # A unix datagram receiver holds only net.unix.max_dgram_qlen frames
        # (10 by default). When the peer's queue is full, wait a little for
        # it to drain, as a NIC with flow control would, rather than lose
        # frames nobody chose to drop; a peer that is gone loses them.
        deadline = None
        while True:
            try:
                self.sock.sendto(frame, self.remote)
                return True
            except (BlockingIOError, InterruptedError):
                now = time.monotonic()
                deadline = deadline or now + self.send_wait
                if now >= deadline:
                    return False
                select.select([], [self.sock], [], deadline - now)
            except (ConnectionRefusedError, FileNotFoundError):
                return False
            except OSError as error:
                if error.errno in (errno.ENOBUFS, errno.EAGAIN, errno.ECONNREFUSED, errno.ENOENT):
                    return False
                raise

    def close(self) -> None:
        self.sock.close()
        if isinstance(self.local, str):
            try:
                os.unlink(self.local)
            except OSError:
                pass


class TapEndpoint(Endpoint):
    def __init__(self, interface: str):
        if not interface or len(interface.encode()) > 15:
            raise EndpointError(f"tap name {interface!r} must have 1 to 15 bytes")
        self.name = f"tap:{interface}"
        try:
            self.fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as error:
            raise EndpointError(f"cannot open /dev/net/tun: {error.strerror}") from error
        try:
            fcntl.ioctl(self.fd, TUNSETIFF, struct.pack("16sH", interface.encode(), IFF_TAP | IFF_NO_PI))
        except OSError as error:
            os.close(self.fd)
            raise EndpointError(f"cannot create tap {interface}: {error.strerror}") from error

    def fileno(self) -> int:
        return self.fd

    def receive(self) -> Optional[bytes]:
        try:
            return os.read(self.fd, MAX_FRAME)
        except (BlockingIOError, InterruptedError):
            return None

    def send(self, frame: bytes) -> bool:
        try:
            os.write(self.fd, frame)
            return True
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as error:
            if error.errno in (errno.EIO, errno.ENOBUFS):  # interface down, queue full
                return False
            raise

    def close(self) -> None:
        os.close(self.fd)


def _split_pair(text: str, spec: str) -> tuple[str, str]:
    local, comma, remote = text.partition(",")
    if not comma or not local or not remote:
        raise EndpointError(f"endpoint {spec!r} needs LOCAL,REMOTE")
    return local, remote


def _host_port(text: str, spec: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise EndpointError(f"endpoint {spec!r}: {text!r} is not HOST:PORT")
    return host, int(port)


def open_endpoint(spec: str, send_wait: float = SEND_WAIT_SECONDS) -> Endpoint:
    kind, colon, rest = spec.partition(":")
    if not colon:
        raise EndpointError(f"endpoint {spec!r} must start with unix:, udp: or tap:")
    if kind == "unix":
        local, remote = _split_pair(rest, spec)
        return DatagramEndpoint(socket.AF_UNIX, local, remote, spec, send_wait)
    if kind == "udp":
        local, remote = _split_pair(rest, spec)
        return DatagramEndpoint(socket.AF_INET, _host_port(local, spec), _host_port(remote, spec), spec, send_wait)
    if kind == "tap":
        return TapEndpoint(rest)
    raise EndpointError(f"unknown endpoint kind {kind!r} in {spec!r} (unix, udp or tap)")


@dataclasses.dataclass
class Impairment:
    loss: float = 0.0  # probability a frame is dropped
    duplicate: float = 0.0  # probability a forwarded frame is sent twice
    reorder: float = 0.0  # probability a frame is held back and sent after the next one
    hold_seconds: float = 0.005  # a held frame goes out after this long if nothing follows it

    def validate(self) -> None:
        for name in ("loss", "duplicate", "reorder"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        if self.hold_seconds <= 0:
            raise ValueError("hold_seconds must be positive")


@dataclasses.dataclass
class DirectionStats:
    received: int = 0
    received_bytes: int = 0
    dropped: int = 0
    duplicated: int = 0
    reordered: int = 0
    sent: int = 0
    send_failed: int = 0


class Direction:
    """Frames from `source` to `sink` with one impairment decision per frame.
    At most one frame is held back at a time: it leaves right after the next
    frame that is forwarded (a swap), or when its hold time runs out."""

    def __init__(self, source: Endpoint, sink: Endpoint, impairment: Impairment, rng: random.Random):
        self.source = source
        self.sink = sink
        self.impairment = impairment
        self.rng = rng
        self.stats = DirectionStats()
        self.held: Optional[bytes] = None
        self.held_until = 0.0

    def _emit(self, frame: bytes) -> None:
        if self.sink.send(frame):
            self.stats.sent += 1
        else:
            self.stats.send_failed += 1

    def handle(self, frame: bytes, now: float) -> None:
        self.stats.received += 1
        self.stats.received_bytes += len(frame)
        rng, impairment = self.rng, self.impairment
        if rng.random() < impairment.loss:
            self.stats.dropped += 1
            return
        copies = 2 if rng.random() < impairment.duplicate else 1
        if copies == 2:
            self.stats.duplicated += 1
        if self.held is None and rng.random() < impairment.reorder:
            self.stats.reordered += 1
            self.held = frame
            self.held_until = now + impairment.hold_seconds
            if copies == 2:
                self._emit(frame)  # the duplicate overtakes its original
            return
        for _ in range(copies):
            self._emit(frame)
        self.release()

    def release(self) -> None:
        if self.held is not None:
            frame, self.held = self.held, None
            self._emit(frame)

    def release_if_due(self, now: float) -> None:
        if self.held is not None and now >= self.held_until:
            self.release()

    def next_deadline(self) -> Optional[float]:
        return self.held_until if self.held is not None else None


class Relay:
    def __init__(self, a: Endpoint, b: Endpoint, a_to_b: Impairment, b_to_a: Impairment, seed: int):
        a_to_b.validate()
        b_to_a.validate()
        self.a, self.b = a, b
        self.directions = {
            a.fileno(): Direction(a, b, a_to_b, random.Random(f"{seed}:a->b")),
            b.fileno(): Direction(b, a, b_to_a, random.Random(f"{seed}:b->a")),
        }
    def run(self, stop_fd: int) -> None:
        """Forwards until `stop_fd` becomes readable (the signal wake-up pipe)."""
        self._forward(stop_fd)
        # Frames already queued to the relay still go through, so the
        # counters describe everything the endpoints handed over.
        now = time.monotonic()
        for direction in self.directions.values():
            for _ in range(1 << 16):
                frame = direction.source.receive()
                if frame is None:
                    break
                direction.handle(frame, now)
            direction.release()

    def _forward(self, stop_fd: int) -> None:
        poller = select.poll()
        for fd in self.directions:
            poller.register(fd, select.POLLIN)
        poller.register(stop_fd, select.POLLIN)
        while True:
            deadlines = [d for d in (direction.next_deadline() for direction in self.directions.values()) if d is not None]
            timeout_ms = None  # None: sleep until a frame arrives
            if deadlines:
                timeout_ms = max(0, int((min(deadlines) - time.monotonic()) * 1000) + 1)
            ready = poller.poll(timeout_ms)
            now = time.monotonic()
            for fd, _ in ready:
                if fd == stop_fd:
                    return
                direction = self.directions[fd]
                # Drain what is waiting, bounded so the other direction is not starved.
                for _ in range(256):
                    frame = direction.source.receive()
                    if frame is None:
                        break
                    direction.handle(frame, now)
            for direction in self.directions.values():
                direction.release_if_due(now)

    def stats(self) -> dict:
        a_to_b = self.directions[self.a.fileno()]
        b_to_a = self.directions[self.b.fileno()]
        return {"a": self.a.name, "b": self.b.name,
                "a_to_b": dataclasses.asdict(a_to_b.stats), "b_to_a": dataclasses.asdict(b_to_a.stats)}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="relay.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", required=True, help="first endpoint (unix:LOCAL,REMOTE | udp:H:P,H:P | tap:NAME)")
    parser.add_argument("--b", required=True, help="second endpoint")
    parser.add_argument("--loss", type=float, default=0.0, help="drop probability per frame, both directions")
    parser.add_argument("--duplicate", type=float, default=0.0, help="duplication probability per frame")
    parser.add_argument("--reorder", type=float, default=0.0, help="probability a frame is held behind the next")
    parser.add_argument("--hold-ms", type=float, default=5.0, help="longest time a reordered frame is held")
    parser.add_argument("--send-wait-ms", type=float, default=SEND_WAIT_SECONDS * 1000,
                        help="how long a frame waits for room in a full datagram peer before it is lost")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stats", help="write the counters as JSON here on exit")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    impairment = Impairment(loss=args.loss, duplicate=args.duplicate, reorder=args.reorder,
                            hold_seconds=args.hold_ms / 1000.0)
    try:
        impairment.validate()
        if args.send_wait_ms < 0:
            raise ValueError("--send-wait-ms must not be negative")
        a = open_endpoint(args.a, args.send_wait_ms / 1000.0)
        b = open_endpoint(args.b, args.send_wait_ms / 1000.0)
    except (EndpointError, ValueError, OSError) as error:
        print(f"relay: {error}", file=sys.stderr)
        return 2
    relay = Relay(a, b, impairment, dataclasses.replace(impairment), args.seed)
    # The handlers do nothing themselves: the wake-up pipe makes the poll
    # loop return between two frames, so no frame is lost half-handled.
    stop_read, stop_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(stop_write)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    print("relay: ready", flush=True)
    try:
        relay.run(stop_read)
    finally:
        stats = json.dumps(relay.stats())
        if args.stats:
            temporary = f"{args.stats}.tmp"
            with open(temporary, "w") as f:
                f.write(stats + "\n")
            os.replace(temporary, args.stats)
        print(stats, flush=True)
        a.close()
        b.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
