"""WebSocket echo (GET /ws/echo) with the `websockets` client from PyPI: text
and binary, fragmented and large messages, ping/pong and a clean close
(RFC 6455, issue 4)."""

from __future__ import annotations

import random

import pytest

websockets_client = pytest.importorskip("websockets.sync.client", reason="pip install websockets (build/venv)")
from websockets.exceptions import ConnectionClosed  # noqa: E402

TIMEOUT = 120


def connect(guest):
    # No compression and no automatic pings: the test decides every frame.
    return websockets_client.connect(f"ws://127.0.0.1:{guest.port}/ws/echo", compression=None, proxy=None,
                                     ping_interval=None, open_timeout=TIMEOUT, close_timeout=TIMEOUT,
                                     max_size=16 << 20)


def test_text_and_binary_messages_are_echoed_with_their_type(guest):
    with connect(guest) as ws:
        for message in ("hello", "", "ünïcødé ✓ 𝄞", "x" * 125, "y" * 126, "z" * 65535, "w" * 65536):
            ws.send(message)
            echoed = ws.recv(timeout=TIMEOUT)
            assert isinstance(echoed, str), "a text message must come back as text"
            assert echoed == message
        for message in (b"", b"\x00\xff" * 3, bytes(range(256)) * 300):
            ws.send(message)
            echoed = ws.recv(timeout=TIMEOUT)
            assert isinstance(echoed, bytes), "a binary message must come back as binary"
            assert echoed == message


def test_fragmented_messages_are_echoed_whole(guest):
    with connect(guest) as ws:
        # An iterable is sent as one message in several frames (FIN on the last).
        ws.send(["frag", "mented ", "téxt", ""])
        assert ws.recv(timeout=TIMEOUT) == "fragmented téxt"
        # A multi-byte UTF-8 character split across two frames is still valid text.
        snowman = "☃".encode()
        ws.send([snowman[:1], snowman[1:]], text=True)
        assert ws.recv(timeout=TIMEOUT) == "☃"
        parts = [bytes([index]) * (1000 + index) for index in range(20)]
        ws.send(parts)
        assert ws.recv(timeout=TIMEOUT) == b"".join(parts)


def test_large_messages(guest):
    rng = random.Random(4)
    with connect(guest) as ws:
        binary = rng.randbytes(1 << 20)
        ws.send(binary)
        assert ws.recv(timeout=TIMEOUT) == binary
        # Mixed-width UTF-8 (1 to 4 bytes a character) just under 1 MiB, the
        # server's message limit (HttpLimits::websocket_max_message).
        text = "".join(rng.choice("aé€𝄞 ") for _ in range(470_000))
        assert 1_000_000 < len(text.encode()) <= 1 << 20
        ws.send(text)
        assert ws.recv(timeout=TIMEOUT) == text


def test_many_messages_in_flight(guest):
    with connect(guest) as ws:
        messages = [f"message {index}" for index in range(500)]
        for message in messages:
            ws.send(message)
        assert [ws.recv(timeout=TIMEOUT) for _ in messages] == messages


def test_ping_is_answered_with_pong_between_messages(guest):
    with connect(guest) as ws:
        ws.send("before")
        pong = ws.ping(b"are you there")
        ws.send("after")
        assert ws.recv(timeout=TIMEOUT) == "before"
        assert ws.recv(timeout=TIMEOUT) == "after"
        assert pong.wait(TIMEOUT), "no pong for the ping"


def test_clean_close(guest):
    with connect(guest) as ws:
        ws.send("bye")
        assert ws.recv(timeout=TIMEOUT) == "bye"
        ws.close(code=1000, reason="done")
        # The server answered our close frame with its own (echoing the code);
        # without one the client would report 1006.
        assert ws.close_code == 1000
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=TIMEOUT)
    # And the server is still serving.
    assert guest.request("GET", "/health").status == 200
