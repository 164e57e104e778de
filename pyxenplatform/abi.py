"""ctypes mirror of Xen's public ``xen/include/public/platform.h`` on x86_64.

Every class is named exactly as its C struct tag (or, for an anonymous struct,
``<parent>_<member>``), every field carries its C member name, and every
constant its C macro name, so that a name grepped from the header is found
here.  No logic lives in this module: it is the C layout and nothing else.

The layout is the current interface, as Xen's own tools and the Linux kernel
compile it (``__XEN_TOOLS__``, latest ``__XEN_INTERFACE_VERSION__``):
``xenpf_settime`` is ``xenpf_settime64``, ``xenpf_enter_acpi_sleep`` has
``val_a``/``val_b`` (the same bytes that older interface versions call
``pm1a_cnt_val``/``pm1b_cnt_val``).  Sizes, offsets and bitfield positions are
checked against gcc on the real header by ``tests/test_abi_layout.py``.

Guest handles (``XEN_GUEST_HANDLE(T)``) are, on x86_64, ``struct { T *p; }``:
here each is a one-field structure ``XEN_GUEST_HANDLE_<T>`` whose ``p`` is the
address Xen will ``copy_from_guest`` from.

Field annotations beside ``_fields_`` are what type checkers read (typeshed
types ctypes field access as ``Any``); ``tests/test_abi_typing.py`` proves the
two lists agree.
"""

from __future__ import annotations

import ctypes
from ctypes import c_char, c_int16, c_int32, c_uint8, c_uint16, c_uint32, c_uint64
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from typing import Never

    class Structure(ctypes.Structure):
        """Type-checking view: a misspelled field is an error, not ``Any``."""

        def __getattr__(self, name: str) -> object: ...
        def __setattr__(self, name: str, value: Never) -> None: ...

    class Union(ctypes.Union):
        """Type-checking view: a misspelled field is an error, not ``Any``."""

        def __getattr__(self, name: str) -> object: ...
        def __setattr__(self, name: str, value: Never) -> None: ...

else:
    Structure = ctypes.Structure
    Union = ctypes.Union

# xen/include/public/arch-x86/xen.h: unsigned long on x86_64.
xen_pfn_t = c_uint64
xen_ulong_t = c_uint64

# ---------------------------------------------------------------- xen.h
__HYPERVISOR_platform_op = 7
__HYPERVISOR_xen_version = 17

# ------------------------------------------------------------ version.h
# XENVER_version: no argument; the result is (major << 16) | minor.
XENVER_version = 0

# ------------------------------------------------------------ guest handles


class XEN_GUEST_HANDLE_void(Structure):
    _fields_ = [("p", c_uint64)]
    p: int


class XEN_GUEST_HANDLE_const_void(Structure):
    _fields_ = [("p", c_uint64)]
    p: int


class XEN_GUEST_HANDLE_uint8(Structure):
    _fields_ = [("p", c_uint64)]
    p: int


class XEN_GUEST_HANDLE_uint32(Structure):
    _fields_ = [("p", c_uint64)]
    p: int


class XEN_GUEST_HANDLE_uint64(Structure):
    _fields_ = [("p", c_uint64)]
    p: int


class XEN_GUEST_HANDLE_char(Structure):
    _fields_ = [("p", c_uint64)]
    p: int


# ------------------------------------------------------------ platform.h
XENPF_INTERFACE_VERSION = 0x03000001

XENPF_settime32 = 17
XENPF_settime64 = 62
XENPF_settime = XENPF_settime64  # __XEN_INTERFACE_VERSION__ >= 0x00040600


class xenpf_settime32(Structure):
    _fields_ = [("secs", c_uint32), ("nsecs", c_uint32), ("system_time", c_uint64)]
    secs: int
    nsecs: int
    system_time: int


class xenpf_settime64(Structure):
    _fields_ = [
        ("secs", c_uint64),
        ("nsecs", c_uint32),
        ("mbz", c_uint32),
        ("system_time", c_uint64),
    ]
    secs: int
    nsecs: int
    mbz: int
    system_time: int


xenpf_settime = xenpf_settime64

XENPF_add_memtype = 31


class xenpf_add_memtype(Structure):
    _fields_ = [
        ("mfn", xen_pfn_t),
        ("nr_mfns", c_uint64),
        ("type", c_uint32),
        ("handle", c_uint32),
        ("reg", c_uint32),
    ]
    mfn: int
    nr_mfns: int
    type: int
    handle: int
    reg: int


XENPF_del_memtype = 32


class xenpf_del_memtype(Structure):
    _fields_ = [("handle", c_uint32), ("reg", c_uint32)]
    handle: int
    reg: int


XENPF_read_memtype = 33


class xenpf_read_memtype(Structure):
    _fields_ = [
        ("reg", c_uint32),
        ("mfn", xen_pfn_t),
        ("nr_mfns", c_uint64),
        ("type", c_uint32),
    ]
    reg: int
    mfn: int
    nr_mfns: int
    type: int


