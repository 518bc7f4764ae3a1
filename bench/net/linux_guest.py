"""The Linux baseline guest of bench/net.py, built from Debian packages
without root, loop devices or a disk image:

- the kernel: Debian's linux-image-<abi>-amd64 (the package linux-image-amd64
  depends on), fetched with `apt-get download` and unpacked with
  `dpkg-deb -x` into the cache directory (nothing is installed);
- an initramfs written by this module in the cpio "newc" format: busybox
  from busybox-static, nginx (nginx-light or nginx) with the shared libraries
  `ldd` names, the NIC driver modules of that kernel with their dependencies
  (read from each module's .modinfo `depends=`), and an /init script that
  loads them, configures eth0 statically and starts nginx.

The guest prints "linux-guest: ready" once nginx runs. nginx answers
GET /health with {"status":"ok"} and takes PUT /upload/<name> (WebDAV PUT:
the body is written to a tmpfs file).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Iterable, Optional

GUEST_IP = "10.0.2.15"
GATEWAY = "10.0.2.2"  # QEMU user networking
READY_LINE = "linux-guest: ready"
HEALTH_BODY = '{"status":"ok"}'

# QEMU NIC model -> Linux module that drives it.
NIC_MODULES = {"virtio": "virtio_net", "e1000": "e1000", "e1000e": "e1000e"}
# virtio_net needs the PCI transport too, which nothing "depends" on.
EXTRA_MODULES = {"virtio": ["virtio_pci"]}


class GuestBuildError(RuntimeError):
    pass


def _run(argv: list[str], cwd: Optional[Path] = None) -> str:
    try:
        result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=900)
    except FileNotFoundError as error:
        raise GuestBuildError(f"{argv[0]} is missing") from error
    if result.returncode != 0:
        raise GuestBuildError(f"{' '.join(argv)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


# -- kernel -------------------------------------------------------------------

def kernel_package() -> str:
    """The versioned image package linux-image-amd64 points at."""
    out = _run(["apt-cache", "depends", "linux-image-amd64"])
    match = re.search(r"Depends:\s*(linux-image-\S+-amd64)\b", out)
    if not match:
        raise GuestBuildError(f"cannot tell which kernel linux-image-amd64 depends on:\n{out}")
    return match.group(1)


def fetch_kernel(cache: Path) -> tuple[Path, Path]:
    """(vmlinuz, modules directory) of the Debian kernel, unpacked in `cache`."""
    package = kernel_package()
    root = cache / package
    done = root / ".unpacked"
    if not done.exists():
        debs = cache / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        if not list(debs.glob(f"{package}_*.deb")):
            _run(["apt-get", "download", package], cwd=debs)
        deb = sorted(debs.glob(f"{package}_*.deb"))[-1]
        shutil.rmtree(root, ignore_errors=True)
        _run(["dpkg-deb", "-x", str(deb), str(root)])
        done.write_text(deb.name + "\n")
    kernels = sorted((root / "boot").glob("vmlinuz-*"))
    module_dirs = sorted((root / "lib" / "modules").glob("*"))
    if not kernels or not module_dirs:
        raise GuestBuildError(f"{package} has no vmlinuz or modules")
    return kernels[-1], module_dirs[-1]


def _module_index(modules: Path) -> dict[str, Path]:
    index = {}
    for path in modules.rglob("*.ko"):
        index[path.stem.replace("-", "_")] = path
    return index


def _module_depends(path: Path) -> list[str]:
    match = re.search(rb"(?:^|\0)depends=([A-Za-z0-9_,-]*)\0", path.read_bytes())
    if not match or not match.group(1):
        return []
    return [name.decode().replace("-", "_") for name in match.group(1).split(b",")]


def module_load_order(modules: Path, wanted: Iterable[str]) -> list[Path]:
    """The .ko files for `wanted` and everything they depend on, each after
    its dependencies."""
    index = _module_index(modules)
    order: list[Path] = []
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise GuestBuildError(f"module dependency cycle at {name}")
        if name not in index:
            raise GuestBuildError(f"module {name} not found under {modules} (built in? then drop it)")
        visiting.add(name)
        for dependency in _module_depends(index[name]):
            visit(dependency)
        visiting.discard(name)
        done.add(name)
        order.append(index[name])

    for name in wanted:
        visit(name)
    return order


def kernel_config_value(modules: Path, kernel: Path, option: str) -> Optional[str]:
    config = kernel.parent / kernel.name.replace("vmlinuz-", "config-")
    if not config.exists():
        return None
    match = re.search(rf"^{option}=(\S+)$", config.read_text(), re.M)
    return match.group(1) if match else None


# -- user space ---------------------------------------------------------------

def _which(name: str, package_hint: str) -> Path:
    for directory in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        path = Path(directory) / name
        if path.exists():
            return path
    raise GuestBuildError(f"{name} not found; install the Debian package {package_hint}")


def shared_libraries(binary: Path) -> list[Path]:
    """The libraries `ldd` resolves for `binary`, plus the dynamic loader."""
    out = _run(["ldd", str(binary)])
    libraries = []
    for line in out.splitlines():
        match = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)\s+\(", line)
        if match:
            libraries.append(Path(match.group(1)))
    return libraries


class Cpio:
    """A cpio archive in the "newc" format (what the kernel unpacks into its
    initial root file system). Every entry is owned by root."""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.inode = 1
        self.directories: set[str] = set()

    def _entry(self, name: str, mode: int, data: bytes = b"") -> None:
        name_bytes = name.encode() + b"\0"
        header = "070701" + "".join(f"{value:08x}" for value in (
            self.inode, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_bytes), 0))
        self.inode += 1
        self.out.write(header.encode() + name_bytes)
        self.out.write(b"\0" * (-(110 + len(name_bytes)) % 4))
        self.out.write(data)
        self.out.write(b"\0" * (-len(data) % 4))

    def directory(self, path: str) -> None:
        path = path.strip("/")
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            if prefix and prefix not in self.directories:
                self.directories.add(prefix)
                self._entry(prefix, stat.S_IFDIR | 0o755)

    def file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        path = path.strip("/")
        if "/" in path:
            self.directory(path.rsplit("/", 1)[0])
        self._entry(path, stat.S_IFREG | mode, data)

    def copy(self, source: Path, path: Optional[str] = None) -> None:
        """A host file (symlinks followed) at `path` (default: its own path)."""
        self.file(path or str(source), source.read_bytes(), stat.S_IMODE(source.stat().st_mode))

    def symlink(self, path: str, target: str) -> None:
        path = path.strip("/")
        if "/" in path:
            self.directory(path.rsplit("/", 1)[0])
        self._entry(path, stat.S_IFLNK | 0o777, target.encode())

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        data = self.out.getvalue()
        return data + b"\0" * (-len(data) % 512)


NGINX_CONF = """\
user nobody nogroup;
worker_processes auto;
worker_rlimit_nofile 16384;
error_log /dev/console warn;
pid /run/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    tcp_nodelay on;
    sendfile on;
    client_body_temp_path /tmp/nginx-body;
    server {
        listen 80 default_server backlog=4096;
        location = /health {
            default_type application/json;
            return 200 '%s';
        }
        location /upload/ {
            root /tmp/www;
            dav_methods PUT;
            create_full_put_path on;
            client_max_body_size 0;
            client_body_buffer_size 1m;
        }
    }
}
""" % HEALTH_BODY

INIT = """\
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin
/bin/busybox --install -s /bin
export PATH=/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
for module in $(cat /modules/order); do
    insmod /modules/$module || echo "linux-guest: insmod $module failed"
