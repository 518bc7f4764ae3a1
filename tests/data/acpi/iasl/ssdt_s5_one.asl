// \_S5 in an SSDT (the DSDT has none), with OneOp values and a long package.
DefinitionBlock ("", "SSDT", 2, "AISOS ", "S5ONE   ", 1)
{
    Name (BIG0, Buffer (0x50) { 0x00 })
    Name (_S5, Package (0x02) { One, One })
}