XENPF_microcode_update = 35


class xenpf_microcode_update(Structure):
    _fields_ = [("data", XEN_GUEST_HANDLE_const_void), ("length", c_uint32)]
    data: XEN_GUEST_HANDLE_const_void
    length: int


XENPF_platform_quirk = 39
QUIRK_NOIRQBALANCING = 1
QUIRK_IOAPIC_BAD_REGSEL = 2
QUIRK_IOAPIC_GOOD_REGSEL = 3


class xenpf_platform_quirk(Structure):
    _fields_ = [("quirk_id", c_uint32)]
    quirk_id: int


XENPF_efi_runtime_call = 49
XEN_EFI_get_time = 1
XEN_EFI_set_time = 2
XEN_EFI_get_wakeup_time = 3
XEN_EFI_set_wakeup_time = 4
XEN_EFI_get_next_high_monotonic_count = 5
XEN_EFI_get_variable = 6
XEN_EFI_set_variable = 7
XEN_EFI_get_next_variable_name = 8
XEN_EFI_query_variable_info = 9
XEN_EFI_query_capsule_capabilities = 10
XEN_EFI_update_capsule = 11
XEN_EFI_GET_TIME_SET_CLEARS_NS = 0x00000001
XEN_EFI_GET_WAKEUP_TIME_ENABLED = 0x00000001
XEN_EFI_GET_WAKEUP_TIME_PENDING = 0x00000002
XEN_EFI_SET_WAKEUP_TIME_ENABLE = 0x00000001
XEN_EFI_SET_WAKEUP_TIME_ENABLE_ONLY = 0x00000002
XEN_EFI_VARIABLE_NON_VOLATILE = 0x00000001
XEN_EFI_VARIABLE_BOOTSERVICE_ACCESS = 0x00000002
XEN_EFI_VARIABLE_RUNTIME_ACCESS = 0x00000004
XEN_EFI_VARINFO_BOOT_SNAPSHOT = 0x00000001


class xenpf_efi_time(Structure):
    _fields_ = [
        ("year", c_uint16),
        ("month", c_uint8),
        ("day", c_uint8),
        ("hour", c_uint8),
        ("min", c_uint8),
        ("sec", c_uint8),
        ("ns", c_uint32),
        ("tz", c_int16),
        ("daylight", c_uint8),
    ]
    year: int
    month: int
    day: int
    hour: int
    min: int
    sec: int
    ns: int
    tz: int
    daylight: int


class xenpf_efi_guid(Structure):
    _fields_ = [
        ("data1", c_uint32),
        ("data2", c_uint16),
        ("data3", c_uint16),
        ("data4", c_uint8 * 8),
    ]
    data1: int
    data2: int
    data3: int
    data4: ctypes.Array[c_uint8]


class xenpf_efi_runtime_call_get_time(Structure):
    _fields_ = [
        ("time", xenpf_efi_time),
        ("resolution", c_uint32),
        ("accuracy", c_uint32),
    ]
    time: xenpf_efi_time
    resolution: int
    accuracy: int


class xenpf_efi_runtime_call_get_variable(Structure):
    """The anonymous struct shared by ``get_variable`` and ``set_variable``."""

    _fields_ = [
        ("name", XEN_GUEST_HANDLE_void),
        ("size", xen_ulong_t),
        ("data", XEN_GUEST_HANDLE_void),
        ("vendor_guid", xenpf_efi_guid),
    ]
    name: XEN_GUEST_HANDLE_void
    size: int
    data: XEN_GUEST_HANDLE_void
    vendor_guid: xenpf_efi_guid


class xenpf_efi_runtime_call_get_next_variable_name(Structure):
    _fields_ = [
        ("size", xen_ulong_t),
        ("name", XEN_GUEST_HANDLE_void),
        ("vendor_guid", xenpf_efi_guid),
    ]
    size: int
    name: XEN_GUEST_HANDLE_void
    vendor_guid: xenpf_efi_guid


class xenpf_efi_runtime_call_query_variable_info(Structure):
    _fields_ = [
        ("attr", c_uint32),
        ("max_store_size", c_uint64),
        ("remain_store_size", c_uint64),
        ("max_size", c_uint64),
    ]
    attr: int
    max_store_size: int
    remain_store_size: int
    max_size: int


class xenpf_efi_runtime_call_query_capsule_capabilities(Structure):
    _fields_ = [
        ("capsule_header_array", XEN_GUEST_HANDLE_void),
        ("capsule_count", xen_ulong_t),
        ("max_capsule_size", c_uint64),
        ("reset_type", c_uint32),
    ]
    capsule_header_array: XEN_GUEST_HANDLE_void
    capsule_count: int
    max_capsule_size: int
    reset_type: int


class xenpf_efi_runtime_call_update_capsule(Structure):
    _fields_ = [
        ("capsule_header_array", XEN_GUEST_HANDLE_void),
        ("capsule_count", xen_ulong_t),
        ("sg_list", c_uint64),
    ]
    capsule_header_array: XEN_GUEST_HANDLE_void
    capsule_count: int
    sg_list: int


