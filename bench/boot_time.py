#!/usr/bin/env python3
"""Boot time of aiSOS in QEMU: wall time from QEMU start to the kernel's
"aisos: ready" line, over N boots (default 5), with the median. Also prints
the kernel's own timestamp of that line (time since TSC calibration).

    build/venv/bin/python bench/boot_time.py [--runs 5] [--accel auto|kvm|tcg]
"""
import argparse
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import qemu  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--accel", default="auto")
    parser.add_argument("--image", default=str(ROOT / "build/metal/aisos.img"))
    args = parser.parse_args()
    walls, firmware, kernel = [], [], []
    for run in range(args.runs):
        config = qemu.MachineConfig(image=Path(args.image), accel=args.accel, nic="virtio", name="boot-bench")
        with qemu.Machine(config) as machine:
            machine.wait_for(r"^aisos-boot: starting the kernel", timeout=900)
            handoff = machine.seconds_since_start()
            machine.wait_for(r"^aisos: ready$", timeout=900)
            wall = machine.seconds_since_start()
            took = re.search(r"boot took (\d+) ms", machine.output)
        walls.append(wall)
        firmware.append(handoff)
        kernel.append(int(took.group(1)) if took else -1)
        print(f"run {run + 1}: QEMU start -> loader hand-over {handoff:.2f} s, -> 'aisos: ready' {wall:.2f} s, "
              f"kernel's own count {kernel[-1]} ms", flush=True)
    print(f"median over {args.runs}: QEMU start -> 'aisos: ready' {statistics.median(walls):.2f} s "
          f"(firmware+loader {statistics.median(firmware):.2f} s, kernel {statistics.median(kernel)} ms by TSC)")


if __name__ == "__main__":
    main()
