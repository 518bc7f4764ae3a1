#!/usr/bin/env python3
"""./aisos run: boot aiSOS in QEMU with the serial console on stdout.

Options follow ../shared/API.md (Running). Prints
"aiSOS ready: http://localhost:<port>" once GET /health answers. ./aisos has
built the images already (unless --no-build, which it handles itself).
"""

from __future__ import annotations

import argparse
import errno
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from qemu import (  # noqa: E402
    ACCELS, BUILD, NIC_DEVICES, Machine, MachineConfig, MachineError, derive_image)

METAL = BUILD / "metal"
# ./aisos run builds build/run/aisos.img: the image with the initrd that
# preinstalls the llm module and the default model (see ./aisos).
RUN_IMAGE = BUILD / "run" / "aisos.img"
DEFAULT_IMAGE = RUN_IMAGE if RUN_IMAGE.is_file() else METAL / "aisos.img"
DEFAULT_DISK = BUILD / "disk.img"
DEFAULT_DISK_SIZE = 2 << 30
READY_TIMEOUT = 24 * 3600  # the console keeps streaming either way


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="./aisos run", description="Boot aiSOS in QEMU; serial console on stdout.")
    parser.add_argument("--port", type=positive, default=8080, help="host port forwarded to guest port 80 (default 8080)")
    parser.add_argument("--disk", type=Path, default=DEFAULT_DISK,
                        help=f"NVMe disk image, created (2 GiB, sparse) if missing (default {DEFAULT_DISK.relative_to(BUILD.parent)})")
    parser.add_argument("--smp", type=positive, default=4, help="CPU count (default 4)")
    parser.add_argument("--mem", type=positive, default=4096, help="memory in MiB (default 4096)")
    parser.add_argument("--nic", choices=sorted(NIC_DEVICES), default="virtio", help="network card (default virtio)")
    parser.add_argument("--config", type=Path, help="an aisos.cfg to boot with instead of the one in the image")
    parser.add_argument("--accel", choices=ACCELS, default="auto",
                        help="auto uses KVM only where it really runs our guest (default auto)")
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE, help=f"boot image, .img or .iso (default {DEFAULT_IMAGE.relative_to(BUILD.parent)})")
    parser.add_argument("--print-command", action="store_true", help="print the QEMU command line, then boot")
    parser.add_argument("--no-build", action="store_true", help="do not build first (handled by ./aisos)")
    return parser.parse_args(argv)


def fail(message: str) -> int:
    print(f"aisos run: {message}", file=sys.stderr)
    return 1


def ensure_disk(path: Path) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(DEFAULT_DISK_SIZE)
    print(f"aisos run: created {path} (2 GiB, sparse)", file=sys.stderr)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("", port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def announce_when_ready(machine: Machine, port: int) -> None:
    try:
        machine.wait_http("/health", timeout=READY_TIMEOUT)
    except MachineError:
        return  # QEMU ended or the guest never answered; the console says why
    print(f"\naiSOS ready: http://localhost:{port}", flush=True)


def interrupt(signum, frame) -> None:
    raise KeyboardInterrupt()


def main(argv: list[str]) -> int:
    args = parse_arguments(argv)
    if not args.image.is_file():
        return fail(f"{args.image} does not exist; build it with ./aisos build")
    if args.config is not None and not args.config.is_file():
        return fail(f"--config {args.config}: no such file")
    if not port_is_free(args.port):
        return fail(f"port {args.port} is in use; choose another with --port")

    with tempfile.TemporaryDirectory(prefix="aisos-run-") as scratch:
        image = args.image
        if args.config is not None:
            image = derive_image(args.image, Path(scratch) / args.image.name, put={"/aisos/aisos.cfg": args.config})
            print(f"aisos run: booting with {args.config} as aisos.cfg", file=sys.stderr)
        ensure_disk(args.disk)
        config = MachineConfig(image=image, smp=args.smp, mem=args.mem, nic=args.nic, port=args.port,
                               forward_address="", disk=args.disk, accel=args.accel, allow_reboot=True, name="run")
        try:
            machine = Machine(config, echo=sys.stdout)
        except MachineError as error:
            return fail(str(error))
        print(f"aisos run: QEMU {machine.accel.upper()} ({machine.accel_reason}), {args.smp} CPUs, {args.mem} MiB, "
              f"{args.nic}, port {args.port} -> 80, disk {args.disk}; serial log {machine.log_path}", file=sys.stderr)
        if args.print_command:
            print(" ".join(machine.command), file=sys.stderr)

        # SIGTERM ends QEMU as cleanly as Ctrl-C does.
        signal.signal(signal.SIGTERM, interrupt)
        with machine:
            threading.Thread(target=announce_when_ready, args=(machine, args.port), daemon=True).start()
            try:
                code = machine.wait_exit(timeout=float("inf"))
            except KeyboardInterrupt:
                print("\naisos run: stopping QEMU", file=sys.stderr)
                return 130
            except MachineError as error:
                return fail(str(error))
        if code != 0:
            stderr = machine.stderr.strip()
            return fail(f"QEMU exited with status {code}" + (f": {stderr}" if stderr else ""))
        return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as error:
        sys.exit(fail(str(error)))