class xenpf_efi_runtime_call_u(Union):
    _fields_ = [
        ("get_time", xenpf_efi_runtime_call_get_time),
        ("set_time", xenpf_efi_time),
        ("get_wakeup_time", xenpf_efi_time),
        ("set_wakeup_time", xenpf_efi_time),
        ("get_variable", xenpf_efi_runtime_call_get_variable),
        ("set_variable", xenpf_efi_runtime_call_get_variable),
        ("get_next_variable_name", xenpf_efi_runtime_call_get_next_variable_name),
        ("query_variable_info", xenpf_efi_runtime_call_query_variable_info),
        (
            "query_capsule_capabilities",
            xenpf_efi_runtime_call_query_capsule_capabilities,
        ),
        ("update_capsule", xenpf_efi_runtime_call_update_capsule),
    ]
    get_time: xenpf_efi_runtime_call_get_time
    set_time: xenpf_efi_time
    get_wakeup_time: xenpf_efi_time
    set_wakeup_time: xenpf_efi_time
    get_variable: xenpf_efi_runtime_call_get_variable
    set_variable: xenpf_efi_runtime_call_get_variable
    get_next_variable_name: xenpf_efi_runtime_call_get_next_variable_name
    query_variable_info: xenpf_efi_runtime_call_query_variable_info
    query_capsule_capabilities: xenpf_efi_runtime_call_query_capsule_capabilities
    update_capsule: xenpf_efi_runtime_call_update_capsule


class xenpf_efi_runtime_call(Structure):
    _fields_ = [
        ("function", c_uint32),
        ("misc", c_uint32),
        ("status", xen_ulong_t),
        ("u", xenpf_efi_runtime_call_u),
    ]
    function: int
    misc: int
    status: int
    u: xenpf_efi_runtime_call_u


XENPF_firmware_info = 50
XEN_FW_DISK_INFO = 1
XEN_FW_DISK_MBR_SIGNATURE = 2
XEN_FW_VBEDDC_INFO = 3
XEN_FW_EFI_INFO = 4
XEN_FW_EFI_VERSION = 0
XEN_FW_EFI_CONFIG_TABLE = 1
XEN_FW_EFI_VENDOR = 2
XEN_FW_EFI_MEM_INFO = 3
XEN_FW_EFI_RT_VERSION = 4
XEN_FW_EFI_PCI_ROM = 5
XEN_FW_EFI_APPLE_PROPERTIES = 6
XEN_FW_KBD_SHIFT_FLAGS = 5


class xenpf_firmware_info_disk_info(Structure):
    _fields_ = [
        ("device", c_uint8),
        ("version", c_uint8),
        ("interface_support", c_uint16),
        ("legacy_max_cylinder", c_uint16),
        ("legacy_max_head", c_uint8),
        ("legacy_sectors_per_track", c_uint8),
        ("edd_params", XEN_GUEST_HANDLE_void),
    ]
    device: int
    version: int
    interface_support: int
    legacy_max_cylinder: int
    legacy_max_head: int
    legacy_sectors_per_track: int
    edd_params: XEN_GUEST_HANDLE_void


class xenpf_firmware_info_disk_mbr_signature(Structure):
    _fields_ = [("device", c_uint8), ("mbr_signature", c_uint32)]
    device: int
    mbr_signature: int


class xenpf_firmware_info_vbeddc_info(Structure):
    _fields_ = [
        ("capabilities", c_uint8),
        ("edid_transfer_time", c_uint8),
        ("edid", XEN_GUEST_HANDLE_uint8),
    ]
    capabilities: int
    edid_transfer_time: int
    edid: XEN_GUEST_HANDLE_uint8


class xenpf_efi_info_cfg(Structure):
    _fields_ = [("addr", c_uint64), ("nent", c_uint32)]
    addr: int
    nent: int


class xenpf_efi_info_vendor(Structure):
    _fields_ = [
        ("revision", c_uint32),
        ("bufsz", c_uint32),
        ("name", XEN_GUEST_HANDLE_void),
    ]
    revision: int
    bufsz: int
    name: XEN_GUEST_HANDLE_void


class xenpf_efi_info_mem(Structure):
    _fields_ = [
        ("addr", c_uint64),
        ("size", c_uint64),
        ("attr", c_uint64),
        ("type", c_uint32),
    ]
    addr: int
    size: int
    attr: int
    type: int


class xenpf_efi_info_pci_rom(Structure):
    _fields_ = [
        ("segment", c_uint16),
        ("bus", c_uint8),
        ("devfn", c_uint8),
        ("vendor", c_uint16),
        ("devid", c_uint16),
        ("address", c_uint64),
        ("size", xen_ulong_t),
    ]
    segment: int
    bus: int
    devfn: int
    vendor: int
    devid: int
    address: int
    size: int


