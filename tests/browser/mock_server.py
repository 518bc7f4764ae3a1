"""A tiny stand-in for the aiSOS HTTP API, used only by test_chat_page.py to
check the chat page quickly without booting QEMU.

It speaks just enough of ../../shared/API.md: GET / (the page), POST
/auth/login, POST /auth/logout, GET /auth/me, GET /v1/models and the GET /ws
chat protocol (token as `Sec-WebSocket-Protocol: bearer.<token>`), with
canned answers chosen by words in the last user message:

  "markdown"  a reply with a fenced code block, **bold** and `inline code`
  "script"    a reply whose tokens contain raw HTML (<script>, <img onerror>)
  "long"      up to LONG_TOKENS tokens, until the client sends {"type":"stop"}
  "fail"      {"type":"error","message":ERROR_MESSAGE}
  "drop"      two tokens, then the TCP connection is cut without a close frame
  otherwise   DEFAULT_REPLY, one word every TOKEN_GAP_S seconds

Every answer ends at options.max_tokens with finish_reason "length".

Users: alice has two models, bob gets 503 from /v1/models (module loading),
carol an empty model list, dave 404 (no module serves the route, as in aiSOS
without the llm module). Everything the page sends over /ws is recorded
in `MockServer.ws_messages` so tests can assert on it.

HTTP is parsed by hand (one request per connection, `Connection: close`):
the `websockets` package parses only GET requests, and the page needs POST
on the same origin as /ws. The WebSocket side uses websockets' sans-I/O
ServerProtocol on the same socket.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

from websockets.frames import Opcode
from websockets.server import ServerProtocol

USERS = {"alice": "alice-password-1", "bob": "bob-password-1", "carol": "carol-password-1", "dave": "dave-password-1"}
MODELS = ["tiny-llama-q8.gguf", "tiny-gemma-f16"]
DEFAULT_REPLY = "Hello from the mock model. It streams one word at a time."
TOKEN_GAP_S = 0.12
LONG_TOKENS = 2000
LONG_GAP_S = 0.03
ERROR_MESSAGE = "the model ran out of memory (mock)"
MARKDOWN_REPLY = ["Here ", "is ", "**bold** ", "and ", "`x < y`", ":\n\n", "```py", "thon\n", "for i in range(3):\n",
                  "    print(i < 2)\n", "```", "\n\nDone."]
SCRIPT_REPLY = ["Careful: ", "<script>", "window.__pwned = 1", "</script>", " and ", "<img src=x onerror=\"window.__pwned=2\">",
                " end"]


def _response(status: int, reason: str, body: bytes, content_type: str = "application/json",
              extra: Optional[dict] = None) -> bytes:
    head = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {content_type}", f"Content-Length: {len(body)}",
            "Connection: close", "Cache-Control: no-store", "Server: aiSOS-mock"]
    for name, value in (extra or {}).items():
        head.append(f"{name}: {value}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _error(status: int, reason: str, message: str, extra: Optional[dict] = None) -> bytes:
    return _response(status, reason, json.dumps({"error": {"code": status, "message": message}}).encode(), extra=extra)


class MockServer:
    def __init__(self, page: Path):
        self.page = page
        self.port = 0
        self.tokens: dict[str, str] = {}  # token -> user
        self.ws_messages: list[dict[str, Any]] = []
        self.http_requests: list[tuple[str, str]] = []
        self._cond = threading.Condition()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._server: Optional[asyncio.base_events.Server] = None
        self._thread: Optional[threading.Thread] = None
        self._ready = threading.Event()
        self._error: Optional[BaseException] = None

    # ---- lifecycle ----
    def start(self) -> "MockServer":
        self._thread = threading.Thread(target=self._run, name="chat-mock", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("mock server did not start")
        if self._error:
            raise RuntimeError(f"mock server failed: {self._error}")
        return self

    def stop(self) -> None:
        if self._loop and self._server:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)
        if self._loop and not self._loop.is_running():
            self._loop.close()

    async def _shutdown(self) -> None:
        # Connections chromium keeps open (idle keep-alive, preconnects) end here, not at garbage collection.
        self._server.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as error:  # reported by start()
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    # ---- what the tests look at ----
    def record(self, entry: dict[str, Any]) -> None:
        with self._cond:
            self.ws_messages.append(entry)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0) -> list[dict[str, Any]]:
        """Blocks until predicate(ws_messages) holds; raises TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.ws_messages):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"mock never saw the expected WebSocket messages; got {self.ws_messages!r}")
                self._cond.wait(left)
            return list(self.ws_messages)

    def chats(self) -> list[dict[str, Any]]:
        with self._cond:
            return [m for m in self.ws_messages if m.get("type") == "chat"]

    # ---- HTTP ----
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        self.http_requests.append((method, target))
        try:
            if method == "GET" and target == "/ws" and headers.get("upgrade", "").lower() == "websocket":
                await self._websocket(head, headers, reader, writer)
                return
            body = b""
            if "content-length" in headers:
                body = await reader.readexactly(int(headers["content-length"]))
            writer.write(self._http(method, target, headers, body))
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    def _user(self, headers: dict[str, str]) -> Optional[str]:
        auth = headers.get("authorization", "")
        return self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None

    def _http(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bytes:
        unauthorized = _error(401, "Unauthorized", "missing or invalid token", {"WWW-Authenticate": "Bearer"})
        if method == "GET" and target == "/":
            return _response(200, "OK", self.page.read_bytes(), "text/html; charset=utf-8")
        if method == "POST" and target == "/auth/login":
            try:
                request = json.loads(body)
                user, password = request["user"], request["password"]
            except (ValueError, KeyError, TypeError):
                return _error(400, "Bad Request", "expected {\"user\",\"password\"}")
            if USERS.get(user) != password:
                return _error(401, "Unauthorized", "invalid credentials")
            token = secrets.token_urlsafe(24)
            self.tokens[token] = user
            return _response(200, "OK", json.dumps({"token": token, "expires_in": 3600, "user": user,
                                                    "role": "user"}).encode())
        if method == "POST" and target == "/auth/logout":
            auth = headers.get("authorization", "")
            if self.tokens.pop(auth[7:], None) is None:
                return unauthorized
            return b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
        if method == "GET" and target == "/auth/me":
            user = self._user(headers)
            if not user:
                return unauthorized
            return _response(200, "OK", json.dumps({"user": user, "role": "user", "expires_at": 0}).encode())
        if method == "GET" and target == "/v1/models":
            user = self._user(headers)
            if not user:
                return unauthorized
            if user == "bob":
                return _error(503, "Service Unavailable", "the llm module is loading")
            if user == "dave":
                return _error(404, "Not Found", "no route for GET /v1/models")
            models = [] if user == "carol" else MODELS
            return _response(200, "OK", json.dumps({"object": "list", "data": [
                {"id": name, "object": "model", "created": 0, "owned_by": "aisos"} for name in models]}).encode())
        return _error(404, "Not Found", f"no route for {method} {target}")

    # ---- WebSocket (API.md GET /ws) ----
    async def _websocket(self, head: bytes, headers: dict[str, str], reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        offered = [item.strip() for item in headers.get("sec-websocket-protocol", "").split(",") if item.strip()]
        bearer = next((item for item in offered if item.startswith("bearer.")), None)
        user = self.tokens.get(bearer[len("bearer."):]) if bearer else None

        protocol = ServerProtocol(select_subprotocol=lambda _protocol, _offered: bearer)
        protocol.receive_data(head)
        request = protocol.events_received()[0]
        if user is None:
            response = protocol.reject(401, "missing or invalid token\n")
        else:
            response = protocol.accept(request)
        protocol.send_response(response)

        def flush() -> None:
            for data in protocol.data_to_send():
                if data:
                    writer.write(data)
                elif writer.can_write_eof():
                    writer.write_eof()

        flush()
        await writer.drain()
        if user is None:
            return
        self.record({"type": "_open", "user": user, "protocol": bearer})
        stopped = asyncio.Event()
        streamer: Optional[asyncio.Task] = None

        async def send(message: dict[str, Any]) -> None:
            protocol.send_text(json.dumps(message).encode())
            flush()
            await writer.drain()

        while True:
            data = await reader.read(65536)
            if data:
                protocol.receive_data(data)
            else:
                protocol.receive_eof()
            for frame in protocol.events_received():
                if frame.opcode != Opcode.TEXT:
                    continue
                assert frame.fin, "the page's messages are small and must not be fragmented"
                message = json.loads(frame.data)
                self.record(message)
                if message.get("type") == "chat" and (streamer is None or streamer.done()):
                    stopped.clear()
                    streamer = asyncio.ensure_future(self._answer(message, send, stopped, writer))
                elif message.get("type") == "stop":
                    stopped.set()
            flush()
            if not data or protocol.close_expected():
                break
        if streamer is not None and not streamer.done():
            streamer.cancel()
        self.record({"type": "_closed"})

    async def _answer(self, chat: dict[str, Any], send, stopped: asyncio.Event, writer: asyncio.StreamWriter) -> None:
        prompt = chat["messages"][-1]["content"]
        limit = chat.get("options", {}).get("max_tokens") or LONG_TOKENS
        count = 0
        finish = "stop"
        if "fail" in prompt:
            await send({"type": "error", "message": ERROR_MESSAGE})
            return
        if "drop" in prompt:
            for word in ("Partial ", "answer"):
                await send({"type": "token", "text": word})
            await asyncio.sleep(TOKEN_GAP_S)
            writer.transport.abort()
            return
        if "long" in prompt:
            pieces, gap = (f"w{i} " for i in range(LONG_TOKENS)), LONG_GAP_S
        elif "markdown" in prompt:
            pieces, gap = iter(MARKDOWN_REPLY), TOKEN_GAP_S
        elif "script" in prompt:
            pieces, gap = iter(SCRIPT_REPLY), TOKEN_GAP_S
        else:
            words = DEFAULT_REPLY.split(" ")
            pieces, gap = (w if i == 0 else " " + w for i, w in enumerate(words)), TOKEN_GAP_S
        for piece in pieces:
            if stopped.is_set():
                break
            if count == limit:
                finish = "length"
                break
            await send({"type": "token", "text": piece})
            count += 1
            try:
                await asyncio.wait_for(stopped.wait(), gap)
            except asyncio.TimeoutError:
                pass
        # Like rpk/llm: finish_reason "stop" also when the client stopped the answer.
        await send({"type": "done", "finish_reason": finish,
                    "usage": {"prompt_tokens": 7, "completion_tokens": count, "total_tokens": 7 + count}})
