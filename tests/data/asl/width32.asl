/*
 * DSDT revision 1: AML integers are 32 bits wide (ACPI 6.5 §5.2.11.1), so
 * Ones, Not, wrapping arithmetic, shifts, 64-bit constants and conversions
 * all truncate; _PSS rows and _PPC show the results.
 */
DefinitionBlock ("", "DSDT", 1, "PYXEN", "WIDTH32", 1)
{
    Name (BIG, 0x123456789A)   /* truncated to 0x3456789A when the table loads */
    Scope (\_PR)
    {
        Processor (CPU0, 0x01, 0x00000410, 0x06)
        {
            Method (_PSS, 0)
            {
                Local0 = Package (10) {}
                Local0[0] = Ones
                Local0[1] = ~0
                Local0[2] = 0xFFFFFFFF + 3
                Local0[3] = 0x80000000 << 1
                Local0[4] = 0 - 1
                Local0[5] = BIG
                Local0[6] = ToInteger (Buffer () { 1, 2, 3, 4, 5, 6, 7, 8 })
                Local0[7] = ToInteger ("0x1122334455")
                Local1 = ToHexString (0x12345678)
                Local0[8] = SizeOf (Local1)
                Local0[9] = FindSetLeftBit (Ones)
                Local2 = Package (1) {}
                Local2[0] = Local0
                Return (Local2)
            }
            Method (_PPC, 0) { Return (LEqual (Ones, 0xFFFFFFFF)) }
        }
    }
}