class xenpf_efi_info_apple_properties(Structure):
    _fields_ = [("address", c_uint64), ("size", xen_ulong_t)]
    address: int
    size: int


class xenpf_efi_info(Union):
    _fields_ = [
        ("version", c_uint32),
        ("cfg", xenpf_efi_info_cfg),
        ("vendor", xenpf_efi_info_vendor),
        ("mem", xenpf_efi_info_mem),
        ("pci_rom", xenpf_efi_info_pci_rom),
        ("apple_properties", xenpf_efi_info_apple_properties),
    ]
    version: int
    cfg: xenpf_efi_info_cfg
    vendor: xenpf_efi_info_vendor
    mem: xenpf_efi_info_mem
    pci_rom: xenpf_efi_info_pci_rom
    apple_properties: xenpf_efi_info_apple_properties


class xenpf_firmware_info_u(Union):
    _fields_ = [
        ("disk_info", xenpf_firmware_info_disk_info),
        ("disk_mbr_signature", xenpf_firmware_info_disk_mbr_signature),
        ("vbeddc_info", xenpf_firmware_info_vbeddc_info),
        ("efi_info", xenpf_efi_info),
        ("kbd_shift_flags", c_uint8),
    ]
    disk_info: xenpf_firmware_info_disk_info
    disk_mbr_signature: xenpf_firmware_info_disk_mbr_signature
    vbeddc_info: xenpf_firmware_info_vbeddc_info
    efi_info: xenpf_efi_info
    kbd_shift_flags: int


class xenpf_firmware_info(Structure):
    _fields_ = [
        ("type", c_uint32),
        ("index", c_uint32),
        ("u", xenpf_firmware_info_u),
    ]
    type: int
    index: int
    u: xenpf_firmware_info_u


XENPF_enter_acpi_sleep = 51
XENPF_ACPI_SLEEP_EXTENDED = 0x00000001


class xenpf_enter_acpi_sleep(Structure):
    _fields_ = [
        ("val_a", c_uint16),  # PM1a control / sleep type A
        ("val_b", c_uint16),  # PM1b control / sleep type B
        ("sleep_state", c_uint32),
        ("flags", c_uint32),
    ]
    val_a: int
    val_b: int
    sleep_state: int
    flags: int


XENPF_change_freq = 52


class xenpf_change_freq(Structure):
    _fields_ = [("flags", c_uint32), ("cpu", c_uint32), ("freq", c_uint64)]
    flags: int
    cpu: int
    freq: int


XENPF_getidletime = 53


class xenpf_getidletime(Structure):
    _fields_ = [
        ("cpumap_bitmap", XEN_GUEST_HANDLE_uint8),
        ("cpumap_nr_cpus", c_uint32),
        ("idletime", XEN_GUEST_HANDLE_uint64),
        ("now", c_uint64),
    ]
    cpumap_bitmap: XEN_GUEST_HANDLE_uint8
    cpumap_nr_cpus: int
    idletime: XEN_GUEST_HANDLE_uint64
    now: int


XENPF_set_processor_pminfo = 54

# ability bits
XEN_PROCESSOR_PM_CX = 1
XEN_PROCESSOR_PM_PX = 2
XEN_PROCESSOR_PM_TX = 4

# cmd type
XEN_PM_CX = 0
XEN_PM_PX = 1
XEN_PM_TX = 2
XEN_PM_PDC = 3
XEN_PM_CPPC = 4  # Xen 4.21 and newer

# Px sub info type
XEN_PX_PCT = 1
XEN_PX_PSS = 2
XEN_PX_PPC = 4
XEN_PX_PSD = 8

# CPPC sub info type (Xen 4.21 and newer)
XEN_CPPC_PSD = 1 << 0
XEN_CPPC_CPC = 1 << 1


class xen_power_register(Structure):
    _fields_ = [
        ("space_id", c_uint32),
        ("bit_width", c_uint32),
        ("bit_offset", c_uint32),
        ("access_size", c_uint32),
        ("address", c_uint64),
    ]
    space_id: int
    bit_width: int
    bit_offset: int
    access_size: int
    address: int


class xen_processor_csd(Structure):
    _fields_ = [("domain", c_uint32), ("coord_type", c_uint32), ("num", c_uint32)]
    domain: int
    coord_type: int
    num: int


xen_processor_csd_t = xen_processor_csd


class XEN_GUEST_HANDLE_xen_processor_csd_t(Structure):
    _fields_ = [("p", c_uint64)]
    p: int
    target: ClassVar[type[ctypes.Structure]] = xen_processor_csd


class xen_processor_cx(Structure):
    _fields_ = [
        ("reg", xen_power_register),
        ("type", c_uint8),
        ("latency", c_uint32),
        ("power", c_uint32),
        ("dpcnt", c_uint32),
        ("dp", XEN_GUEST_HANDLE_xen_processor_csd_t),
    ]
    reg: xen_power_register
    type: int
    latency: int
    power: int
    dpcnt: int
    dp: XEN_GUEST_HANDLE_xen_processor_csd_t


