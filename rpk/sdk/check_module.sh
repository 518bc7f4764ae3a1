#!/bin/sh
# Checks that a linked module is what the kernel's loader accepts
# (rpk/sdk/README.md): ELF64 x86-64 ET_DYN (static PIE) entered at _start,
# no PT_INTERP, only R_X86_64_RELATIVE relocations, and no PT_LOAD segment
# both writable and executable. Usage: check_module.sh module.elf
set -eu
elf=$1
readelf=${LLVM_READELF:-llvm-readelf}
fail() { echo "error: $elf: $*" >&2; exit 1; }

header=$($readelf -h "$elf") || fail "not an ELF file"
echo "$header" | grep -Eq 'Class:[[:space:]]+ELF64' || fail "not ELF64"
echo "$header" | grep -Eq 'Machine:[[:space:]]+Advanced Micro Devices X86-64' || fail "not x86-64"
echo "$header" | grep -Eq 'Type:[[:space:]]+DYN' || fail "not ET_DYN (link with -pie)"

segments=$($readelf -l -W "$elf")
echo "$segments" | grep -q 'INTERP' && fail "has PT_INTERP (link with --no-dynamic-linker)"
# Flags print as three columns, "R E" or "RW " or "RWE".
echo "$segments" | grep -Eq '^[[:space:]]*LOAD[[:space:]].*[[:space:]](RWE|[[:space:]]WE)[[:space:]]' &&
    fail "a PT_LOAD segment is writable and executable"
echo "$segments" | grep -q 'DYNAMIC' || fail "no PT_DYNAMIC: the kernel finds the relocations through it"

others=$($readelf -r -W "$elf" | awk '$3 ~ /^R_X86_64_/ && $3 != "R_X86_64_RELATIVE" { print $3 }' | sort -u)
[ -z "$others" ] || fail "relocations other than R_X86_64_RELATIVE: $(echo $others)"
$readelf -s -W "$elf" | awk '$8 == "_start" { found = 1 } END { exit !found }' || fail "no _start"
exit 0
