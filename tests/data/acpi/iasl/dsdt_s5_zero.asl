// QEMU's encoding: \_S5 = {0, 0, 0, 0}, declared with a root prefix from a scope.
DefinitionBlock ("", "DSDT", 1, "AISOS ", "S5ZERO  ", 1)
{
    Scope (\_SB)
    {
        Name (\_S5, Package (0x04) { Zero, Zero, Zero, Zero })
    }
}
