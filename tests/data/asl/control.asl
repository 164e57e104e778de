/*
 * Control flow: If/ElseIf/Else, While with Break and Continue, Switch/Case
 * (iasl lowers it to While + If with a temporary), Return from inside loops,
 * method calls with arguments and locals. _PSS is built in a loop.
 */
DefinitionBlock ("", "DSDT", 2, "PYXEN", "CONTROL", 1)
{
    Scope (\_PR)
    {
        Processor (CPU0, 0x01, 0x00000410, 0x06)
        {
            Method (FREQ, 1) { Return (3000 - (Arg0 * 400)) }

            Method (_PSS, 0)
            {
                Local0 = Package (4) {}
                Local1 = 0
                While (One)
                {
                    If (Local1 >= 4) { Break }
                    Local2 = Package (6) { 0, 0, 10, 10 }
                    Local2[0] = FREQ (Local1)
                    Local2[1] = 1000 / (Local1 + 1)
                    Local2[4] = Local1 << 8
                    Local2[5] = Local1 << 8
                    Local0[Local1] = Local2
                    Local1++
                }
                Return (Local0)
            }

            Method (_PPC, 0)
            {
                Local0 = 0
                Local1 = 0
                While (Local0 < 10)
                {
                    Local0++
                    If (Local0 & 1) { Continue }
                    Local1 += Local0        /* 2 + 4 + 6 + 8 + 10 = 30 */
                }
                If (Local1 == 29) { Return (9) }
                ElseIf (Local1 == 30) { Return (1) }
                Else { Return (8) }
            }

            Method (_PSD, 0)
            {
                Switch (ToInteger (_PPC ()))
                {
                    Case (0) { Local0 = 0xFC }
                    Case (Package () { 1, 2 }) { Local0 = 0xFD }
                    Default { Local0 = 0xFE }
                }
                Local1 = Package () { 5, 0, 0, 0, 2 }
                Local1[3] = Local0
                Local2 = Package (1) {}
                Local2[0] = Local1
                Return (Local2)
            }

            Method (FIND, 1)
            {
                Local0 = 0
                While (Local0 < SizeOf (Arg0))
                {
                    If (DerefOf (Arg0[Local0]) == 0x55) { Return (Local0) }
                    Local0++
                }
                Return (Ones)
            }

            Name (_PCT, Package () {
                ResourceTemplate () { Register (FFixedHW, 0, 0, 0, ,) },
                ResourceTemplate () { Register (FFixedHW, 0, 0, 0, ,) } })

            Method (_CST, 0)
            {
                Local0 = Package () { 0, Package () {
                    ResourceTemplate () { Register (SystemIO, 8, 0, 0x414, ,) }, 2, 0, 500 } }
                Local0[0] = 1
                Local1 = DerefOf (Local0[1])
                Local1[2] = FIND (Package () { 1, 2, 0x55, 4 }) * 0x10  /* 0x20 */
                Local0[1] = Local1
                Return (Local0)
            }
        }
    }
}