done
interface=""
for path in /sys/class/net/*; do
    name=${path##*/}
    [ "$name" = lo ] || { interface=$name; break; }
done
[ -n "$interface" ] || { echo "linux-guest: no network interface"; exec sh; }
ip link set lo up
ip link set "$interface" up
ip addr add %(ip)s/24 dev "$interface"
ip route add default via %(gateway)s
mkdir -p /var/log/nginx /var/lib/nginx/body /var/lib/nginx/proxy /var/lib/nginx/fastcgi \\
    /var/lib/nginx/uwsgi /var/lib/nginx/scgi /tmp/nginx-body /tmp/www/upload
chown nobody:nogroup /tmp/nginx-body /tmp/www/upload
if nginx -c /etc/nginx/nginx.conf; then
    echo "%(ready)s $interface"
else
    echo "linux-guest: nginx failed to start"
fi
while :; do sleep 3600; done
""" % {"ip": GUEST_IP, "gateway": GATEWAY, "ready": READY_LINE}


def build(cache: Path, nic: str) -> tuple[Path, Path]:
    """(kernel, initramfs) for a guest with `nic`; the initramfs is rebuilt
    each time (a second or two), the kernel is downloaded once."""
    if nic not in NIC_MODULES:
        raise GuestBuildError(f"no Linux module known for nic {nic!r}")
    cache.mkdir(parents=True, exist_ok=True)
    kernel, modules = fetch_kernel(cache)
    wanted = []
    for name in EXTRA_MODULES.get(nic, []) + [NIC_MODULES[nic]]:
        option = "CONFIG_" + {"virtio_pci": "VIRTIO_PCI", "virtio_net": "VIRTIO_NET"}.get(name, name.upper())
        if kernel_config_value(modules, kernel, option) != "y":  # built in: nothing to load
            wanted.append(name)
    order = module_load_order(modules, wanted)

    archive = Cpio()
    for directory in ("bin", "dev", "proc", "sys", "tmp", "run", "etc", "modules", "var/log/nginx"):
        archive.directory(directory)
    archive.copy(_which("busybox", "busybox-static"), "bin/busybox")
    nginx = _which("nginx", "nginx-light")
    archive.copy(nginx, "usr/sbin/nginx")
    for library in shared_libraries(nginx):
        archive.copy(library)
    archive.file("etc/nginx/nginx.conf", NGINX_CONF.encode())
    archive.file("etc/passwd", b"root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    archive.file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    archive.file("etc/nsswitch.conf", b"passwd: files\ngroup: files\n")
    for module in order:
        archive.copy(module, f"modules/{module.name}")
    archive.file("modules/order", "".join(f"{module.name}\n" for module in order).encode())
    archive.file("init", INIT.encode(), 0o755)
    initramfs = cache / f"initramfs-{nic}.cpio"
    initramfs.write_bytes(archive.finish())
    return kernel, initramfs


if __name__ == "__main__":
    import sys
    kernel_path, initramfs_path = build(Path(sys.argv[1] if len(sys.argv) > 1 else "build/netlab-bench"),
                                        sys.argv[2] if len(sys.argv) > 2 else "virtio")
    print(kernel_path, initramfs_path, os.path.getsize(initramfs_path))
