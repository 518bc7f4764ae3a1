"""The lossy relay of tools/netlab/relay.py on its own, without QEMU: frames
between two local sockets, with and without impairment."""

from __future__ import annotations

import collections
import json
import os
import random
import socket
import struct
import subprocess
import sys
import threading

from netlab import relay as relay_lib

from .conftest import RELAY


class ListEndpoint(relay_lib.Endpoint):
    def __init__(self, name: str):
        self.name = name
        self.frames: list[bytes] = []

    def send(self, frame: bytes) -> bool:
        self.frames.append(frame)
        return True


def frames(count: int) -> list[bytes]:
    # Distinct, variable-size frames, each carrying its sequence number.
    rng = random.Random(7)
    return [struct.pack(">I", i) + rng.randbytes(rng.randrange(10, 1500)) for i in range(count)]


def test_direction_without_impairment_is_an_exact_wire():
    sink = ListEndpoint("sink")
    direction = relay_lib.Direction(ListEndpoint("source"), sink, relay_lib.Impairment(), random.Random(1))
    sent = frames(1000)
    for frame in sent:
        direction.handle(frame, now=0.0)
    direction.release()
    assert sink.frames == sent
    assert direction.stats.dropped == direction.stats.duplicated == direction.stats.reordered == 0


def test_direction_drops_duplicates_and_reorders_and_counts_it():
    sink = ListEndpoint("sink")
    impairment = relay_lib.Impairment(loss=0.03, duplicate=0.01, reorder=0.02)
    direction = relay_lib.Direction(ListEndpoint("source"), sink, impairment, random.Random(5))
    sent = frames(20000)
    for frame in sent:
        direction.handle(frame, now=0.0)
    direction.release()
    stats = direction.stats
    # Each decision is a Bernoulli trial; these bounds are > 6 sigma wide.
    assert 400 <= stats.dropped <= 800
    assert 100 <= stats.duplicated <= 320
    assert 200 <= stats.reordered <= 620

    counts = collections.Counter(sink.frames)
    assert set(counts) <= set(sent), "the relay invented or corrupted a frame"
    assert len(counts) == len(sent) - stats.dropped
    assert sum(count - 1 for count in counts.values()) == stats.duplicated
    assert len(sink.frames) == stats.sent == len(sent) - stats.dropped + stats.duplicated
    order = [struct.unpack(">I", frame[:4])[0] for frame in sink.frames]
    inversions = sum(1 for before, after in zip(order, order[1:]) if after < before)
    assert inversions >= stats.reordered // 2, "held frames must arrive after later ones"


def test_held_frame_leaves_when_its_time_is_up():
    sink = ListEndpoint("sink")
    direction = relay_lib.Direction(ListEndpoint("source"), sink,
                                    relay_lib.Impairment(reorder=1.0, hold_seconds=0.005), random.Random(1))
    direction.handle(b"only frame", now=10.0)
    assert sink.frames == []
    direction.release_if_due(10.001)
    assert sink.frames == []
    direction.release_if_due(10.005)
    assert sink.frames == [b"only frame"]


def test_bad_arguments_give_a_clear_error():
    for args, message in ((["--a", "pipe:x", "--b", "tap:t"], "unknown endpoint kind"),
                          (["--a", "unix:/nonexistent-dir/a", "--b", "tap:t"], "needs LOCAL,REMOTE"),
                          (["--a", "udp:127.0.0.1:x,127.0.0.1:1", "--b", "tap:t"], "is not HOST:PORT"),
                          (["--a", "udp:127.0.0.1:0,127.0.0.1:1", "--b", "udp:127.0.0.1:0,127.0.0.1:1",
                            "--loss", "1.5"], "loss must be between 0 and 1")):
        result = subprocess.run([sys.executable, str(RELAY), *args], capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        assert message in result.stderr


def test_relay_process_between_two_unix_sockets(tmp_path):
    """The real process: unix datagram sockets on both sides, 3% loss, 1%
    duplicates, 2% reordering; what arrives is checked against the counters
    the relay writes when it stops."""
    paths = {name: str(tmp_path / f"{name}.sock") for name in ("left", "relay-left", "right", "relay-right")}
    left = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    left.bind(paths["left"])
    right = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    right.bind(paths["right"])
    right.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    stats_path = tmp_path / "stats.json"
    relay = subprocess.Popen([sys.executable, str(RELAY),
                              "--a", f"unix:{paths['relay-left']},{paths['left']}",
                              "--b", f"unix:{paths['relay-right']},{paths['right']}",
                              "--loss", "0.03", "--duplicate", "0.01", "--reorder", "0.02", "--seed", "3",
                              # The reader thread below may be starved on a loaded host: wait for it.
                              "--send-wait-ms", "60000",
                              "--stats", str(stats_path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    received: list[bytes] = []
    stop_reading = threading.Event()

    def reader():
        right.settimeout(0.2)
        while True:
            try:
                received.append(right.recv(65536))
            except socket.timeout:
                if stop_reading.is_set():
                    return

    thread = threading.Thread(target=reader, daemon=True)
    try:
        assert relay.stdout.readline().strip() == "relay: ready"
        thread.start()
        # One frame the other way first: the relay polls both sockets, so it
        # has surely taken it by the time the bulk below has gone through.
        right.sendto(b"reply", paths["relay-right"])
        sent = frames(5000)
        for frame in sent:
            # Blocking send: a full relay socket makes us wait, not lose frames.
            left.sendto(frame, paths["relay-left"])
    finally:
        relay.terminate()
        relay.wait(timeout=60)
    stop_reading.set()
    thread.join(timeout=60)
    assert relay.returncode == 0, relay.stderr.read()

    stats = json.loads(stats_path.read_text())
    forward = stats["a_to_b"]
    assert forward["received"] == len(sent)
    assert forward["dropped"] > 0 and forward["duplicated"] > 0 and forward["reordered"] > 0
    assert forward["send_failed"] == 0, "the receiver kept up; nothing may be lost beyond the deliberate drops"
    assert len(received) == forward["sent"] == len(sent) - forward["dropped"] + forward["duplicated"]
    assert set(received) <= set(sent)
    assert len(set(received)) == len(sent) - forward["dropped"]
    assert stats["b_to_a"]["received"] == 1
    if stats["b_to_a"]["dropped"] == 0:
        left.settimeout(10)
        assert left.recv(100) == b"reply"
    left.close()
    right.close()
    assert not os.path.exists(paths["relay-left"]), "the relay removes its socket files"