xen_processor_cx_t = xen_processor_cx


class XEN_GUEST_HANDLE_xen_processor_cx_t(Structure):
    _fields_ = [("p", c_uint64)]
    p: int
    target: ClassVar[type[ctypes.Structure]] = xen_processor_cx


class xen_processor_flags(Structure):
    _fields_ = [
        ("bm_control", c_uint32, 1),
        ("bm_check", c_uint32, 1),
        ("has_cst", c_uint32, 1),
        ("power_setup_done", c_uint32, 1),
        ("bm_rld_set", c_uint32, 1),
    ]
    bm_control: int
    bm_check: int
    has_cst: int
    power_setup_done: int
    bm_rld_set: int


class xen_processor_power(Structure):
    _fields_ = [
        ("count", c_uint32),
        ("flags", xen_processor_flags),
        ("states", XEN_GUEST_HANDLE_xen_processor_cx_t),
    ]
    count: int
    flags: xen_processor_flags
    states: XEN_GUEST_HANDLE_xen_processor_cx_t


class xen_pct_register(Structure):
    _fields_ = [
        ("descriptor", c_uint8),
        ("length", c_uint16),
        ("space_id", c_uint8),
        ("bit_width", c_uint8),
        ("bit_offset", c_uint8),
        ("reserved", c_uint8),
        ("address", c_uint64),
    ]
    descriptor: int
    length: int
    space_id: int
    bit_width: int
    bit_offset: int
    reserved: int
    address: int


class xen_processor_px(Structure):
    _fields_ = [
        ("core_frequency", c_uint64),
        ("power", c_uint64),
        ("transition_latency", c_uint64),
        ("bus_master_latency", c_uint64),
        ("control", c_uint64),
        ("status", c_uint64),
    ]
    core_frequency: int
    power: int
    transition_latency: int
    bus_master_latency: int
    control: int
    status: int


xen_processor_px_t = xen_processor_px


class XEN_GUEST_HANDLE_xen_processor_px_t(Structure):
    _fields_ = [("p", c_uint64)]
    p: int
    target: ClassVar[type[ctypes.Structure]] = xen_processor_px


class xen_psd_package(Structure):
    _fields_ = [
        ("num_entries", c_uint64),
        ("revision", c_uint64),
        ("domain", c_uint64),
        ("coord_type", c_uint64),
        ("num_processors", c_uint64),
    ]
    num_entries: int
    revision: int
    domain: int
    coord_type: int
    num_processors: int


XEN_CPUPERF_SHARED_TYPE_HW = 1
XEN_CPUPERF_SHARED_TYPE_ALL = 2
XEN_CPUPERF_SHARED_TYPE_ANY = 3


class xen_processor_performance(Structure):
    _fields_ = [
        ("flags", c_uint32),
        ("platform_limit", c_uint32),
        ("control_register", xen_pct_register),
        ("status_register", xen_pct_register),
        ("state_count", c_uint32),
        ("states", XEN_GUEST_HANDLE_xen_processor_px_t),
        ("domain_info", xen_psd_package),
        ("shared_type", c_uint32),
    ]
    flags: int
    platform_limit: int
    control_register: xen_pct_register
    status_register: xen_pct_register
    state_count: int
    states: XEN_GUEST_HANDLE_xen_processor_px_t
    domain_info: xen_psd_package
    shared_type: int


class xen_processor_cppc_cpc(Structure):
    _fields_ = [
        ("highest_perf", c_uint32),
        ("nominal_perf", c_uint32),
        ("lowest_nonlinear_perf", c_uint32),
        ("lowest_perf", c_uint32),
        ("lowest_mhz", c_uint32),
        ("nominal_mhz", c_uint32),
    ]
    highest_perf: int
    nominal_perf: int
    lowest_nonlinear_perf: int
    lowest_perf: int
    lowest_mhz: int
    nominal_mhz: int


class xen_processor_cppc(Structure):
    """``_CPC`` + ``_PSD`` data, ``XEN_PM_CPPC`` (Xen 4.21 and newer)."""

    _fields_ = [
        ("flags", c_uint8),
        ("pad", c_uint8 * 3),
        ("cpc", xen_processor_cppc_cpc),
        ("shared_type", c_uint32),
        ("domain_info", xen_psd_package),
    ]
    flags: int
    pad: ctypes.Array[c_uint8]
    cpc: xen_processor_cppc_cpc
    shared_type: int
    domain_info: xen_psd_package


class xenpf_set_processor_pminfo_u(Union):
    _fields_ = [
        ("power", xen_processor_power),
        ("perf", xen_processor_performance),
        ("pdc", XEN_GUEST_HANDLE_uint32),
        ("cppc_data", xen_processor_cppc),
    ]
    power: xen_processor_power
    perf: xen_processor_performance
    pdc: XEN_GUEST_HANDLE_uint32
    cppc_data: xen_processor_cppc


