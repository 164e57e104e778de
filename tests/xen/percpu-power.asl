/*
 * An SSDT for the real-Xen test VM (tests/xen/test_firmware_upload.py): processor power objects for
 * QEMU's own processors, different on every CPU, as firmware of a real machine would give them.
 *
 * QEMU's DSDT (machine "pc", 4 CPUs) declares Processor (C000, 0x00, ...) .. C003 under \_SB.CPUS
 * with _STA, _MAT, _OST and no power objects; the MADT gives them ACPI ids 0..3. This table adds:
 *
 *   C000  _PDC; _CST constant: C1 FFH (MWAIT 0x00, 1 us), C2 SystemIO 0x414 (20 us);
 *         _PCT whose address space follows the _PDC word (P_FFH granted: FFH, else SystemIO),
 *         _PSS (3 states), _PSD (SW_ALL over 4 CPUs), _PPC 1.
 *   C001  _PDC; _CST constant C1 FFH (2 us), C2 SystemIO 0x415 (40 us), and a C3 (SystemIO 0x416)
 *         whose latency is 0x100 + the byte at physical address 0xFFFFE (the BIOS model byte) read
 *         through a SystemMemory OperationRegion: a value from machine memory, not a constant.
 *   C002  no _PDC but _OSC (Intel processor UUID); _CST depends on the granted caps: with C1 FFH
 *         (bit 8) one state C1 FFH (3 us), without it C1 SystemIO 0x417 (3 us) and
 *         C2 SystemIO 0x418 (60 us).
 *   C003  _PDC; _CST depends on the granted caps: with C2/C3 FFH (bit 9) C1 FFH (5 us) and C2 FFH
 *         (MWAIT 0x10, 55 us); without, C1 SystemIO 0x419 (4 us), C2 SystemIO 0x41A (99 us),
 *         C3 SystemIO 0x41B (150 us).
 *   CPFE  a Processor with ACPI id 0xFE that is in no MADT (its _STA says absent): firmware data
 *         that matches no physical CPU.
 *
 * Xen 4.17 under QEMU TCG answers the _PDC handshake 0xbbf -> 0x9e (no FFH, no EIST), so C002 and
 * C003 take their SystemIO branches; without the handshake (caps 0xbbf) they would take FFH.
 * Every latency differs, so Xen's 'c' debug key output says which CPU holds which CPU's states.
 * Compiled by `iasl` at test time (the tests never ship an .aml).
 */
