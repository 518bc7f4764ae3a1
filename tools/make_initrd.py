#!/usr/bin/env python3
"""Writes an aiSOS initrd (format: lib/initrd/Initrd.h): files that the
kernel copies to /fs at boot when they are missing there, e.g. the default
model and the llm module package.

    tools/make_initrd.py -o build/run/initrd \\
        models/SmolLM2-135M-Instruct-Q4_1.gguf=build/models/SmolLM2-135M-Instruct-Q4_1.gguf \\
        system/pkg/llm.rpk=build/metal/modules/llm.rpk
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import sys
from pathlib import Path

MAGIC = b"AISOSIRD"
VERSION = 1
MAX_ENTRIES = 64


def pad8(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 8)


def build(entries: list[tuple[str, Path]], output: Path) -> None:
    if len(entries) > MAX_ENTRIES:
        raise SystemExit(f"at most {MAX_ENTRIES} files")
    seen = set()
    digest = hashlib.sha256()
    temporary = output.with_suffix(output.suffix + ".tmp")
    with open(temporary, "wb") as out:
        def put(data: bytes) -> None:
            out.write(data)
            digest.update(data)

        put(MAGIC + struct.pack("<II", VERSION, len(entries)))
        for name, source in entries:
            path = name.encode()
            if not 0 < len(path) <= 255 or name.startswith("/") or name in seen:
                raise SystemExit(f"bad or repeated path {name!r}")
            seen.add(name)
            size = source.stat().st_size
            put(struct.pack("<HHIQ", len(path), 0, 0, size))
            put(pad8(path))
            with open(source, "rb") as f:
                while chunk := f.read(1 << 20):
                    put(chunk)
            put(b"\0" * (-size % 8))
        out.write(digest.digest())
    temporary.replace(output)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", required=True, type=Path)
    parser.add_argument("files", nargs="*", help="FS_PATH=HOST_FILE")
    arguments = parser.parse_args(argv)
    entries = []
    for item in arguments.files:
        name, sep, source = item.partition("=")
        if not sep or not Path(source).is_file():
            parser.error(f"expected FS_PATH=EXISTING_FILE, got {item!r}")
        entries.append((name, Path(source)))
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    build(entries, arguments.output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