class xenpf_set_processor_pminfo(Structure):
    _fields_ = [
        ("id", c_uint32),
        ("type", c_uint32),
        ("u", xenpf_set_processor_pminfo_u),
    ]
    id: int
    type: int
    u: xenpf_set_processor_pminfo_u


XENPF_get_cpuinfo = 55
XEN_PCPU_FLAGS_ONLINE = 1
XEN_PCPU_FLAGS_INVALID = 2


class xenpf_pcpuinfo(Structure):
    _fields_ = [
        ("xen_cpuid", c_uint32),
        ("max_present", c_uint32),
        ("flags", c_uint32),
        ("apic_id", c_uint32),
        ("acpi_id", c_uint32),
    ]
    xen_cpuid: int
    max_present: int
    flags: int
    apic_id: int
    acpi_id: int


XENPF_get_cpu_version = 48


class xenpf_pcpu_version(Structure):
    _fields_ = [
        ("xen_cpuid", c_uint32),
        ("max_present", c_uint32),
        ("vendor_id", c_char * 12),
        ("family", c_uint32),
        ("model", c_uint32),
        ("stepping", c_uint32),
    ]
    xen_cpuid: int
    max_present: int
    vendor_id: bytes
    family: int
    model: int
    stepping: int


XENPF_cpu_online = 56
XENPF_cpu_offline = 57


class xenpf_cpu_ol(Structure):
    _fields_ = [("cpuid", c_uint32)]
    cpuid: int


XENPF_cpu_hotadd = 58


class xenpf_cpu_hotadd(Structure):
    _fields_ = [("apic_id", c_uint32), ("acpi_id", c_uint32), ("pxm", c_uint32)]
    apic_id: int
    acpi_id: int
    pxm: int


XENPF_mem_hotadd = 59


class xenpf_mem_hotadd(Structure):
    _fields_ = [
        ("spfn", c_uint64),
        ("epfn", c_uint64),
        ("pxm", c_uint32),
        ("flags", c_uint32),
    ]
    spfn: int
    epfn: int
    pxm: int
    flags: int


XENPF_core_parking = 60
XEN_CORE_PARKING_SET = 1
XEN_CORE_PARKING_GET = 2


class xenpf_core_parking(Structure):
    _fields_ = [("type", c_uint32), ("idle_nums", c_uint32)]
    type: int
    idle_nums: int


XENPF_resource_op = 61
XEN_RESOURCE_OP_MSR_READ = 0
XEN_RESOURCE_OP_MSR_WRITE = 1


class xenpf_resource_entry_u(Union):
    _fields_ = [("cmd", c_uint32), ("ret", c_int32)]
    cmd: int
    ret: int


class xenpf_resource_entry(Structure):
    _fields_ = [
        ("u", xenpf_resource_entry_u),
        ("rsvd", c_uint32),
        ("idx", c_uint64),
        ("val", c_uint64),
    ]
    u: xenpf_resource_entry_u
    rsvd: int
    idx: int
    val: int


class XEN_GUEST_HANDLE_xenpf_resource_entry_t(Structure):
    _fields_ = [("p", c_uint64)]
    p: int
    target: ClassVar[type[ctypes.Structure]] = xenpf_resource_entry


class xenpf_resource_op(Structure):
    _fields_ = [
        ("nr_entries", c_uint32),
        ("cpu", c_uint32),
        ("entries", XEN_GUEST_HANDLE_xenpf_resource_entry_t),
    ]
    nr_entries: int
    cpu: int
    entries: XEN_GUEST_HANDLE_xenpf_resource_entry_t


XENPF_get_symbol = 63


class xenpf_symdata(Structure):
    _fields_ = [
        ("namelen", c_uint32),
        ("symnum", c_uint32),
        ("name", XEN_GUEST_HANDLE_char),
        ("address", c_uint64),
        ("type", c_char),
    ]
    namelen: int
    symnum: int
    name: XEN_GUEST_HANDLE_char
    address: int
    type: bytes


# xen.h's struct dom0_vga_console_info, the payload of XENPF_get_dom0_console.
XENPF_get_dom0_console = 64  # Xen 4.18 and newer
XEN_VGATYPE_TEXT_MODE_3 = 0x03
XEN_VGATYPE_VESA_LFB = 0x23
XEN_VGATYPE_EFI_LFB = 0x70


class dom0_vga_console_info_text_mode_3(Structure):
    _fields_ = [
        ("font_height", c_uint16),
        ("cursor_x", c_uint16),
        ("cursor_y", c_uint16),
        ("rows", c_uint16),
        ("columns", c_uint16),
    ]
    font_height: int
    cursor_x: int
    cursor_y: int
    rows: int
    columns: int


