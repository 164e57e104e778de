/*
 * The OSPM handshake: CPU0's _CST and _PSS depend on the capabilities its
 * _PDC stored; CPU1 (a Device ACPI0007) has only _OSC, which checks the Intel
 * UUID, the revision and the count; CPU2 has neither and keeps the defaults.
 * A shared Name records the order in which the handshakes ran.
 */
DefinitionBlock ("", "DSDT", 2, "PYXEN", "HANDSHK", 1)
{
    Name (ORDR, 0)
    Name (CAP0, 0)
    Name (CAP1, 0)

    Scope (\_PR)
    {
        Processor (CPU0, 0x00, 0x00000410, 0x06)
        {
            Method (_PDC, 1, Serialized)
            {
                CreateDWordField (Arg0, 0, REVS)
                CreateDWordField (Arg0, 4, SIZE)
                CreateDWordField (Arg0, 8, CAPS)
                If (LAnd (REVS == 1, SIZE >= 1)) { CAP0 = CAPS }
                ORDR = ORDR * 10 + 1
            }
            Method (_CST, 0)
            {
                If (CAP0 & 0x200)     /* bit 9: C-states via FFH (MWAIT) */
                {
                    Return (Package () { 2,
                        Package () { ResourceTemplate () { Register (FFixedHW, 1, 2, 0x00, 1) }, 1, 1, 1000 },
                        Package () { ResourceTemplate () { Register (FFixedHW, 1, 2, 0x20, 3) }, 2, 80, 300 } })
                }
                Return (Package () { 1,
                    Package () { ResourceTemplate () { Register (FFixedHW, 0, 0, 0) }, 1, 1, 1000 } })
            }
            Method (_PCT, 0)
            {
                If (CAP0 & 1)         /* bit 0: P-states via FFH (MSR) */
                {
                    Return (Package () {
                        ResourceTemplate () { Register (FFixedHW, 0, 0, 0) },
                        ResourceTemplate () { Register (FFixedHW, 0, 0, 0) } })
                }
                Return (Package () {
                    ResourceTemplate () { Register (SystemIO, 16, 0, 0x880) },
                    ResourceTemplate () { Register (SystemIO, 8, 0, 0x882) } })
            }
            Name (_PSS, Package () {
                Package () { 2000, 20000, 10, 10, 0x1400, 0x1400 },
                Package () { 1000, 8000, 10, 10, 0xA00, 0xA00 } })
            Method (_PPC, 0) { Return (ORDR) }
        }
    }

    Scope (\_SB)
    {
        Device (CPU1)
        {
            Name (_HID, "ACPI0007")
            Name (_UID, 7)
            Method (_OSC, 4, Serialized)
            {
                CreateDWordField (Arg3, 0, STS0)
                CreateDWordField (Arg3, 4, CAP1)
                If (Arg0 != ToUUID ("4077A616-290C-47BE-9EBD-D87058713953"))
                {
                    STS0 |= 0x06      /* unrecognised UUID */
                    Return (Arg3)
                }
                If (LOr (Arg1 != 1, Arg2 != 2)) { STS0 |= 0x0A
                                                 Return (Arg3) }
                \CAP1 = CAP1
                ORDR = ORDR * 10 + 2
                Return (Arg3)
            }
            Method (_PSD, 0)
            {
                Local0 = Package () { Package () { 5, 0, 0, 0xFC, 1 } }
                If (\CAP1 & 0x800) { Local0 = Package () { Package () { 5, 0, 1, 0xFE, 4 } } }
                Return (Local0)
            }
            Method (_PPC, 0) { Return (ORDR) }
        }
        Device (CPU2)
        {
            Name (_HID, "ACPI0007")
            Name (_UID, 9)
            Method (_PPC, 0) { Return (ORDR + CAP0 + \CAP1) }
        }
    }
}
