// A tiny freestanding module whose static-PIE ELF is the test input for
// lib/elf/Relocations and the packer: its data holds absolute pointers (to
// data, to a string, to a function), so the linker must emit
// R_X86_64_RELATIVE relocations (RELA, or RELR with --pack-dyn-relocs=relr).
// Each pointed-to int holds a distinct marker, so a test can follow every
// relocated pointer and check it lands where it should.

static int counter;
static int markers[4] = { 0x5a0000a0, 0x5a0000a1, 0x5a0000a2, 0x5a0000a3 };
int* pointers[6] = { &counter, &markers[0], &markers[1], &markers[2], &markers[3], 0 };
int (*volatile callback)(int);
static int twice(int x) { return 2 * x; }
int (*const handlers[2])(int) = { twice, 0 };
const char* message = "rpk-sample-message";

void _start(void)
{
    callback = handlers[0];
    for (;;)
        counter += callback(*pointers[1]) + message[0];
}
