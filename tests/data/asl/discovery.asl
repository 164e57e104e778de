/*
 * Finding processors: Processor() objects anywhere (under \_PR, \_SB, inside
 * a Device), Devices whose _HID is the String "ACPI0007" (a Name or a Method),
 * ACPI ids from ProcessorID or _UID (Integer, String, Method), an Alias to a
 * processor (not a second processor), a Device with another _HID, an integer
 * EISA _HID, and objects defined with _STA.
 */
DefinitionBlock ("", "DSDT", 2, "PYXEN", "DISCOVER", 1)
{
    Scope (\_PR)
    {
        Processor (P000, 0x10, 0x00000410, 0x06) { Name (_PPC, 0x10) }
    }
    Alias (\_PR.P000, \_PR.C000)
    Scope (\_SB)
    {
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A08"))
            Device (CPUA)
            {
                Name (_HID, "ACPI0007")
                Name (_UID, "0x21")
                Method (_STA, 0) { Return (0x0F) }
                Name (_PPC, 0x21)
            }
            Processor (P001, 0x11, 0x00000000, 0x00) { Name (_PPC, 0x11) }
        }
        Device (CPUB)
        {
            Method (_HID, 0) { Return ("ACPI0007") }
            Method (_UID, 0) { Return (0x22) }
            Method (_STA, 0) { Return (0) }
            Name (_PPC, 0x22)
        }
        Device (NOTC)
        {
            Name (_HID, "ACPI0008")
            Name (_UID, 0x23)
            Name (_PPC, 0x23)
        }
        Device (EISA)
        {
            Name (_HID, EisaId ("PNP0007"))
            Name (_UID, 0x24)
            Name (_PPC, 0x24)
        }
        Device (CPUC)
        {
            Name (_HID, "ACPI0007")
            Name (_UID, 0x25)
            Name (_CID, "ACPI0007")
            Method (_PPC, 0) { Return (ObjectType (\_PR.C000) + 0x15)  }
        }
    }
}
