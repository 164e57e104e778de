DefinitionBlock ("", "SSDT", 2, "PYXEN", "MULTI2", 1)
{
    External (\_PR.CPU0._PPC, MethodObj)
    External (\_PR.CPU1, ProcessorObj)
    External (\BUMP, MethodObj)
    Scope (\_PR.CPU1)
    {
        Method (_PPC, 0) { Return (\_PR.CPU0._PPC () + \BUMP (10)) }
        Name (_PSD, Package () { Package () { 5, 0, 0, 0xFD, 2 } })
    }
}
