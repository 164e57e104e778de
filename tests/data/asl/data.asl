/*
 * Data operators: Store/Index/DerefOf/SizeOf, arithmetic and logic, conversions,
 * Concatenate, Mid, Match, ObjectType, CondRefOf, RefOf/DerefOf, CopyObject,
 * Package/VarPackage/Buffer. Every result lands in CPU0._PSS / CPU1._PSS rows.
 */
DefinitionBlock ("", "DSDT", 2, "PYXEN", "DATA", 1)
{
    Name (TBL1, Package () { 10, 20, 30, Package () { 40, 50 }, "sixty", Buffer () { 7, 8, 9 } })
    Name (STR1, "ABC")
    Name (BUF1, Buffer () { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09 })
    Name (VAR1, 3)

    Method (ARIT, 0)
    {
        Local0 = Package (12) {}
        Local0[0] = (7 + 5) * 3 - 1                 /* 35 */
        Divide (100, 7, Local1, Local2)             /* remainder 2, quotient 14 */
        Local0[1] = Local1 * 100 + Local2           /* 214 */
        Local0[2] = 100 % 7                         /* 2 */
        Local0[3] = (0xF0 | 0x0F) & ~0x11           /* 0xEE */
        Local0[4] = 0xFF ^ 0x0F                     /* 0xF0 */
        Local0[5] = NAnd (0xFFFFFFFFFFFFFFFF, 0xF) + NOr (0, 0xFFFFFFFFFFFFFFF0)
        Local0[6] = FindSetLeftBit (0x80) * 100 + FindSetRightBit (0x80)   /* 808 */
        Local0[7] = ToBCD (1234) + FromBCD (0x99)   /* 0x1234 + 99 */
        Local3 = 5
        Local3++
        Local3 <<= 2                                /* 24 */
        Local3 >>= 1                                /* 12 */
        Local0[8] = Local3
        Local0[9] = (LAnd (1, 2) * 8) | (LOr (0, 0) * 4) | (LNot (0) * 2) | LEqual (1, 1)
        Local0[10] = (5 > 3) + (5 >= 5) * 2 + (3 < 2) * 4 + (4 <= 4) * 8 + (4 != 4) * 16
        Local0[11] = 0xFFFFFFFFFFFFFFFF + 2         /* 64-bit wrap: 1 */
        Return (Local0)
    }

    Method (CONV, 0)
    {
        Local0 = Package (10) {}
        Local0[0] = ToInteger ("0x1F") + ToInteger ("12")           /* 31 + 12 */
        Local4 = ToHexString (0xABC)                                /* 16 characters in ACPICA */
        Local0[1] = SizeOf (Local4)
        Local4 = ToDecimalString (12345)
        Local0[2] = SizeOf (Local4)                                 /* 5 */
        Local0[3] = ToInteger (ToBuffer (0x1122))                   /* 0x1122 */
        Local1 = Concatenate ("AB", "CD")
        Local4 = Concatenate (BUF1, BUF1)
        Local0[4] = SizeOf (Local1) * 10 + SizeOf (Local4)          /* 40 + 18 */
        Local2 = Concatenate (0x01, 0x02)                           /* 16-byte buffer */
        Local0[5] = SizeOf (Local2) * 0x100 + DerefOf (Local2[8])   /* 0x1002 */
        Mid (BUF1, 2, 3, Local4)
        Local0[6] = DerefOf (Local4[1])                             /* 4 */
        Local0[7] = Match (TBL1, MGT, 15, MLE, 25, 0)               /* 1 */
        Local0[8] = Match (TBL1, MEQ, 99, MTR, 0, 0)                /* Ones */
        Local0[9] = ToInteger (ToString (Buffer () { 0x33, 0x34, 0 }, Ones)) /* "34": decimal 34 */
        Return (Local0)
    }

    Method (OBJS, 0)
    {
        Local0 = Package (10) {}
        Local0[0] = ObjectType (TBL1) * 100 + ObjectType (STR1) * 10 + ObjectType (BUF1)  /* 4,2,3 */
        Local0[1] = CondRefOf (\VAR1) * 10 + CondRefOf (\NOPE)                             /* True is Ones */
        If (CondRefOf (\VAR1, Local1)) { Local0[2] = DerefOf (Local1) + 1 }                /* 4 */
        Local2 = RefOf (VAR1)
        Local2 = 7                                  /* Store through the reference? no: Local2 overwritten */
        Local0[3] = VAR1 * 10 + Local2              /* 37 */
        Store (9, RefOf (VAR1))
        Local0[4] = VAR1                            /* 9 */
        CopyObject (0x44, VAR1)
        Local0[5] = VAR1
        Local0[6] = SizeOf (TBL1) * 10 + SizeOf (DerefOf (TBL1[3]))                       /* 62 */
        Local0[7] = DerefOf (DerefOf (TBL1[3])[1])                                         /* 50 */
        Local0[8] = SizeOf (STR1) + SizeOf (DerefOf (TBL1[4]))                             /* 8 */
        Local3 = DerefOf (TBL1[5])
        Local3[1] = 0x80
        Local0[9] = DerefOf (Local3[1]) + DerefOf (DerefOf (TBL1[5])[1])                   /* 0x88 */
        Return (Local0)
    }

    Method (VPKG, 1)
    {
        Local0 = Package (Arg0) {}
        Local1 = 0
        While (Local1 < Arg0) { Local0[Local1] = Local1 * Local1
                                Local1++ }
        Return (Local0)
    }

    Scope (\_PR)
    {
        Processor (CPU0, 0x00, 0x00000410, 0x06)
        {
            Method (_PSS, 0)
            {
                Local0 = Package (3) {}
                Local0[0] = ARIT ()
                Local0[1] = CONV ()
                Local0[2] = OBJS ()
                Return (Local0)
            }
        }
        Processor (CPU1, 0x01, 0x00000410, 0x06)
        {
            Method (_PSS, 0) { Return (VPKG (VAR1 + 2)) }
            Method (_CSD, 0)
            {
                Local0 = Package (1) {}
                Local1 = Package () { "one", Buffer () { 0xAA, 0xBB }, 0 }
                Local1[2] = ToString ("tail")
                Local0[0] = Local1
                Return (Local0)
            }
            Name (_PPC, 2)
            Method (_PSD, 0)
            {
                Local0 = Buffer (4) { 1, 2, 3, 4 }
                Local0[2] = 0x33
                Local1 = Package (2) {}
                Local1[0] = "text"
                Local1[1] = Local0
                Return (Local1)         /* not a Package of Packages: ACPICA's check decides */
            }
        }
    }
}
