/*
 * Load: CPU0's _PDC writes a whole SSDT (the bytes below: DefinitionBlock
 * "SSDT" "DYNLOAD", adding _PSS and _PPC to \_PR.CPU0) into a SystemMemory
 * region and Loads it, as Intel firmware loads its per-CPU power SSDTs; the
 * loaded objects are then read like any other. CPU1's _PDC Loads a region
 * of zeros (no table): ACPICA fails that _PDC there (AE_INVALID_TABLE_LENGTH),
 * so _PPC shows the step after the Load never ran.
 *
 * Not here on purpose: a second Load of a table already loaded. ACPICA fails
 * the method (AE_ALREADY_EXISTS); issue 8 makes it a logged no-op, because on
 * a running machine the tables _PDC loads are already in dynamic/ and the
 * boot-time Load succeeded. acpiexec cannot be the oracle of that choice.
 */
DefinitionBlock ("", "DSDT", 2, "PYXEN", "LOAD", 1)
{
    OperationRegion (TBLM, SystemMemory, 0x7FFE0000, 0x100)
    Field (TBLM, AnyAcc, NoLock, Preserve) { TBLB, 0x800 }
    OperationRegion (EMPT, SystemMemory, 0x7FFD0000, 0x100)
    Name (SSDB, Buffer () {
            0x53, 0x53, 0x44, 0x54, 0x64, 0x00, 0x00, 0x00, 0x02, 0x4E, 0x50, 0x59,
            0x58, 0x45, 0x4E, 0x00, 0x44, 0x59, 0x4E, 0x4C, 0x4F, 0x41, 0x44, 0x00,
            0x01, 0x00, 0x00, 0x00, 0x49, 0x4E, 0x54, 0x4C, 0x25, 0x09, 0x20, 0x20,
            0xA0, 0x0F, 0x00, 0x15, 0x5C, 0x2E, 0x5F, 0x50, 0x52, 0x5F, 0x43, 0x50,
            0x55, 0x30, 0x0C, 0x00, 0x10, 0x2F, 0x5C, 0x2E, 0x5F, 0x50, 0x52, 0x5F,
            0x43, 0x50, 0x55, 0x30, 0x08, 0x5F, 0x50, 0x53, 0x53, 0x12, 0x15, 0x01,
            0x12, 0x12, 0x06, 0x0B, 0x40, 0x06, 0x0B, 0x28, 0x23, 0x0A, 0x0A, 0x0A,
            0x0A, 0x0B, 0x00, 0x10, 0x0B, 0x00, 0x10, 0x14, 0x08, 0x5F, 0x50, 0x50,
            0x43, 0x00, 0xA4, 0x00
    })
    Name (STEP, 0)

    Scope (\_PR)
    {
        Processor (CPU0, 0x01, 0x00000410, 0x06)
        {
            Method (_PDC, 1)
            {
                TBLB = SSDB
                Load (TBLM, Local0)
                STEP |= 1
            }
        }
        Processor (CPU1, 0x02, 0x00000410, 0x06)
        {
            Method (_PDC, 1)
            {
                STEP |= 2
                Load (EMPT, Local0)
                STEP |= 4
            }
            Method (_PPC, 0) { Return (STEP) }
        }
    }
}
