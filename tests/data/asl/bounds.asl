/*
 * Failures stay inside the object being evaluated: an endless While
 * (acpiexec stops it with AE_AML_LOOP_TIMEOUT), unbounded recursion, a
 * bounded recursion that must succeed, divide by zero, an Index beyond a
 * Package, a DerefOf of a non-reference, a call to a missing method, a big
 * VarPackage. CPU1 and the other objects are still read.
 */
DefinitionBlock ("", "DSDT", 2, "PYXEN", "BOUNDS", 1)
{
    Name (NOTH, 0)
    Method (DEEP, 1) { If (Arg0 == 0) { Return (0) }
                       Return (DEEP (Arg0 - 1) + 1) }
    Method (INFR, 1) { Return (INFR (Arg0 + 1)) }
    External (\MISS, MethodObj)

    Scope (\_PR)
    {
        Processor (CPU0, 0x01, 0x00000410, 0x06)
        {
            Method (_CST, 0) { Local0 = 0
                               While (One) { Local0++ }
                               Return (Local0) }
            Method (_PSS, 0) { Return (INFR (0)) }
            Method (_PPC, 0) { Return (10 / NOTH) }
            Method (_PSD, 0) { Local0 = Package (2) { 1, 2 }
                               Return (DerefOf (Local0[5])) }
            Method (_PCT, 0) { Return (\MISS ()) }
            Method (_CSD, 0) { Local0 = 5
                               Return (DerefOf (Local0)) }
        }
        Processor (CPU1, 0x02, 0x00000410, 0x06)
        {
            Method (_PPC, 0) { Return (DEEP (40)) }
            Method (_PSS, 0) { Local0 = Package (0x10000) {}
                               Local1 = Package (1) {}
                               Local1[0] = SizeOf (Local0)
                               Local2 = Package (1) {}
                               Local2[0] = Local1
                               Return (Local2) }
        }
    }
}
