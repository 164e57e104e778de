"""ctypes mirror of the read-back part of Xen's public ``xen/include/public/sysctl.h`` (x86_64).

Only what reading back power state needs: ``XEN_SYSCTL_get_pmstat`` (C-state and P-state
statistics) and ``XEN_SYSCTL_pm_op`` (``GET_CPUFREQ_PARA``), issued with ``__HYPERVISOR_sysctl``.
Names are the C names, as in :mod:`pyxenplatform.abi`; no logic lives here.

The layout is the one Debian's libxen-dev 4.17 header compiles to with ``__XEN_TOOLS__``
(``tests/test_abi_sysctl.py`` checks it with gcc), and it is byte-identical in 4.17 to 4.22
(``../shared/reference/sysctl-pm-layout-x86_64.txt``): only the names differ, since 4.20 nests
``scaling_cur_freq`` .. ``u`` of ``xen_get_cpufreq_para`` in a struct ``s`` (and a union with
HWP/CPPC parameters) at the same offsets. What changes between releases is
``XEN_SYSCTL_INTERFACE_VERSION``: 0x15 in 4.17-4.20 (the value below, the installed header's),
0x16 in 4.21 and newer; Xen refuses any other with EACCES.
"""

from __future__ import annotations

import ctypes
from ctypes import c_char, c_int32, c_uint8, c_uint32, c_uint64
from typing import ClassVar

from .abi import (
    XEN_GUEST_HANDLE_char,
    XEN_GUEST_HANDLE_uint32,
    XEN_GUEST_HANDLE_uint64,
    Structure,
    Union,
)

# ---------------------------------------------------------------- xen.h
__HYPERVISOR_sysctl = 35

# ------------------------------------------------------------- sysctl.h
XEN_SYSCTL_INTERFACE_VERSION = 0x00000015
XEN_SYSCTL_get_pmstat = 10
XEN_SYSCTL_pm_op = 12

PMSTAT_CATEGORY_MASK = 0xF0
PMSTAT_PX = 0x10
PMSTAT_CX = 0x20
PMSTAT_get_max_px = PMSTAT_PX | 0x1
PMSTAT_get_pxstat = PMSTAT_PX | 0x2
PMSTAT_reset_pxstat = PMSTAT_PX | 0x3
PMSTAT_get_max_cx = PMSTAT_CX | 0x1
PMSTAT_get_cxstat = PMSTAT_CX | 0x2
PMSTAT_reset_cxstat = PMSTAT_CX | 0x3

CPUFREQ_NAME_LEN = 16
CPUFREQ_PARA = 0x10
GET_CPUFREQ_PARA = CPUFREQ_PARA | 0x01


class pm_px_val(Structure):
    _fields_ = [("freq", c_uint64), ("residency", c_uint64), ("count", c_uint64)]
    freq: int
    residency: int
    count: int


class XEN_GUEST_HANDLE_pm_px_val_t(Structure):
    _fields_ = [("p", c_uint64)]
    p: int
    target: ClassVar[type[ctypes.Structure]] = pm_px_val


class pm_px_stat(Structure):
    _fields_ = [
        ("total", c_uint8),
        ("usable", c_uint8),
        ("last", c_uint8),
        ("cur", c_uint8),
        ("trans_pt", XEN_GUEST_HANDLE_uint64),
        ("pt", XEN_GUEST_HANDLE_pm_px_val_t),
    ]
    total: int
    usable: int
    last: int
    cur: int
    trans_pt: XEN_GUEST_HANDLE_uint64
    pt: XEN_GUEST_HANDLE_pm_px_val_t


class pm_cx_stat(Structure):
    _fields_ = [
        ("nr", c_uint32),
        ("last", c_uint32),
        ("idle_time", c_uint64),
        ("triggers", XEN_GUEST_HANDLE_uint64),
        ("residencies", XEN_GUEST_HANDLE_uint64),
        ("nr_pc", c_uint32),
        ("nr_cc", c_uint32),
        ("pc", XEN_GUEST_HANDLE_uint64),
        ("cc", XEN_GUEST_HANDLE_uint64),
    ]
    nr: int
    last: int
    idle_time: int
    triggers: XEN_GUEST_HANDLE_uint64
    residencies: XEN_GUEST_HANDLE_uint64
    nr_pc: int
    nr_cc: int
    pc: XEN_GUEST_HANDLE_uint64
    cc: XEN_GUEST_HANDLE_uint64