DefinitionBlock ("", "SSDT", 2, "PYXEN", "PERCPU", 0x00000001)
{
    External (\_SB.CPUS, DeviceObj)
    External (\_SB.CPUS.C000, ProcessorObj)
    External (\_SB.CPUS.C001, ProcessorObj)
    External (\_SB.CPUS.C002, ProcessorObj)
    External (\_SB.CPUS.C003, ProcessorObj)

    /* The BIOS model byte (0xFC on an AT-class PC; SeaBIOS writes it): read-only use. */
    OperationRegion (BIOS, SystemMemory, 0x000FFFFE, 0x01)
    Field (BIOS, ByteAcc, NoLock, Preserve)
    {
        MODL,   8
    }

    Scope (\_SB.CPUS.C000)
    {
        Name (CAPS, Zero)
        Method (_PDC, 1, Serialized)
        {
            CreateDWordField (Arg0, 0x08, CAP0)
            CAPS = CAP0
        }

        Name (_CST, Package (0x03)
        {
            0x02,
            Package (0x04)
            {
                ResourceTemplate () { Register (FFixedHW, 0x01, 0x02, 0x0000000000000000, 0x01) },
                0x01, 0x0001, 0x03E8
            },
            Package (0x04)
            {
                ResourceTemplate () { Register (SystemIO, 0x08, 0x00, 0x0000000000000414, 0x01) },
                0x02, 0x0014, 0x01F4
            }
        })

        Method (_PCT, 0, NotSerialized)
        {
            If ((CAPS & One))
            {
                Return (Package (0x02)
                {
                    ResourceTemplate () { Register (FFixedHW, 0x00, 0x00, 0x0000000000000000, ,) },
                    ResourceTemplate () { Register (FFixedHW, 0x00, 0x00, 0x0000000000000000, ,) }
                })
            }

            Return (Package (0x02)
            {
                ResourceTemplate () { Register (SystemIO, 0x10, 0x00, 0x0000000000000B2A, ,) },
                ResourceTemplate () { Register (SystemIO, 0x10, 0x00, 0x0000000000000B2C, ,) }
            })
        }

        Name (_PSS, Package (0x03)
        {
            Package (0x06) { 0x0A28, 0x88B8, 0x0A, 0x0A, 0x1A00, 0x1A00 },
            Package (0x06) { 0x07D0, 0x61A8, 0x0A, 0x0A, 0x1400, 0x1400 },
            Package (0x06) { 0x04B0, 0x3A98, 0x0A, 0x0A, 0x0C00, 0x0C00 }
        })
        Name (_PSD, Package (0x01)
        {
            Package (0x05) { 0x05, Zero, Zero, 0xFC, 0x04 }
        })
        Method (_PPC, 0, NotSerialized)
        {
            Return (One)
        }
    }

    Scope (\_SB.CPUS.C001)
    {
        Name (CAPS, Zero)
        Method (_PDC, 1, Serialized)
        {
            CreateDWordField (Arg0, 0x08, CAP1)
            CAPS = CAP1
        }

        Method (_CST, 0, Serialized)
        {
            /* A package element cannot be an expression: fill in C3's latency by Index. */
            Local1 = Package (0x04)
            {
                ResourceTemplate () { Register (SystemIO, 0x08, 0x00, 0x0000000000000416, 0x01) },
                0x03, Zero, 0x64
            }
            Local1 [0x02] = (0x0100 + MODL)
            Local0 = Package (0x04)
            {
                0x03,
                Package (0x04)
                {
                    ResourceTemplate () { Register (FFixedHW, 0x01, 0x02, 0x0000000000000000, 0x01) },
                    0x01, 0x0002, 0x03E8
                },
                Package (0x04)
                {
                    ResourceTemplate () { Register (SystemIO, 0x08, 0x00, 0x0000000000000415, 0x01) },
                    0x02, 0x0028, 0x01F4
                },
                Zero
            }
            Local0 [0x03] = Local1
            Return (Local0)
        }
    }

    Scope (\_SB.CPUS.C002)
    {
        Name (CAPS, Zero)
        Method (_OSC, 4, Serialized)
        {
            CreateDWordField (Arg3, Zero, STS0)
            CreateDWordField (Arg3, 0x04, CAP2)
            If ((Arg0 == ToUUID ("4077a616-290c-47be-9ebd-d87058713953")))
            {
                CAPS = CAP2
            }
            Else
            {
                STS0 |= 0x04  /* unrecognised UUID */
            }

            Return (Arg3)
        }

        Method (_CST, 0, Serialized)
        {
            If ((CAPS & 0x0100))
            {
                Return (Package (0x02)
                {
                    0x01,
                    Package (0x04)
                    {
                        ResourceTemplate () { Register (FFixedHW, 0x01, 0x02, 0x0000000000000000, 0x01) },
                        0x01, 0x0003, 0x03E8
                    }
                })
            }

            Return (Package (0x03)
            {
                0x02,
                Package (0x04)
                {
                    ResourceTemplate () { Register (SystemIO, 0x08, 0x00, 0x0000000000000417, 0x01) },
                    0x01, 0x0003, 0x03E8
                },
                Package (0x04)
                {
                    ResourceTemplate () { Register (SystemIO, 0x08, 0x00, 0x0000000000000418, 0x01) },
                    0x02, 0x003C, 0x01F4
                }
            })
        }
    }

    Scope (\_SB.CPUS.C003)
    {
        Name (CAPS, Zero)
        Method (_PDC, 1, Serialized)
        {
            CreateDWordField (Arg0, 0x08, CAP3)
            CAPS = CAP3
        }

        Method (_CST, 0, Serialized)
        {
            If ((CAPS & 0x0200))
            {
                Return (Package (0x03)
                {
                    0x02,
                    Package (0x04)
                    {
                        ResourceTemplate () { Register (FFixedHW, 0x01, 0x02, 0x0000000000000000, 0x01) },
                        0x01, 0x0005, 0x03E8
                    },
                    Package (0x04)
                    {
                        ResourceTemplate () { Register (FFixedHW, 0x01, 0x02, 0x0000000000000010, 0x01) },
                        0x02, 0x0037, 0x01F4
                    }
                })
            }

            Return (Package (0x04)
            {
                0x03,
                Package (0x04)
                {
                    ResourceTemplate () { Register (SystemIO, 0x08, 0x00, 0x0000000000000419, 0x01) },
                    0x01, 0x0004, 0x03E8
                },
                Package (0x04)
                {
                    ResourceTemplate () { Register (SystemIO, 0x08, 0x00, 0x000000000000041A, 0x01) },
                    0x02, 0x0063, 0x01F4
                },
                Package (0x04)
                {
                    ResourceTemplate () { Register (SystemIO, 0x08, 0x00, 0x000000000000041B, 0x01) },
                    0x03, 0x0096, 0x64
                }
            })
        }
    }

    Scope (\_SB.CPUS)
    {
        Processor (CPFE, 0xFE, 0x00000000, 0x00)
        {
            Method (_STA, 0, NotSerialized)
            {
                Return (Zero)
            }

            Name (_CST, Package (0x02)
            {
                0x01,
                Package (0x04)
                {
                    ResourceTemplate () { Register (FFixedHW, 0x01, 0x02, 0x0000000000000000, 0x01) },
                    0x01, 0x0009, 0x03E8
                }
            })
        }
    }
}
