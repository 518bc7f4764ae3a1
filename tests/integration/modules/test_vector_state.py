"""Per-thread vector state: the vector_state module (tests/modules/vector_state)
runs more threads than there are module CPUs, each holding its own pattern
in all XMM/YMM registers across preemptions, yields and migrations, and
counts any register that comes back changed."""

from __future__ import annotations

import pytest
import requests

BOOT_TIMEOUT = 300
PASSWORD = "vector-state-password-1"


def test_vector_registers_survive_context_switches(boot, metal_build):
    package = metal_build / "modules" / "vector_state.rpk"
    if not package.is_file():
        pytest.skip(f"{package} missing; run ./aisos build")
    machine = boot(smp=4, mem=2048, config_text=f"admin_password={PASSWORD}\n")
    machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT)
    base = f"http://127.0.0.1:{machine.port}"
    login = requests.post(f"{base}/auth/login", json={"user": "admin", "password": PASSWORD}, timeout=120)
    headers = {"Authorization": "Bearer " + login.json()["token"]}
    installed = requests.post(f"{base}/pkg/install", data=package.read_bytes(), headers=headers, timeout=120)
    assert installed.status_code == 201, installed.text
    machine.wait_for(r"vector_state: started", timeout=60)
    result = requests.get(f"{base}/vector_state", timeout=600).json()
    print("vector_state:", result)
    assert result["threads"] == 8
    assert result["mismatches"] == 0
    # -cpu max under TCG has AVX; the YMM upper halves are then covered too.
    assert result["avx"] is True