class xen_sysctl_get_pmstat_u(Union):
    _fields_ = [("getpx", pm_px_stat), ("getcx", pm_cx_stat)]
    getpx: pm_px_stat
    getcx: pm_cx_stat


class xen_sysctl_get_pmstat(Structure):
    _fields_ = [("type", c_uint32), ("cpuid", c_uint32), ("u", xen_sysctl_get_pmstat_u)]
    type: int
    cpuid: int
    u: xen_sysctl_get_pmstat_u


class xen_userspace(Structure):
    _fields_ = [("scaling_setspeed", c_uint32)]
    scaling_setspeed: int


class xen_ondemand(Structure):
    _fields_ = [
        ("sampling_rate_max", c_uint32),
        ("sampling_rate_min", c_uint32),
        ("sampling_rate", c_uint32),
        ("up_threshold", c_uint32),
    ]
    sampling_rate_max: int
    sampling_rate_min: int
    sampling_rate: int
    up_threshold: int


class xen_get_cpufreq_para_u(Union):
    _fields_ = [("userspace", xen_userspace), ("ondemand", xen_ondemand)]
    userspace: xen_userspace
    ondemand: xen_ondemand


class xen_get_cpufreq_para(Structure):
    _fields_ = [
        ("cpu_num", c_uint32),
        ("freq_num", c_uint32),
        ("gov_num", c_uint32),
        ("affected_cpus", XEN_GUEST_HANDLE_uint32),
        ("scaling_available_frequencies", XEN_GUEST_HANDLE_uint32),
        ("scaling_available_governors", XEN_GUEST_HANDLE_char),
        ("scaling_driver", c_char * CPUFREQ_NAME_LEN),
        ("cpuinfo_cur_freq", c_uint32),
        ("cpuinfo_max_freq", c_uint32),
        ("cpuinfo_min_freq", c_uint32),
        ("scaling_cur_freq", c_uint32),
        ("scaling_governor", c_char * CPUFREQ_NAME_LEN),
        ("scaling_max_freq", c_uint32),
        ("scaling_min_freq", c_uint32),
        ("u", xen_get_cpufreq_para_u),
        ("turbo_enabled", c_int32),
    ]
    cpu_num: int
    freq_num: int
    gov_num: int
    affected_cpus: XEN_GUEST_HANDLE_uint32
    scaling_available_frequencies: XEN_GUEST_HANDLE_uint32
    scaling_available_governors: XEN_GUEST_HANDLE_char
    scaling_driver: bytes
    cpuinfo_cur_freq: int
    cpuinfo_max_freq: int
    cpuinfo_min_freq: int
    scaling_cur_freq: int
    scaling_governor: bytes
    scaling_max_freq: int
    scaling_min_freq: int
    u: xen_get_cpufreq_para_u
    turbo_enabled: int


class xen_sysctl_pm_op_u(Union):
    _fields_ = [
        ("get_para", xen_get_cpufreq_para),
        ("get_avgfreq", c_uint64),
        ("set_sched_opt_smt", c_uint32),
        ("get_max_cstate", c_uint32),
        ("set_max_cstate", c_uint32),
    ]
    get_para: xen_get_cpufreq_para
    get_avgfreq: int
    set_sched_opt_smt: int
    get_max_cstate: int
    set_max_cstate: int


class xen_sysctl_pm_op(Structure):
    _fields_ = [("cmd", c_uint32), ("cpuid", c_uint32), ("u", xen_sysctl_pm_op_u)]
    cmd: int
    cpuid: int
    u: xen_sysctl_pm_op_u


class xen_sysctl_u(Union):
    """The members read back here, and ``pad`` (which gives the union its 128 bytes)."""

    _fields_ = [
        ("get_pmstat", xen_sysctl_get_pmstat),
        ("pm_op", xen_sysctl_pm_op),
        ("pad", c_uint8 * 128),
    ]
    get_pmstat: xen_sysctl_get_pmstat
    pm_op: xen_sysctl_pm_op
    pad: ctypes.Array[c_uint8]


class xen_sysctl(Structure):
    _fields_ = [("cmd", c_uint32), ("interface_version", c_uint32), ("u", xen_sysctl_u)]
    cmd: int
    interface_version: int
    u: xen_sysctl_u
