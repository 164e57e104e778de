DefinitionBlock ("", "SSDT", 2, "PYXEN", "MULTI1", 1)
{
    External (\_PR.CPU0, ProcessorObj)
    External (\_PR.CPU1, ProcessorObj)
    External (\BUMP, MethodObj)
    External (\EVT0, EventObj)
    External (\MUT0, MutexObj)

    Scope (\_PR.CPU0)
    {
        Name (PSSX, Package () {
            Package () { 2400, 15000, 10, 10, 0x1800, 0x1800 },
            Package () { 1200, 6000, 10, 10, 0xC00, 0xC00 } })
        Method (_PSS, 0)
        {
            Notify (\_PR.CPU0, 0x80)
            Sleep (1)
            Stall (10)
            Debug = "CPU0._PSS"
            Signal (\EVT0)
            Local0 = Wait (\EVT0, 0)    /* 0: the event was signalled */
            Reset (\EVT0)
            Local1 = Acquire (\MUT0, 0) /* 0: acquired */
            Release (\MUT0)
            If (LOr (Local0, Local1)) { Return (Package () {}) }
            Return (PSSX)
        }
        Method (_PPC, 0) { Return (\BUMP (1)) }
    }
    Method (\_PR.CPU1._PSS, 0) { Return (\_PR.CPU0.PSSX) }
}
