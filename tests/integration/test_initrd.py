"""First-boot preinstall from the initrd (lib/initrd, kernel/pkg/Preinstall):
files the loader hands over in \\aisos\\initrd are copied to /fs when they
are missing, a package among them is verified and started like an upload,
files already on the disk are left alone on later boots, and a damaged
initrd is refused without stopping the boot."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from conftest import BOOT_TIMEOUT, ROOT, derive_image

PASSWORD = "initrd-test-password-1"
CONFIG = f"admin_password={PASSWORD}\n".encode()


def make_initrd(tmp_path, files):
    output = tmp_path / "initrd"
    arguments = [f"{name}={path}" for name, path in files.items()]
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_initrd.py"), "-o", str(output), *arguments], check=True)
    return output


def token(base):
    response = requests.post(f"{base}/auth/login", json={"user": "admin", "password": PASSWORD}, timeout=120)
    assert response.status_code == 200, response.text
    return {"Authorization": "Bearer " + response.json()["token"]}


def test_initrd_preinstalls_missing_files_once(boot, metal_build, tmp_path):
    package = metal_build / "modules" / "hello.rpk"
    if not package.is_file():
        pytest.skip(f"{package} missing; run ./aisos build")
    note = tmp_path / "note.txt"
    note.write_bytes(b"preinstalled by the initrd\n" * 1000)
    initrd = make_initrd(tmp_path, {"models/note.txt": note, "system/pkg/hello.rpk": package})
    image = derive_image(metal_build / "aisos.img", tmp_path / "initrd.img", put={"/aisos/aisos.cfg": CONFIG, "/aisos/initrd": initrd})
    disk = tmp_path / "disk.img"
    with open(disk, "wb") as f:
        f.truncate(256 << 20)

    machine = boot(image=image, disk=disk)
    machine.wait_for(r"initrd: installed /fs/models/note.txt \(27000 bytes\)", timeout=BOOT_TIMEOUT)
    machine.wait_for(r"initrd: installed /fs/system/pkg/hello.rpk", timeout=60)
    machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT)
    base = f"http://127.0.0.1:{machine.port}"
    headers = token(base)
    assert requests.get(f"{base}/fs/models/note.txt", headers=headers, timeout=60).content == note.read_bytes()
    machine.wait_for(r"hello: started", timeout=120)
    assert requests.get(f"{base}/hello", timeout=60).text == "hello from a module\n"
    # The admin replaces the file; the next boot must not undo that.
    assert requests.put(f"{base}/fs/models/note.txt", data=b"mine", headers=headers, timeout=60).status_code == 204
    assert requests.post(f"{base}/sys/poweroff", headers=headers, timeout=60).status_code == 202
    assert machine.wait_exit(timeout=120) == 0

    again = boot(image=image, disk=disk)
    again.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT)
    base = f"http://127.0.0.1:{again.port}"
    headers = token(base)
    assert requests.get(f"{base}/fs/models/note.txt", headers=headers, timeout=60).content == b"mine"
    again.wait_for(r"hello: started", timeout=120)
    assert "initrd: installed" not in again.output


def test_damaged_initrd_is_refused_and_boot_goes_on(boot, metal_build, tmp_path):
    note = tmp_path / "note.txt"
    note.write_bytes(b"x" * 5000)
    initrd = bytearray(make_initrd(tmp_path, {"models/note.txt": note}).read_bytes())
    initrd[100] ^= 0xFF
    image = derive_image(metal_build / "aisos.img", tmp_path / "bad.img", put={"/aisos/aisos.cfg": CONFIG, "/aisos/initrd": bytes(initrd)})
    machine = boot(image=image)
    machine.wait_for(r"initrd: refused: initrd hash mismatch", timeout=BOOT_TIMEOUT)
    machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT)
    base = f"http://127.0.0.1:{machine.port}"
    assert requests.get(f"{base}/fs/models/note.txt", headers=token(base), timeout=60).status_code == 404
