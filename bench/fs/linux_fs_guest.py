"""The Linux guest of bench/fs.py: bench/net's Debian kernel and busybox
initramfs (bench/net/linux_guest.py builds the pieces), plus what a disk
needs:

- the kernel's nvme and ext4 modules with their dependencies (crc32c_generic
  too: ext4 asks the crypto API for "crc32c", which no module "depends" on);
- the host's mke2fs with the shared libraries `ldd` names (e2fsprogs);
- bench/fs/fsbench.c compiled static on the host (gcc -static);
- nginx serving /fs/ from the ext4 file system (GET with Range, WebDAV PUT
  with its temporary file on the same file system, so a finished upload is
  a rename), and busybox httpd on port 81 whose /cgi-bin/drop syncs and
  drops the page cache (so random reads over HTTP start cold, as on aiSOS).

/init formats /dev/nvme0n1 with ext4, mounts it on /data, runs the local
figures with fsbench (write, drop caches, read, O_DIRECT random reads),
removes the file, then starts the servers and prints "linux-guest: ready".
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "net"))

import linux_guest  # noqa: E402
from linux_guest import GuestBuildError, Cpio  # noqa: E402

READY_LINE = linux_guest.READY_LINE
FAILED_LINE = "linux-guest: storage failed"
DROP_PORT = 81

NGINX_CONF = """\
user root root;
worker_processes auto;
error_log /dev/console warn;
pid /run/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    tcp_nodelay on;
    sendfile on;
    default_type application/octet-stream;
    server {
        listen 80 default_server;
        location = /health {
            default_type application/json;
            return 200 '%s';
        }
        location /fs/ {
            root /data/www;
            dav_methods PUT;
            create_full_put_path on;
            client_max_body_size 0;
            client_body_buffer_size 1m;
            client_body_temp_path /data/www/.tmp;
        }
    }
}
""" % linux_guest.HEALTH_BODY

INIT = """\
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin /data
/bin/busybox --install -s /bin
export PATH=/bin:/usr/sbin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
for module in $(cat /modules/order); do
    insmod /modules/$module || echo "linux-guest: insmod $module failed"
done
waited=0
while [ ! -b /dev/nvme0n1 ] && [ $waited -lt 300 ]; do sleep 0.1; waited=$((waited + 1)); done
[ -b /dev/nvme0n1 ] || { echo "linux-guest: no /dev/nvme0n1"; exec sh; }
# /usr/sbin/mke2fs is e2fsprogs'; busybox's applet of that name cannot make ext4.
/usr/sbin/mke2fs -F -q -t ext4 /dev/nvme0n1 || { echo "%(failed)s: mke2fs"; exec sh; }
mount -t ext4 /dev/nvme0n1 /data || { echo "%(failed)s: mount ext4"; exec sh; }
if [ %(local_mib)d -gt 0 ]; then
    fsbench write /data/local.bin %(local_mib)d
    sync; echo 3 > /proc/sys/vm/drop_caches
    fsbench read /data/local.bin
    fsbench rand /data/local.bin %(rand_seconds)d
    rm /data/local.bin; sync
fi
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
mkdir -p /var/log/nginx /var/lib/nginx/body /data/www/fs /data/www/.tmp /www/cgi-bin
printf '#!/bin/sh\\nsync\\necho 3 > /proc/sys/vm/drop_caches\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\ndropped\\\\n"\\n' > /www/cgi-bin/drop
chmod 755 /www/cgi-bin/drop
httpd -p %(drop_port)d -h /www
if nginx -c /etc/nginx/nginx.conf; then
    echo "%(ready)s $interface"
else
    echo "linux-guest: nginx failed to start"
fi
while :; do sleep 3600; done
"""


def compile_fsbench(cache: Path) -> Path:
    source = HERE / "fsbench.c"
    binary = cache / "fsbench"
    if not binary.exists() or binary.stat().st_mtime < source.stat().st_mtime:
        result = subprocess.run(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(binary), str(source)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise GuestBuildError(f"gcc -static fsbench.c failed (need gcc and libc6-dev): {result.stderr.strip()}")
    return binary


def build(cache: Path, nic: str, local_mib: int, rand_seconds: int) -> tuple[Path, Path]:
    """(kernel, initramfs) of the storage guest."""
    if nic not in linux_guest.NIC_MODULES:
        raise GuestBuildError(f"no Linux module known for nic {nic!r}")
    cache.mkdir(parents=True, exist_ok=True)
    kernel, modules = linux_guest.fetch_kernel(cache)
    wanted = []
    config_names = {"virtio_pci": "VIRTIO_PCI", "virtio_net": "VIRTIO_NET", "nvme": "BLK_DEV_NVME",
                    "ext4": "EXT4_FS", "crc32c_generic": "CRYPTO_CRC32C"}
    for name in linux_guest.EXTRA_MODULES.get(nic, []) + [linux_guest.NIC_MODULES[nic], "nvme", "crc32c_generic", "ext4"]:
        option = "CONFIG_" + config_names.get(name, name.upper())
        if linux_guest.kernel_config_value(modules, kernel, option) != "y":
            wanted.append(name)
    order = linux_guest.module_load_order(modules, wanted)

    archive = Cpio()
    for directory in ("bin", "dev", "proc", "sys", "tmp", "run", "etc", "modules", "data", "var/log/nginx"):
        archive.directory(directory)
    archive.copy(linux_guest._which("busybox", "busybox-static"), "bin/busybox")
    archive.copy(compile_fsbench(cache), "bin/fsbench")
    for name, package in (("nginx", "nginx-light"), ("mke2fs", "e2fsprogs")):
        binary = linux_guest._which(name, package)
        archive.copy(binary, f"usr/sbin/{name}")
        for library in linux_guest.shared_libraries(binary):
            archive.copy(library)
    if Path("/etc/mke2fs.conf").exists():
        archive.copy(Path("/etc/mke2fs.conf"), "etc/mke2fs.conf")
    archive.file("etc/nginx/nginx.conf", NGINX_CONF.encode())
    archive.file("etc/passwd", b"root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    archive.file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    archive.file("etc/nsswitch.conf", b"passwd: files\ngroup: files\n")
    for module in order:
        archive.copy(module, f"modules/{module.name}")
    archive.file("modules/order", "".join(f"{module.name}\n" for module in order).encode())
    init = INIT % {"ip": linux_guest.GUEST_IP, "gateway": linux_guest.GATEWAY, "ready": READY_LINE, "failed": FAILED_LINE,
                   "local_mib": local_mib, "rand_seconds": rand_seconds, "drop_port": DROP_PORT}
    archive.file("init", init.encode(), 0o755)
    initramfs = cache / f"initramfs-fs-{nic}.cpio"
    initramfs.write_bytes(archive.finish())
    return kernel, initramfs
