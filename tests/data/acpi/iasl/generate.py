#!/usr/bin/env python3
"""Regenerates the reference ACPI tables in this folder with the ACPICA
compiler (Debian package acpica-tools): data tables from iasl's own
templates (iasl -T SIG) with fields set to QEMU-q35-like values, and small
DSDTs written in ASL. Run from this folder; commits both .asl/.dsl and .aml.
The unit tests only read the .aml files."""
import re, subprocess, os

def edit_template(signature, edits, out):
    subprocess.run(["iasl", "-T", signature], check=True, capture_output=True)
    src = signature.lower() + ".asl"
    lines = open(src).read().split("\n")
    os.remove(src)
    counts = {}
    for i, line in enumerate(lines):
        # Decoded flag lines ("   Polarity : 0") have no [size] prefix;
        # iasl builds the flags word from them, so they are editable too.
        m = re.match(r"^(?:\[\d+\])?\s+(.*?) : (\S+)", line)
        if not m:
            continue
        label = m.group(1).strip()
        counts[label] = counts.get(label, 0) + 1
        key = (label, counts[label])
        if key in edits:
            value = edits[key]
            lines[i] = line[: m.start(2)] + value + line[m.end(2):]
    open(out + ".dsl", "w").write("\n".join(lines))
    subprocess.run(["iasl", "-p", out, out + ".dsl"], check=True, capture_output=True)

edit_template("FACP", {
    ("SCI Interrupt", 1): "0009",
    ("SMI Command Port", 1): "000000B2",
    ("ACPI Enable Value", 1): "F1",
    ("ACPI Disable Value", 1): "F0",
    ("PM1A Event Block Address", 1): "00000600",
    ("PM1A Control Block Address", 1): "00000604",
    ("PM Timer Block Address", 1): "00000608",
    ("RTC Century Index", 1): "32",
    ("8042 Present on ports 60/64 (V2)", 1): "1",
    ("Control Method Power Button (V1)", 1): "1",
    ("Control Method Sleep Button (V1)", 1): "1",
    ("32-bit PM Timer (V1)", 1): "1",
    ("Reset Register Supported (V2)", 1): "1",
    ("Address", 1): "0000000000000CF9",  # reset register
    ("Value to cause reset", 1): "06",
    ("DSDT Address", 1): "00001000",
    ("DSDT Address", 2): "0000000100002000",  # X_DSDT wins
    ("Address", 2): "0000000000000600",  # X_PM1a_EVT_BLK
    ("Address", 4): "0000000000000604",  # X_PM1a_CNT_BLK
    ("Address", 7): "0000000000000608",  # X_PM_TMR_BLK
}, "fadt_q35")

edit_template("APIC", {
    ("Local Apic Address", 1): "FEE00000",
    ("Local Apic ID", 1): "03",
    ("Processor ID", 1): "02",
    ("I/O Apic ID", 1): "08",
    ("Address", 1): "FEC00000",
    ("Interrupt", 1): "00000018",   # I/O APIC GSI base 24
    ("Source", 1): "09",
    ("Interrupt", 2): "00000014",   # ISO: IRQ 9 -> GSI 20
    ("Polarity", 1): "3",      # ISO: active low
    ("Trigger Mode", 1): "3",  # ISO: level
    ("Processor ID", 2): "FF",      # LAPIC NMI: all processors
    ("Processor x2Apic ID", 1): "00000100",
    ("Processor UID", 2): "00000010",  # x2APIC entry UID
    ("Processor UID", 3): "FFFFFFFF",  # x2APIC NMI: all
}, "madt_template")

edit_template("HPET", {
    ("Hardware Block ID", 1): "8086A201",
    ("Address", 1): "00000000FED00000",
    ("Minimum Clock Ticks", 1): "0080",
}, "hpet_q35")

edit_template("MCFG", {
    ("Base Address", 1): "00000000B0000000",
    ("End Bus Number", 1): "FF",
}, "mcfg_q35")

for asl in sorted(f for f in os.listdir(".") if f.endswith(".asl")):
    subprocess.run(["iasl", "-p", asl[:-4], asl], check=True, capture_output=True)