class dom0_vga_console_info_vesa_lfb(Structure):
    _fields_ = [
        ("width", c_uint16),
        ("height", c_uint16),
        ("bytes_per_line", c_uint16),
        ("bits_per_pixel", c_uint16),
        ("lfb_base", c_uint32),
        ("lfb_size", c_uint32),
        ("red_pos", c_uint8),
        ("red_size", c_uint8),
        ("green_pos", c_uint8),
        ("green_size", c_uint8),
        ("blue_pos", c_uint8),
        ("blue_size", c_uint8),
        ("rsvd_pos", c_uint8),
        ("rsvd_size", c_uint8),
        ("gbl_caps", c_uint32),
        ("mode_attrs", c_uint16),
        ("pad", c_uint16),
        ("ext_lfb_base", c_uint32),
    ]
    width: int
    height: int
    bytes_per_line: int
    bits_per_pixel: int
    lfb_base: int
    lfb_size: int
    red_pos: int
    red_size: int
    green_pos: int
    green_size: int
    blue_pos: int
    blue_size: int
    rsvd_pos: int
    rsvd_size: int
    gbl_caps: int
    mode_attrs: int
    pad: int
    ext_lfb_base: int


class dom0_vga_console_info_u(Union):
    _fields_ = [
        ("text_mode_3", dom0_vga_console_info_text_mode_3),
        ("vesa_lfb", dom0_vga_console_info_vesa_lfb),
    ]
    text_mode_3: dom0_vga_console_info_text_mode_3
    vesa_lfb: dom0_vga_console_info_vesa_lfb


class dom0_vga_console_info(Structure):
    _fields_ = [("video_type", c_uint8), ("u", dom0_vga_console_info_u)]
    video_type: int
    u: dom0_vga_console_info_u


XENPF_get_ucode_revision = 65  # Xen 4.19 and newer


class xenpf_ucode_revision(Structure):
    _fields_ = [
        ("cpu", c_uint32),
        ("signature", c_uint32),
        ("pf", c_uint32),
        ("revision", c_uint32),
    ]
    cpu: int
    signature: int
    pf: int
    revision: int


XENPF_microcode_update2 = 66  # Xen 4.20 and newer


class xenpf_microcode_update2(Structure):
    _fields_ = [
        ("flags", c_uint32),
        ("length", c_uint32),
        ("data", XEN_GUEST_HANDLE_const_void),
    ]
    flags: int
    length: int
    data: XEN_GUEST_HANDLE_const_void


# xenpf_microcode_update2.flags: skip the microcode version check.
XENPF_UCODE_FORCE = 1


class xen_platform_op_u(Union):
    _fields_ = [
        ("settime", xenpf_settime),
        ("settime32", xenpf_settime32),
        ("settime64", xenpf_settime64),
        ("add_memtype", xenpf_add_memtype),
        ("del_memtype", xenpf_del_memtype),
        ("read_memtype", xenpf_read_memtype),
        ("microcode", xenpf_microcode_update),
        ("platform_quirk", xenpf_platform_quirk),
        ("efi_runtime_call", xenpf_efi_runtime_call),
        ("firmware_info", xenpf_firmware_info),
        ("enter_acpi_sleep", xenpf_enter_acpi_sleep),
        ("change_freq", xenpf_change_freq),
        ("getidletime", xenpf_getidletime),
        ("set_pminfo", xenpf_set_processor_pminfo),
        ("pcpu_info", xenpf_pcpuinfo),
        ("pcpu_version", xenpf_pcpu_version),
        ("cpu_ol", xenpf_cpu_ol),
        ("cpu_add", xenpf_cpu_hotadd),
        ("mem_add", xenpf_mem_hotadd),
        ("core_parking", xenpf_core_parking),
        ("resource_op", xenpf_resource_op),
        ("symdata", xenpf_symdata),
        ("dom0_console", dom0_vga_console_info),
        ("ucode_revision", xenpf_ucode_revision),
        ("microcode2", xenpf_microcode_update2),
        ("pad", c_uint8 * 128),
    ]
    settime: xenpf_settime64
    settime32: xenpf_settime32
    settime64: xenpf_settime64
    add_memtype: xenpf_add_memtype
    del_memtype: xenpf_del_memtype
    read_memtype: xenpf_read_memtype
    microcode: xenpf_microcode_update
    platform_quirk: xenpf_platform_quirk
    efi_runtime_call: xenpf_efi_runtime_call
    firmware_info: xenpf_firmware_info
    enter_acpi_sleep: xenpf_enter_acpi_sleep
    change_freq: xenpf_change_freq
    getidletime: xenpf_getidletime
    set_pminfo: xenpf_set_processor_pminfo
    pcpu_info: xenpf_pcpuinfo
    pcpu_version: xenpf_pcpu_version
    cpu_ol: xenpf_cpu_ol
    cpu_add: xenpf_cpu_hotadd
    mem_add: xenpf_mem_hotadd
    core_parking: xenpf_core_parking
    resource_op: xenpf_resource_op
    symdata: xenpf_symdata
    dom0_console: dom0_vga_console_info
    ucode_revision: xenpf_ucode_revision
    microcode2: xenpf_microcode_update2
    pad: ctypes.Array[c_uint8]


