/*
 * Three tables: the DSDT declares the processors; SSDT1 adds their objects
 * through Scope and External, SSDT2 calls methods of SSDT1. Synchronisation
 * and notification are harmless: Mutex/Acquire/Release, Event/Signal/Wait/
 * Reset, Notify, Sleep, Stall, Debug, Serialized methods.
 */
DefinitionBlock ("", "DSDT", 2, "PYXEN", "MULTI", 1)
{
    Mutex (MUT0, 0)
    Event (EVT0)
    Name (CNT0, 0)
    Scope (\_PR)
    {
        Processor (CPU0, 0x01, 0x00000410, 0x06) {}
        Processor (CPU1, 0x02, 0x00000410, 0x06) {}
    }
    Method (BUMP, 1, Serialized)
    {
        Acquire (MUT0, 0xFFFF)
        CNT0 += Arg0
        Release (MUT0)
        Return (CNT0)
    }
}
