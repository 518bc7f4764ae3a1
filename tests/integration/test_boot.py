"""Boots the real image in QEMU and checks what the kernel reports on its
serial console against what QEMU was asked to emulate (issue 2)."""

import json
import re
import socket
import time

import pytest

BOOT_TIMEOUT = 600  # TCG on 2 shared cores: OVMF alone can take a minute


def contract_lines(output):
    return [line for line in output.splitlines() if line.startswith("aisos: ")]


def qmp(path, command):
    """One QMP command over a unix socket; returns its "return" value."""
    deadline = time.monotonic() + 60
    while True:
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(str(path))
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)  # the socket appears when QEMU has started
    with sock:
        stream = sock.makefile("rw")
        json.loads(stream.readline())  # greeting
        for request in ({"execute": "qmp_capabilities"}, {"execute": command}):
            stream.write(json.dumps(request) + "\n")
            stream.flush()
            while True:
                reply = json.loads(stream.readline())
                if "event" in reply:
                    continue
                if "error" in reply:
                    raise RuntimeError(reply["error"])
                break
        return reply["return"]


def qemu_pci_devices(path):
    devices = set()

    def walk(bus):
        for device in bus["devices"]:
            bdf = f"{device['bus']:02x}:{device['slot']:02x}.{device['function']:x}"
            devices.add((bdf, device["id"]["vendor"], device["id"]["device"]))
            bridge = device.get("pci_bridge")
            if bridge and "devices" in bridge:
                walk({"devices": bridge["devices"]})

    for bus in qmp(path, "query-pci"):
        walk(bus)
    return devices


def kernel_pci_devices(output):
    devices = set()
    for line in contract_lines(output):
        m = re.match(r"aisos: pci ([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) ([0-9a-f]{4}):([0-9a-f]{4}) class ([0-9a-f]{2})\.([0-9a-f]{2}) (\S+)$", line)
        if m:
            devices.add((m.group(1), int(m.group(2), 16), int(m.group(3), 16)))
    return devices


@pytest.mark.parametrize("smp,mem,nic", [(4, 4096, "virtio"), (2, 1536, "e1000e")])
def test_boot_reports_cpus_memory_and_pci(boot, tmp_path, smp, mem, nic):
    qmp_socket = tmp_path / "qmp.sock"
    machine = boot(smp=smp, mem=mem, nic=nic,
                   extra_args=["-qmp", f"unix:{qmp_socket},server=on,wait=off"])
    machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT)
    output = machine.output

    cpus = re.search(r"^aisos: cpus online (\d+)$", output, re.M)
    assert cpus, "no 'cpus online' line"
    assert int(cpus.group(1)) == smp

    memory = re.search(r"^aisos: memory total (\d+) MiB$", output, re.M)
    assert memory, "no 'memory total' line"
    assert abs(int(memory.group(1)) - mem) <= mem * 0.02, f"reported {memory.group(1)} MiB for -m {mem}"

    expected = qemu_pci_devices(qmp_socket)
    reported = kernel_pci_devices(output)
    assert reported == expected, f"only in QEMU: {expected - reported}; only in aiSOS: {reported - expected}"

    drivers = {m.group(1): m.group(2) for m in re.finditer(r"^aisos: pci \S+ (\S+) class \S+ (\S+)$", output, re.M)}
    assert drivers.get("1b36:0010") == "nvme"
    nic_ids = {"virtio": ("1af4:1000", "virtio-net"), "e1000e": ("8086:10d3", "e1000e")}[nic]
    assert drivers.get(nic_ids[0]) == nic_ids[1]
    assert f"timer: all {smp} CPUs receive timer interrupts" in output
    # Every CPU took pinned work through the IPI path.
    assert f"pinned work ran on {smp - 1} of {smp - 1} application processors" in output


def test_page_fault_panic_names_address_and_function(boot):
    machine = boot(config_text="debug_fault=page_fault\n")
    match = machine.wait_for(r"^aisos: panic (.*) at (0x[0-9a-f]{16}) in (\S+)", timeout=BOOT_TIMEOUT)
    reason, address, function = match.groups()
    assert "page fault" in reason
    assert "0x00000000dead0000" in reason, "the faulting address must be named"
    assert int(address, 16) >= 0xffffffff80000000, "the faulting instruction is in the kernel image"
    assert function.startswith("aisos::debug_fault_write_unmapped_page+0x")
    # The report continues with registers and a symbolized backtrace.
    machine.wait_for(r"^backtrace:$", timeout=60)
    machine.wait_for(r"^  #\d+ 0x[0-9a-f]{16} kernel_main\+0x[0-9a-f]+$", timeout=60)
    assert "aisos: ready" not in machine.output


def test_nvme_controller_with_two_namespaces_is_listed(boot, tmp_path):
    images = []
    for name, mib in (("ns1.img", 96), ("ns2.img", 48)):
        path = tmp_path / name
        with open(path, "wb") as f:
            f.truncate(mib << 20)
        images.append(path)
    machine = boot(disk=None, nic="none", extra_args=[
        "-drive", f"file={images[0]},format=raw,if=none,id=ns1",
        "-drive", f"file={images[1]},format=raw,if=none,id=ns2",
        "-device", "nvme,id=nvme0,serial=aisos0002",
        "-device", "nvme-ns,drive=ns1,bus=nvme0,nsid=1",
        "-device", "nvme-ns,drive=ns2,bus=nvme0,nsid=2",
    ])
    machine.wait_for(r"^aisos: ready$", timeout=BOOT_TIMEOUT)
    sizes = [int(m.group(1)) for m in re.finditer(r"^aisos: nvme QEMU NVMe Ctrl (\d+) MiB$", machine.output, re.M)]
    assert sizes == [96, 48]
    # Both namespaces answered a read through an I/O queue.
    assert "nvme: namespace 1: 196608 blocks of 512 bytes, block 0 read" in machine.output
    assert "nvme: namespace 2: 98304 blocks of 512 bytes, block 0 read" in machine.output
