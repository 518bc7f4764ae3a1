"""Connection handling over user networking: 1000 keep-alive requests on one
connection, pipelining, and 200 connections open at once (issue 4)."""

from __future__ import annotations

import socket
from typing import Sequence

from . import wire


def test_thousand_keep_alive_requests_on_one_connection(guest):
    with guest.connect() as sock:
        reader = wire.Reader(sock)
        local = sock.getsockname()
        for index in range(1000):
            sock.sendall(wire.request_bytes("GET", "/health"))
            response = reader.read_response()
            assert response.status == 200, f"request {index}: {response.status}"
            assert response.json() == {"status": "ok"}
            assert not response.closes, f"request {index}: the server asked to close a keep-alive connection"
        assert sock.getsockname() == local  # one connection all along
        # Still open and usable at the end.
        sock.sendall(wire.request_bytes("GET", "/health", headers={"Connection": "close"}))
        assert reader.read_response().status == 200
        assert reader.at_eof(), "the server must close after Connection: close"


def test_pipelined_requests_are_answered_in_order(guest):
    sizes = [1 + 97 * index for index in range(100)]
    with guest.connect() as sock:
        # All 100 requests in one write, before reading anything.
        sock.sendall(b"".join(wire.request_bytes("GET", f"/debug/bytes?n={n}") for n in sizes))
        reader = wire.Reader(sock)
        for n in sizes:
            response = reader.read_response()
            assert response.status == 200
            assert response.body == wire.debug_bytes(0, n), f"response for n={n} out of order or wrong"


def exchange_one_request_each(sockets: Sequence[socket.socket]) -> None:
    """Sends a different request on every socket, then checks that each one
    got the answer to its own request."""
    sizes = [1000 + 7 * index for index in range(len(sockets))]
    for sock, n in zip(sockets, sizes):
        sock.sendall(wire.request_bytes("GET", f"/debug/bytes?n={n}", headers={"Connection": "close"}))
    failures = []
    for index, (sock, n) in enumerate(zip(sockets, sizes)):
        # The answers are small and fit in the socket buffers, so reading
        # them one after the other does not hold the server up.
        try:
            response = wire.Reader(sock).read_response()
        except (OSError, AssertionError) as error:
            failures.append(f"connection {index}: {error}")
            continue
        if response.status != 200 or response.body != wire.debug_bytes(0, n):
            failures.append(f"connection {index}: status {response.status}, {len(response.body)} bytes for n={n}")
    assert not failures, f"{len(failures)} of {len(sockets)} connections failed:\n" + "\n".join(failures[:20])


def test_two_hundred_concurrent_connections(guest):
    sockets = [guest.connect() for _ in range(200)]
    try:
        exchange_one_request_each(sockets)
    finally:
        for sock in sockets:
            sock.close()
    # The server is still fine afterwards.
    assert guest.request("GET", "/health").status == 200
