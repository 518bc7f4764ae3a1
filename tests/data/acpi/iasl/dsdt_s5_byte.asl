// \_S5 with byte constants after a method that merely refers to it.
DefinitionBlock ("", "DSDT", 2, "AISOS ", "S5BYTE  ", 1)
{
    Method (PTS0, 1, NotSerialized)
    {
        Local0 = \_S5
        Return (Local0)
    }
    OperationRegion (PMIO, SystemIO, 0x0600, 0x10)
    Field (PMIO, WordAcc, NoLock, Preserve)
    {
        Offset (0x04),
        SLPT, 16
    }
    Scope (\_SB)
    {
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A08"))
            Name (_UID, Zero)
        }
    }
    Name (_S3, Package (0x04) { One, One, Zero, Zero })
    Name (_S5, Package (0x04) { 0x05, 0x07, Zero, Zero })
}
