#!/usr/bin/env python3
"""Interoperability check of the portable HTTP server with real clients.

Starts build/<tree>/bin/http_host_server on a loopback port and talks to it
with Python's http.client (keep-alive, pipelining-free sequences, chunked
upload, Expect: 100-continue, Range, HEAD, streamed response) and, when the
`websockets` package is installed, a WebSocket client (echo of text, 5 MB
binary, fragmented message, ping, close codes, invalid UTF-8 -> 1007).

    python3 tests/unit/http/host_interop.py [build/http-host/bin/http_host_server]
"""
import asyncio
import http.client
import os
import socket
import subprocess
import sys
import time


def checksum(data):
    value = 0
    for byte in data:
        value = (value * 31 + byte) & 0xFFFFFFFFFFFFFFFF
    return value


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/http-host/bin/http_host_server"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([binary, str(port), "120"], stdout=subprocess.PIPE, text=True)
    try:
        assert "listening" in server.stdout.readline()
        run_http(port)
        try:
            import websockets  # noqa: F401
        except ImportError:
            print("websockets not installed: WebSocket checks skipped")
        else:
            asyncio.run(run_websocket(port))
        print("host interop: all checks passed")
    finally:
        server.terminate()
        server.wait()


def run_http(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(1000):  # keep-alive on one connection
        connection.request("GET", "/health")
        response = connection.getresponse()
        assert response.status == 200 and response.read() == b'{"status":"ok"}'
        assert response.getheader("Server") == "aiSOS/0.1.0" and response.getheader("Date")

    body = os.urandom(3_000_000)
    expected = '{"bytes":%d,"hash":%d}' % (len(body), checksum(body))
    connection.request("PUT", "/upload/a", body=body)
    response = connection.getresponse()
    assert response.status == 201 and response.read().decode() == expected

    def pieces():
        for i in range(0, len(body), 65536):
            yield body[i:i + 65536]
    connection.request("PUT", "/upload/b", body=pieces(), encode_chunked=True)
    response = connection.getresponse()
    assert response.status == 201 and response.read().decode() == expected

    connection.request("GET", "/file", headers={"Range": "bytes=10-19"})
    response = connection.getresponse()
    assert response.status == 206 and response.read() == b"klmnopqrst"
    assert response.getheader("Content-Range") == "bytes 10-19/100000"
    connection.request("GET", "/file", headers={"Range": "bytes=200000-"})
    response = connection.getresponse()
    assert response.status == 416 and b'"code":416' in response.read()
    connection.request("HEAD", "/file")
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("Content-Length") == "100000" and response.read() == b""
    connection.request("GET", "/stream")
    response = connection.getresponse()
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.read().decode().endswith("token98 token99 ")
    connection.request("GET", "/nope")
    response = connection.getresponse()
    assert response.status == 404 and b'"code":404' in response.read()
    connection.close()

    # Expect: 100-continue by hand: the interim response comes before the body is sent.
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(b"PUT /upload/c HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        assert raw.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        raw.sendall(b"hello")
        reply = b""
        while b'"hash"' not in reply:
            reply += raw.recv(1000)
        assert reply.startswith(b"HTTP/1.1 201 ")

    # A smuggling shape is refused with 400 and the connection closes.
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        reply = b""
        while True:
            chunk = raw.recv(1000)
            if not chunk:
                break
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 400 ") and b"Connection: close" in reply
    print("http: keep-alive x1000, uploads (length, chunked, 100-continue), Range/416, HEAD, streaming, 404, CL+TE 400: ok")


async def run_websocket(port):
    import websockets
    url = "ws://127.0.0.1:%d/ws" % port
    async with websockets.connect(url, max_size=20 * 1024 * 1024) as ws:
        await ws.send("hello κόσμε")
        assert await ws.recv() == "hello κόσμε"
        big = os.urandom(5 * 1024 * 1024)
        await ws.send(big)
        assert await ws.recv() == big
        await ws.send(iter(["frag", "ment", "ed ✓"]))
        assert await ws.recv() == "fragmented ✓"
        await (await ws.ping(b"abc"))
        for i in range(200):
            await ws.send("m%d" % i)
        for i in range(200):
            assert await ws.recv() == "m%d" % i
        await ws.close(code=1000, reason="done")
        assert ws.close_code == 1000
    async with websockets.connect(url) as ws:
        ws.transport.write(bytes([0x81, 0x82, 1, 2, 3, 4, 0xFF ^ 1, 0xFE ^ 2]))  # masked text "\xff\xfe"
        try:
            await ws.recv()
            raise AssertionError("no close after invalid UTF-8")
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1007
    print("websocket: text, 5 MB binary, fragments, ping, 200 messages, close 1000, invalid UTF-8 -> 1007: ok")


if __name__ == "__main__":
    main()