class xen_platform_op(Structure):
    _fields_ = [
        ("cmd", c_uint32),
        ("interface_version", c_uint32),
        ("u", xen_platform_op_u),
    ]
    cmd: int
    interface_version: int
    u: xen_platform_op_u


# --------------------------------------------- Linux include/uapi/xen/privcmd.h


class privcmd_hypercall(Structure):
    _fields_ = [("op", c_uint64), ("arg", c_uint64 * 5)]
    op: int
    arg: ctypes.Array[c_uint64]


# _IOC(_IOC_NONE, 'P', 0, sizeof(struct privcmd_hypercall))
IOCTL_PRIVCMD_HYPERCALL = 0x305000

# ------------------------------------------------ ACPI values the structs carry
# ACPI 6.5 section 5.2.3.2, Generic Address Structure "Address Space ID".
ACPI_ADR_SPACE_SYSTEM_MEMORY = 0x00
ACPI_ADR_SPACE_SYSTEM_IO = 0x01
ACPI_ADR_SPACE_PCI_CONFIG = 0x02
ACPI_ADR_SPACE_EC = 0x03
ACPI_ADR_SPACE_SMBUS = 0x04
ACPI_ADR_SPACE_CMOS = 0x05
ACPI_ADR_SPACE_PCI_BAR_TARGET = 0x06
ACPI_ADR_SPACE_IPMI = 0x07
ACPI_ADR_SPACE_GPIO = 0x08
ACPI_ADR_SPACE_GSBUS = 0x09
ACPI_ADR_SPACE_PLATFORM_COMM = 0x0A
ACPI_ADR_SPACE_FIXED_HARDWARE = 0x7F

# _CST entry "Type" (ACPI 6.5 section 8.4.1.1).
ACPI_STATE_C0 = 0
ACPI_STATE_C1 = 1
ACPI_STATE_C2 = 2
ACPI_STATE_C3 = 3

# _PSD / _CSD "CoordType" (ACPI 6.5 section 8.4.5.5).
DOMAIN_COORD_TYPE_SW_ALL = 0xFC
DOMAIN_COORD_TYPE_SW_ANY = 0xFD
DOMAIN_COORD_TYPE_HW_ALL = 0xFE

# _PSD package: 5 entries, revision 0 (ACPI 6.5 section 8.4.5.5).
ACPI_PSD_REV0_ENTRIES = 5
ACPI_PSD_REV0_REVISION = 0

# _PCT: Generic Register Descriptor (ACPI 6.5 section 6.4.3.7).
ACPI_RESOURCE_GENERIC_REGISTER = 0x82
ACPI_RESOURCE_GENERIC_REGISTER_LENGTH = 0x0C

# _PDC buffer: revision, count, capabilities (Intel "Processor Vendor-Specific
# ACPI" document; Xen xen/arch/x86/acpi/lib.c arch_acpi_set_pdc_bits).
ACPI_PDC_REVISION_ID = 1
# _PDC capability bits and the groups Xen masks (Xen xen/include/acpi/pdc_intel.h).
ACPI_PDC_P_FFH = 0x0001
ACPI_PDC_C_C1_HALT = 0x0002
ACPI_PDC_T_FFH = 0x0004
ACPI_PDC_SMP_C1PT = 0x0008
ACPI_PDC_SMP_C2C3 = 0x0010
ACPI_PDC_SMP_P_SWCOORD = 0x0020
ACPI_PDC_SMP_C_SWCOORD = 0x0040
ACPI_PDC_SMP_T_SWCOORD = 0x0080
ACPI_PDC_C_C1_FFH = 0x0100
ACPI_PDC_C_C2C3_FFH = 0x0200
ACPI_PDC_SMP_P_HWCOORD = 0x0800
ACPI_PDC_EST_CAPABILITY_SWSMP = (ACPI_PDC_SMP_C1PT | ACPI_PDC_C_C1_HALT | ACPI_PDC_SMP_P_SWCOORD
                                 | ACPI_PDC_SMP_P_HWCOORD | ACPI_PDC_P_FFH)
ACPI_PDC_C_CAPABILITY_SMP = (ACPI_PDC_SMP_C2C3 | ACPI_PDC_SMP_C1PT | ACPI_PDC_C_C1_HALT
                             | ACPI_PDC_C_C1_FFH | ACPI_PDC_C_C2C3_FFH)
ACPI_PDC_C_MASK = (ACPI_PDC_C_C1_HALT | ACPI_PDC_C_C1_FFH | ACPI_PDC_SMP_C2C3
                   | ACPI_PDC_SMP_C_SWCOORD | ACPI_PDC_C_C2C3_FFH)
ACPI_PDC_P_MASK = ACPI_PDC_P_FFH | ACPI_PDC_SMP_P_SWCOORD | ACPI_PDC_SMP_P_HWCOORD
ACPI_PDC_T_MASK = ACPI_PDC_T_FFH | ACPI_PDC_SMP_T_SWCOORD
