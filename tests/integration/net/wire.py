"""Small, strict HTTP/1.1 client pieces for the network tests: raw sockets,
so that tests control exactly which bytes go out (pipelining, malformed
requests) and see exactly what comes back (status, headers, framing, EOF)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import socket
import time
from typing import Optional

import numpy

# Generous: TCG on two shared cores, and several guests may run at once.
IO_TIMEOUT = 120.0

# GET /debug/bytes?n=N: byte i = (i * 2654435761 >> 13) & 0xff.
_GOLDEN = 2654435761


def debug_bytes(start: int, count: int) -> bytes:
    """Bytes [start, start+count) of the /debug/bytes generator. Bits 13..20
    of the product are the same whether the server multiplies in 32 or 64
    bits, so either implementation matches."""
    index = numpy.arange(start, start + count, dtype=numpy.uint64)
    return (((index * numpy.uint64(_GOLDEN)) >> numpy.uint64(13)) & numpy.uint64(0xFF)).astype(numpy.uint8).tobytes()


def debug_bytes_sha256(count: int, chunk: int = 16 << 20) -> str:
    digest = hashlib.sha256()
    for start in range(0, count, chunk):
        digest.update(debug_bytes(start, min(chunk, count - start)))
    return digest.hexdigest()


class ProtocolError(AssertionError):
    """The server sent something that is not valid HTTP/1.1 framing."""


@dataclasses.dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> Optional[str]:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        if len(values) > 1:
            raise ProtocolError(f"header {name} appears {len(values)} times")
        return values[0] if values else None

    def json(self):
        return json.loads(self.body)

    @property
    def closes(self) -> bool:
        connection = self.header("Connection") or ""
        return "close" in [token.strip().lower() for token in connection.split(",")]


class Reader:
    """Reads HTTP responses off one socket, keeping bytes that belong to the
    next response (keep-alive, pipelining)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = bytearray()
        self.eof = False

    def _fill(self) -> None:
        data = self.sock.recv(1 << 20)
        if not data:
            self.eof = True
            raise ProtocolError(f"connection closed by the server in the middle of a response "
                                f"(have {bytes(self.buffer[:200])!r})")
        self.buffer += data

    def _line(self) -> bytes:
        while True:
            end = self.buffer.find(b"\r\n")
            if end != -1:
                line = bytes(self.buffer[:end])
                del self.buffer[:end + 2]
                return line
            if len(self.buffer) > 1 << 16:
                raise ProtocolError("response line or header longer than 64 KiB")
            self._fill()

    def _exact(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self._fill()
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def read_response(self, method: str = "GET") -> Response:
        while True:
            line = self._line()
            match = re.fullmatch(rb"HTTP/1\.1 (\d{3}) ?(.*)", line)
            if not match:
                raise ProtocolError(f"bad status line {line!r}")
            status = int(match.group(1))
            headers = []
            while True:
                line = self._line()
                if not line:
                    break
                name, colon, value = line.partition(b":")
                if not colon or not re.fullmatch(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
                    raise ProtocolError(f"bad header line {line!r}")
                headers.append((name.decode(), value.strip(b" \t").decode("latin-1")))
            if 100 <= status < 200:
                continue  # interim (100 Continue): the final response follows
            response = Response(status, match.group(2).decode("latin-1"), headers, b"")
            response.body = self._body(response, method)
            return response

    def _body(self, response: Response, method: str) -> bytes:
        if method == "HEAD" or response.status in (204, 304):
            return b""
        encoding = response.header("Transfer-Encoding")
        length = response.header("Content-Length")
        if encoding is not None:
            if length is not None:
                raise ProtocolError("response has both Transfer-Encoding and Content-Length")
            if encoding.lower() != "chunked":
                raise ProtocolError(f"unexpected Transfer-Encoding {encoding!r}")
            body = bytearray()
            while True:
                size_line = self._line().split(b";")[0].strip()
                if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size_line):
                    raise ProtocolError(f"bad chunk size {size_line!r}")
                size = int(size_line, 16)
                if size == 0:
                    while self._line():
                        pass  # trailer fields
                    return bytes(body)
                body += self._exact(size)
                if self._exact(2) != b"\r\n":
                    raise ProtocolError("chunk not followed by CRLF")
        if length is not None:
            if not re.fullmatch(r"\d{1,18}", length):
                raise ProtocolError(f"bad Content-Length {length!r}")
            return self._exact(int(length))
        # Neither: the body runs to the end of the connection.
        body = bytearray(self.buffer)
        self.buffer.clear()
        while True:
            data = self.sock.recv(1 << 20)
            if not data:
                self.eof = True
                return bytes(body)
            body += data

    def at_eof(self, timeout: float = IO_TIMEOUT) -> bool:
        """Waits until the server closes the connection; True when it did
        (any bytes that arrive first make it False)."""
        if self.buffer:
            return False
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        if data:
            self.buffer += data
            return False
        self.eof = True
        return True


def connect(host: str, port: int, timeout: float = IO_TIMEOUT) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def request_bytes(method: str, path: str, body: Optional[bytes] = None, headers: Optional[dict] = None,
                  host: str = "aisos") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    headers = dict(headers or {})
    if body is not None and not any(k.lower() in ("content-length", "transfer-encoding") for k in headers):
        headers["Content-Length"] = str(len(body))
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def request(host: str, port: int, method: str, path: str, body: Optional[bytes] = None,
            headers: Optional[dict] = None, timeout: float = IO_TIMEOUT) -> Response:
    """One request on a fresh connection."""
    with connect(host, port, timeout) as sock:
        sock.sendall(request_bytes(method, path, body, headers))
        return Reader(sock).read_response(method)


def wait_http(host: str, port: int, path: str = "/health", timeout: float = 300.0,
              connect_hook=None) -> Response:
    """Retries GET `path` until a response arrives (the guest may still be
    configuring its interface or answering ARP). connect_hook, when given,
    makes the socket (e.g. inside a network namespace)."""
    deadline = time.monotonic() + timeout
    last_error: Optional[BaseException] = None
    while time.monotonic() < deadline:
        try:
            sock = connect_hook() if connect_hook else connect(host, port, timeout=10)
            with sock:
                sock.settimeout(20)
                sock.sendall(request_bytes("GET", path))
                return Reader(sock).read_response()
        except (OSError, ProtocolError) as error:
            last_error = error
            # A refused connect returns at once: pace the retries (the wait
            # itself is bounded by the event, an answer, not by this pause).
            time.sleep(0.5)
    raise TimeoutError(f"no HTTP answer from {host}:{port}{path} within {timeout:.0f} s (last error: {last_error})")
