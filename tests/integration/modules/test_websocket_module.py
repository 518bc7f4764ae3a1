"""WebSocket routes and read-only file mapping for modules, with the
ws_echo test module (tests/modules/ws_echo): a client's messages reach the
module and its answers come back one message each, the module can close a
connection, a client that leaves is reported to the module; a /fs file
mapped with file_map has exactly the file's bytes, and writing to the
mapping kills the module (it is read-only), which the supervisor restarts.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest
import requests
import websockets

BOOT_TIMEOUT = 300
PASSWORD = "websocket-test-password-1"


@pytest.fixture
def guest(boot, metal_build):
    package = metal_build / "modules" / "ws_echo.rpk"
    if not package.is_file():
        pytest.skip(f"{package} missing; run ./aisos build")
    machine = boot(smp=4, mem=2048, config_text=f"admin_password={PASSWORD}\n")
    machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT)
    base = f"http://127.0.0.1:{machine.port}"
    login = requests.post(f"{base}/auth/login", json={"user": "admin", "password": PASSWORD}, timeout=120)
    assert login.status_code == 200, login.text
    headers = {"Authorization": "Bearer " + login.json()["token"]}
    return machine, base, headers, package.read_bytes()


def install(base, headers, package):
    response = requests.post(f"{base}/pkg/install", data=package, headers=headers, timeout=120)
    assert response.status_code in (200, 201), response.text
    assert response.json()["state"] == "running"


def test_websocket_messages_reach_the_module_and_back(guest):
    machine, base, headers, package = guest
    install(base, headers, package)
    machine.wait_for(r"ws_echo: started", timeout=60)

    async def talk():
        async with websockets.connect(f"ws://127.0.0.1:{machine.port}/ws_echo", open_timeout=60) as socket:
            assert await asyncio.wait_for(socket.recv(), 60) == "open "
            for message in ["hello", "ü" * 300, "x" * 20000]:
                await socket.send(message)
                # The module echoes at most 400 bytes.
                assert await asyncio.wait_for(socket.recv(), 60) == "echo: " + message.encode()[:400].decode()
            # The module ends the connection: a clean close, code 1000.
            await socket.send("close")
            with pytest.raises(websockets.ConnectionClosedOK):
                await asyncio.wait_for(socket.recv(), 60)
            assert socket.close_code == 1000
        # The client leaves on its own: the module is told.
        async with websockets.connect(f"ws://127.0.0.1:{machine.port}/ws_echo", open_timeout=60) as socket:
            assert await asyncio.wait_for(socket.recv(), 60) == "open "

    asyncio.run(talk())
    machine.wait_for(r"ws_echo: closed \d+", timeout=60)
    # A plain GET on a WebSocket route is refused by the upgrade check.
    assert requests.get(f"{base}/ws_echo", timeout=60).status_code == 426


def test_file_map_shows_the_file_and_is_read_only(guest):
    machine, base, headers, package = guest
    blob = os.urandom(3 * 4096 + 123)
    put = requests.put(f"{base}/fs/data/ws_echo/blob", data=blob, headers=headers, timeout=120)
    assert put.status_code in (201, 204), put.text
    install(base, headers, package)
    machine.wait_for(r"ws_echo: started", timeout=60)

    mapped = requests.get(f"{base}/ws_echo/map", timeout=60)
    assert mapped.status_code == 200, mapped.text
    size, total, unmapped = (int(x) for x in mapped.text.split())
    assert (size, total, unmapped) == (len(blob), sum(blob), 0)

    # Writing into the mapping faults: the module is killed (the request
    # gets 503) and restarted by the supervisor.
    crashed = requests.get(f"{base}/ws_echo/map-write", timeout=60)
    assert crashed.status_code == 503, crashed.text
    machine.wait_for(r"ws_echo \(pid \d+\) thread \d+ crashed: page fault \(protection violation, write\)", timeout=60)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        listing = {p["name"]: p for p in requests.get(f"{base}/pkg", headers=headers, timeout=60).json()}
        if listing["ws_echo"]["state"] == "running" and listing["ws_echo"]["restarts"] >= 1:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"ws_echo was not restarted: {listing}")
    again = requests.get(f"{base}/ws_echo/map", timeout=60)
    assert again.status_code == 200 and again.text.split()[:2] == [str(len(blob)), str(sum(blob))]
