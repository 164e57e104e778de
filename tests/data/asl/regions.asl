/*
 * Operation regions: SystemMemory and SystemIO fields read as zeros from files,
 * writes kept and read back (acpiexec simulates region memory the same way),
 * IndexField and BankField, access widths, field offsets, Create*Field on
 * buffers, and ResourceTemplate Register() descriptors in _CST/_PCT/_CPC.
 */
DefinitionBlock ("", "DSDT", 2, "PYXEN", "REGIONS", 1)
{
    OperationRegion (GNVS, SystemMemory, 0x7FFF0000, 0x100)
    Field (GNVS, AnyAcc, Lock, Preserve)
    {
        CFGD, 32,
        PDC0, 32,
        Offset (0x10),
        NCST, 8,
        FLG0, 1,
        FLG1, 1,
        , 4,
        FLG2, 2,
        Offset (0x20),
        WIDE, 64,
    }
    OperationRegion (PMIO, SystemIO, 0x400, 0x80)
    Field (PMIO, ByteAcc, NoLock, WriteAsZeros)
    {
        Offset (0x14),
        LV2, 8,
        LV3, 8,
    }
    OperationRegion (IDXR, SystemIO, 0x70, 0x02)
    Field (IDXR, ByteAcc, NoLock, Preserve) { INDX, 8, DATA, 8 }
    IndexField (INDX, DATA, ByteAcc, NoLock, Preserve)
    {
        Offset (0x10),
        IDX0, 8,
        IDX1, 16,
    }
    OperationRegion (BNKR, SystemIO, 0x90, 0x04)
    Field (BNKR, ByteAcc, NoLock, Preserve) { BSEL, 8 }
    BankField (BNKR, BSEL, 1, ByteAcc, NoLock, Preserve)
    {
        Offset (0x02),
        BNK1, 8,
    }

    Scope (\_PR)
    {
        Processor (CPU0, 0x01, 0x00000410, 0x06)
        {
            Method (_CST, 0)
            {
                /* Zeros from files: one C-state unless firmware wrote NCST first. */
                If (NCST == 0) { Return (Package () { 1, Package () {
                    ResourceTemplate () { Register (FFixedHW, 1, 2, 0x10, 1) }, 1, 1, 1000 } }) }
                Return (Package () { 2,
                    Package () { ResourceTemplate () { Register (FFixedHW, 1, 2, 0x10, 1) }, 1, 1, 1000 },
                    Package () { ResourceTemplate () { Register (SystemIO, 8, 0, 0x414) }, 2, 0x40, 500 } })
            }
            Method (_PSS, 0)
            {
                Local0 = Package (8) {}
                Local0[0] = CFGD + PDC0 + NCST + FLG0 + FLG2 + WIDE + LV2   /* zeros: 0 */
                NCST = 3
                FLG2 = 3
                FLG1 = 1
                WIDE = 0x1122334455667788
                Local0[1] = NCST * 0x100 + FLG2 * 0x10 + FLG1                /* 0x331 */
                Local0[2] = WIDE
                LV2 = 0xAB                                                    /* WriteAsZeros */
                Local0[3] = LV2
                IDX1 = 0x1234
                IDX0 = 0x56
                Local0[4] = IDX1 * 0x100 + IDX0
                BNK1 = 0x77
                Local0[5] = BNK1 + BSEL * 0x100
                Local1 = Buffer (16) {}
                CreateDWordField (Local1, 0, DW0)
                CreateWordField (Local1, 4, WD0)
                CreateByteField (Local1, 6, BY0)
                CreateBitField (Local1, 57, BIT0)
                CreateQWordField (Local1, 8, QW0)
                CreateField (Local1, 60, 8, FLD0)
                DW0 = 0xAABBCCDD
                WD0 = 0x1122
                BY0 = 0x33
                BIT0 = 1
                QW0 = 0x0102030405060708
                FLD0 = 0xFF
                Local0[6] = Local1
                Local0[7] = DerefOf (Local1[7]) * 0x10000 + QW0 & 0xFFFF
                Return (Local0)
            }
            Method (_CPC, 0)
            {
                Return (Package () { 23, 3,
                    ResourceTemplate () { Register (PCC, 32, 0, 0x10, 3) },
                    ResourceTemplate () { Register (SystemMemory, 32, 0, 0xFED00000, 3) },
                    0x10, 1, 2, 3, 4,
                    ResourceTemplate () { Register (FFixedHW, 64, 0, 0xE7, 4) },
                    ResourceTemplate () { Register (FFixedHW, 64, 0, 0xE8, 4) },
                    ResourceTemplate () { Register (SystemMemory, 0, 0, 0, 0) },
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })
            }
        }
        Processor (CPU1, 0x02, 0x00000410, 0x06)
        {
            /* Runs after CPU0's objects: sees CPU0's writes to the shared region. */
            Method (_CST, 0) { Return (\_PR.CPU0._CST ()) }
            Method (_PPC, 0) { Return (NCST + WIDE) }
        }
    }
}
