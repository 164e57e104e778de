/*
 * fakeprivcmd.c - an LD_PRELOAD stand-in for Linux's /dev/xen/privcmd that
 * plays Xen's do_platform_op for the sub-ops pyxenplatform issues.
 *
 * Why this shape: the package's bytes go through the real fcntl.ioctl() and
 * are decoded here with Xen's own public headers (<xen/platform.h>), so a
 * wrong ctypes layout in the package cannot hide behind an equally wrong
 * layout in a Python-side fake.
 *
 * Environment, read at every call:
 *   FAKEPRIVCMD_PATH            regular file that plays /dev/xen/privcmd;
 *                               every other fd goes to the real ioctl()
 *   FAKEPRIVCMD_LOG             append one JSON line per hypercall to it
 *   FAKEPRIVCMD_CPUS            "xen_cpuid:apic_id:acpi_id[:offline],..."
 *                               (default "0:0:0,1:1:1")
 *   FAKEPRIVCMD_ERRNO           "cmd[/type][:acpi_id]=errno,..." fails
 *                               matching calls after decoding and logging
 *   FAKEPRIVCMD_ALLOW_UNLOCKED  "1": buffers outside locked or
 *                               /dev/xen/hypercall memory do not fail
 *
 * Xen sources cited are xen-project/xen as of 4.17 unless said otherwise.
 * Not thread-safe beyond what Python's GIL gives; single calls only.
 */
#define _GNU_SOURCE
/* Xen's tools see the newest interface: structured guest handles (.p). */
#define __XEN_TOOLS__ 1

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <xen/xen.h>
#include <xen/platform.h>
#include <xen/version.h>
/* Xen's copy of Linux's uapi privcmd.h: Linux's own <xen/privcmd.h> needs
 * <xen/interface/xen.h>, which user space does not have. */
#include <xen/sys/privcmd.h>

/* The layout the tests (and tests/../platform-layout-x86_64.txt) assume. */
_Static_assert(sizeof(privcmd_hypercall_t) == 48, "privcmd_hypercall");
_Static_assert(IOCTL_PRIVCMD_HYPERCALL == 0x305000, "IOCTL_PRIVCMD_HYPERCALL");
_Static_assert(sizeof(struct xen_platform_op) == 136, "xen_platform_op");
_Static_assert(sizeof(xen_processor_cx_t) == 48, "xen_processor_cx");
_Static_assert(sizeof(xen_processor_px_t) == 48, "xen_processor_px");

/* _PDC bits: Xen xen/include/acpi/pdc_intel.h (not a public header). */
#define ACPI_PDC_REVISION_ID 1
#define ACPI_PDC_T_MASK (0x0004 | 0x0080)       /* T_FFH | SMP_T_SWCOORD */
#define ACPI_PDC_C_CAPABILITY_SMP 0x031a        /* C2C3|C1PT|C1_HALT|C1_FFH|C2C3_FFH */
#define ACPI_PDC_EST_CAPABILITY_SWSMP 0x082b    /* C1PT|C1_HALT|P_SWCOORD|P_HWCOORD|P_FFH */

/* XENVER_version's answer, (major << 16) | minor: the stand-in plays the
 * Xen whose platform.h it was compiled against. */
#ifdef XEN_PM_CPPC
#define FAKE_XEN_VERSION ((4 << 16) | 21)
#else
#define FAKE_XEN_VERSION ((4 << 16) | 17)
#endif
/* A successful hypercall's (non-negative) result, returned by ioctl(). */
static int hypercall_result;

#define MAX_CPUS 1024

static void die(const char *what, const char *value)
{
    /* A test set-up mistake must not look like a package bug: stop loudly. */
    fprintf(stderr, "fakeprivcmd: bad %s: %s\n", what, value ? value : "(null)");
    abort();
}

/* ---- the CPUs Xen knows (FAKEPRIVCMD_CPUS) ---- */

struct cpu { unsigned long xen_cpuid, apic_id, acpi_id; int online; };

static size_t load_cpus(struct cpu *cpus)
{
    const char *s = getenv("FAKEPRIVCMD_CPUS"), *env = s;
    size_t n = 0;
    char *end;

    if (!s || !*s)
        s = env = "0:0:0,1:1:1";
    for (;;) {
        struct cpu *c = &cpus[n];
        if (n == MAX_CPUS)
            die("FAKEPRIVCMD_CPUS (too many)", env);
        c->xen_cpuid = strtoul(s, &end, 0);
        if (end == s || *end != ':') die("FAKEPRIVCMD_CPUS", env);
        c->apic_id = strtoul(s = end + 1, &end, 0);
        if (end == s || *end != ':') die("FAKEPRIVCMD_CPUS", env);
        c->acpi_id = strtoul(s = end + 1, &end, 0);
        if (end == s) die("FAKEPRIVCMD_CPUS", env);
        c->online = strncmp(end, ":offline", 8) != 0;
        s = c->online ? end : end + 8;
        n++;
        if (!*s)
            return n;
        if (*s++ != ',')
            die("FAKEPRIVCMD_CPUS", env);
    }
}

static const struct cpu *cpu_by(const struct cpu *cpus, size_t n, int by_acpi,
                                unsigned long id)
{
    for (size_t i = 0; i < n; i++)
        if ((by_acpi ? cpus[i].acpi_id : cpus[i].xen_cpuid) == id)
            return &cpus[i];
    return NULL;
}

/* Xen's cpumask_last(&cpu_present_map): offline CPUs are still present. */
static uint32_t max_present(const struct cpu *cpus, size_t n)
{
    unsigned long m = 0;
    for (size_t i = 0; i < n; i++)
        if (cpus[i].xen_cpuid > m)
            m = cpus[i].xen_cpuid;
    return (uint32_t)m;
}

/* ---- memory Xen may read: /proc/self/smaps ---- */

struct vma { uintptr_t start, end; long locked_kb; int lo; char name[128]; };
struct vmas { struct vma *v; size_t n; };

static void load_vmas(struct vmas *m)
{
    FILE *f = fopen("/proc/self/smaps", "re");
    char *line = NULL;
    size_t cap = 0, alloc = 0;

    if (!f)
        die("/proc/self/smaps", strerror(errno));
    while (getline(&line, &cap, f) > 0) {
        unsigned long s, e;
        long kb;
        int off = 0;
        struct vma *cur = m->n ? &m->v[m->n - 1] : NULL;

        /* A VMA header: "start-end perms offset dev inode   pathname". */
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s%n", &s, &e, &off) == 2 && off) {
            const char *name = line + off;
            if (m->n == alloc && !(m->v = realloc(m->v, (alloc = alloc * 2 + 64) * sizeof *m->v)))
                die("memory", "realloc");
            cur = &m->v[m->n++];
            memset(cur, 0, sizeof *cur);
            cur->start = s;
            cur->end = e;
            name += strspn(name, " ");
            snprintf(cur->name, sizeof cur->name, "%.*s", (int)strcspn(name, "\n"), name);
            /* MAP_SHARED|MAP_ANONYMOUS is shmem that smaps names after /dev/zero. */
            if (!cur->name[0] || !strcmp(cur->name, "/dev/zero (deleted)"))
                strcpy(cur->name, "anon");
        } else if (cur && sscanf(line, "Locked: %ld kB", &kb) == 1) {
            cur->locked_kb = kb;
        } else if (cur && !strncmp(line, "VmFlags:", 8)) {
            cur->lo = strstr(line, " lo") != NULL; /* VM_LOCKED */
        }
    }
    free(line);
    fclose(f);
}

/* ---- one hypercall ---- */

struct call {
    struct vmas vmas;
    int allow_unlocked;
    int fault;                 /* EFAULT once a buffer Xen reads is unsafe */
    FILE *bufs, *body;         /* JSON fragments: buffer list, decoded op */
    char *bufs_s, *body_s;
    size_t bufs_n, body_n, nbufs;
    int have_op, version_ok;   /* what the injection rules may match */
    uint32_t cmd, version, pm_type, pm_id;
    int is_pminfo;
    void *wb_addr;             /* one copy back to the guest, on success */
    unsigned char wb[64];
    size_t wb_len;
};

static void json_str(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n && s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch > 0x7e)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/*
 * Check that [addr, addr + count * size) lies in memory Xen can read from
 * a dom0 without faulting: pages that are locked (mlock/MAP_LOCKED, as
 * libxencall's fallback in tools/libs/call/linux.c) or mapped from
 * /dev/xen/hypercall (Linux drivers/xen/privcmd-buf.c).  A real dom0 fails
 * other memory with EFAULT only now and then (when a page is not present);
 * the stand-in fails it always.  Returns the address to read from, or NULL
 * when not all of it is mapped (the stand-in could not read it either).
 */
static const void *guest_array(struct call *c, const char *what, const void *p,
                               size_t count, size_t size)
{
    uintptr_t a = (uintptr_t)p, cur = a, end;
    const char *name = "unmapped";
    int mapped, safe = 1, wraps;

    if (!c->vmas.v)
        load_vmas(&c->vmas);
    /* A length that wraps the address space is never readable. */
    wraps = count > SIZE_MAX / size || __builtin_add_overflow(a, count * size, &end);
    if (wraps)
        end = a;
    for (size_t i = 0; i < c->vmas.n && cur < end; i++) {
        const struct vma *v = &c->vmas.v[i];
        if (v->end <= cur)
            continue;
        if (v->start > cur)
            break;  /* a hole */
        if (cur == a)
            name = v->name;
        safe &= (v->lo && v->locked_kb > 0) || !strcmp(v->name, "/dev/xen/hypercall");
        cur = v->end;
    }
    mapped = !wraps && count * size > 0 && cur >= end;
    safe &= mapped;

    fprintf(c->bufs, "%s{\"what\":\"%s\",\"addr\":%lu,\"size\":%zu,\"locked\":%s,\"mapping\":",
            c->nbufs++ ? "," : "", what, (unsigned long)a, count * size,
            safe ? "true" : "false");
    json_str(c->bufs, name, strlen(name));
    fputc('}', c->bufs);

    if (!safe && (!mapped || !c->allow_unlocked))
        c->fault = EFAULT;
    return mapped ? p : NULL;
}

static void stage_write(struct call *c, void *addr, const void *src, size_t len)
{
    c->wb_addr = addr;
    memcpy(c->wb, src, c->wb_len = len);
}

static void print_gas(FILE *f, const struct xen_power_register *r)
{
    fprintf(f, "{\"space_id\":%u,\"bit_width\":%u,\"bit_offset\":%u,\"access_size\":%u,"
            "\"address\":%llu}", r->space_id, r->bit_width, r->bit_offset,
            r->access_size, (unsigned long long)r->address);
}

static void print_pct(FILE *f, const struct xen_pct_register *r)
{
    fprintf(f, "{\"descriptor\":%u,\"length\":%u,\"space_id\":%u,\"bit_width\":%u,"
            "\"bit_offset\":%u,\"reserved\":%u,\"address\":%llu}", r->descriptor,
            r->length, r->space_id, r->bit_width, r->bit_offset, r->reserved,
            (unsigned long long)r->address);
}

/*
 * XEN_PM_CX: set_cx_pminfo() in xen/arch/x86/acpi/cpu_idle.c copies
 * power->count states of 48 bytes (copy_from_guest_offset, one by one) and
 * fails an ACPI id without a CPU (get_cpu_id() == -1) with -EINVAL.  It
 * never reads _CSD (dp) in a release build ("C-state dependency is not
 * supported"); a DEBUG_PM_CX build does (print_cx_pminfo), so dp arrays
 * are checked like the rest.  Per-state drops (check_cx) still return 0.
 */
static int set_cx(struct call *c, const struct cpu *cpu, const struct xen_processor_power *pw)
{
    const struct xen_processor_flags *fl = &pw->flags;
    const char *states = NULL;
    FILE *f = c->body;

    fprintf(f, ",\"power\":{\"count\":%u,\"flags\":{\"bm_control\":%u,\"bm_check\":%u,"
            "\"has_cst\":%u,\"power_setup_done\":%u,\"bm_rld_set\":%u},\"states\":[",
            pw->count, fl->bm_control, fl->bm_check, fl->has_cst,
            fl->power_setup_done, fl->bm_rld_set);
    if (pw->count)
        states = guest_array(c, "power.states", pw->states.p, pw->count, sizeof(xen_processor_cx_t));
    for (uint32_t i = 0; states && i < pw->count; i++) {
        xen_processor_cx_t cx;
        const char *dp = NULL;
        char what[64];

        memcpy(&cx, states + i * sizeof cx, sizeof cx);
        fprintf(f, "%s{\"reg\":", i ? "," : "");
        print_gas(f, &cx.reg);
        fprintf(f, ",\"type\":%u,\"latency\":%u,\"power\":%u,\"dpcnt\":%u,\"dp\":[",
                cx.type, cx.latency, cx.power, cx.dpcnt);
        snprintf(what, sizeof what, "power.states[%u].dp", i);
        if (cx.dpcnt && cx.dp.p)
            dp = guest_array(c, what, cx.dp.p, cx.dpcnt, sizeof(xen_processor_csd_t));
        for (uint32_t j = 0; dp && j < cx.dpcnt; j++) {
            xen_processor_csd_t csd;
            memcpy(&csd, dp + j * sizeof csd, sizeof csd);
            fprintf(f, "%s{\"domain\":%u,\"coord_type\":%u,\"num\":%u}", j ? "," : "",
                    csd.domain, csd.coord_type, csd.num);
        }
        fputs("]}", f);
    }
    fputs("]}", f);
    return cpu ? 0 : EINVAL;
}

/*
 * XEN_PM_PX: set_px_pminfo() in xen/drivers/cpufreq/cpufreq.c, checks in
 * its order: no CPU for the ACPI id -> -EINVAL; XEN_PX_PCT with control and
 * status space_id differing -> -EINVAL; XEN_PX_PSS with state_count <= 1
 * -> -EINVAL, else it copies state_count states; XEN_PX_PSD with a
 * shared_type other than XEN_CPUPERF_SHARED_TYPE_HW/ALL/ANY -> -EINVAL.
 * (No cpufreq driver gives -ENODEV only once all four parts are there:
 * inject it with FAKEPRIVCMD_ERRNO=54/1=19.)
 */
static int set_px(struct call *c, const struct cpu *cpu, const struct xen_processor_performance *pf)
{
    const struct xen_psd_package *d = &pf->domain_info;
    int pss = (pf->flags & XEN_PX_PSS) != 0;
    FILE *f = c->body;

    fprintf(f, ",\"perf\":{\"flags\":%u,\"platform_limit\":%u,\"control_register\":",
            pf->flags, pf->platform_limit);
    print_pct(f, &pf->control_register);
    fputs(",\"status_register\":", f);
    print_pct(f, &pf->status_register);
    fprintf(f, ",\"state_count\":%u", pf->state_count);
    if (pss && pf->state_count > 1) {
        const char *px = guest_array(c, "perf.states", pf->states.p, pf->state_count,
                                     sizeof(xen_processor_px_t));
        fputs(",\"states\":[", f);
        for (uint32_t i = 0; px && i < pf->state_count; i++) {
            xen_processor_px_t s;
            memcpy(&s, px + i * sizeof s, sizeof s);
            fprintf(f, "%s{\"core_frequency\":%llu,\"power\":%llu,\"transition_latency\":%llu,"
                    "\"bus_master_latency\":%llu,\"control\":%llu,\"status\":%llu}",
                    i ? "," : "", (unsigned long long)s.core_frequency,
                    (unsigned long long)s.power, (unsigned long long)s.transition_latency,
                    (unsigned long long)s.bus_master_latency,
                    (unsigned long long)s.control, (unsigned long long)s.status);
        }
        fputc(']', f);
    }
    fprintf(f, ",\"domain_info\":{\"num_entries\":%llu,\"revision\":%llu,\"domain\":%llu,"
            "\"coord_type\":%llu,\"num_processors\":%llu},\"shared_type\":%u}",
            (unsigned long long)d->num_entries, (unsigned long long)d->revision,
            (unsigned long long)d->domain, (unsigned long long)d->coord_type,
            (unsigned long long)d->num_processors, pf->shared_type);

    if (!cpu)
        return EINVAL;
    if ((pf->flags & XEN_PX_PCT) &&
        pf->control_register.space_id != pf->status_register.space_id)
        return EINVAL;
    if (pss && pf->state_count <= 1)
        return EINVAL;
    if ((pf->flags & XEN_PX_PSD) && pf->shared_type != XEN_CPUPERF_SHARED_TYPE_HW &&
        pf->shared_type != XEN_CPUPERF_SHARED_TYPE_ALL &&
        pf->shared_type != XEN_CPUPERF_SHARED_TYPE_ANY)
        return EINVAL;
    return 0;
}

/*
 * XEN_PM_PDC: acpi_set_pdc_bits() (xen/drivers/acpi/pmstat.c) copies words
 * 0-1, wants [0] == ACPI_PDC_REVISION_ID and [1] != 0 (else -EINVAL), then
 * copies word 2, keeps only the PM bits Xen does not own, and
 * arch_acpi_set_pdc_bits() (xen/arch/x86/acpi/lib.c) fails an ACPI id
 * without an online CPU (-EINVAL; ~0 means "the boot CPU") and ORs in
 * Xen's own; word 2 is copied back on success.  Modelled: default
 * xen_processor_pmbits = PX (xen/common/domain.c) | CX (setup.c, cpuidle
 * on), a CPU with EIST and MWAIT break-on-interrupt, so the word becomes
 * (in & T_MASK) | C_CAPABILITY_SMP | EST_CAPABILITY_SWSMP.
 */
static int set_pdc(struct call *c, const struct cpu *cpu, uint32_t id, uint32_t *pdc)
{
    const uint32_t *w = guest_array(c, "pdc", pdc, 2, sizeof *w), *w2;
    uint32_t in[2], word2, out;
    FILE *f = c->body;

    if (!w)
        return 0;  /* c->fault says EFAULT */
    memcpy(in, w, sizeof in);
    fprintf(f, ",\"pdc\":[%u,%u", in[0], in[1]);
    if (in[0] != ACPI_PDC_REVISION_ID || !in[1]) {
        fputc(']', f);
        return EINVAL;
    }
    if (!(w2 = guest_array(c, "pdc[2]", pdc + 2, 1, sizeof *w2))) {
        fputc(']', f);
        return 0;
    }
    memcpy(&word2, w2, sizeof word2);
    fprintf(f, ",%u]", word2);
    if (id != UINT32_MAX && (!cpu || !cpu->online))
        return EINVAL;
    out = (word2 & ACPI_PDC_T_MASK) | ACPI_PDC_C_CAPABILITY_SMP | ACPI_PDC_EST_CAPABILITY_SWSMP;
    fprintf(f, ",\"pdc_out\":%u", out);
    stage_write(c, pdc + 2, &out, sizeof out);
    return 0;
}

#ifdef XEN_PM_CPPC
/*
 * XEN_PM_CPPC, only when compiled against Xen 4.21+'s platform.h (the tests
 * build a second stand-in over tests/data/xen-4.21.2/platform.h): Xen in
 * CPPC mode (cpufreq=amd-cppc), set_cppc_pminfo() in
 * xen/drivers/cpufreq/cpufreq.c (RELEASE-4.21.0): no CPU for the ACPI id,
 * non-zero pad, XEN_CPPC_PSD with a shared_type check_psd_pminfo refuses,
 * or any shared_type but HW -> -EINVAL.  Built against 4.17's header,
 * type 4 falls to the default case (-EINVAL), as in 4.17's do_platform_op.
 */
static int set_cppc(struct call *c, const struct cpu *cpu, const struct xen_processor_cppc *d)
{
    const struct xen_psd_package *dp = &d->domain_info;

    fprintf(c->body, ",\"cppc_data\":{\"flags\":%u,\"pad\":[%u,%u,%u],\"cpc\":{"
            "\"highest_perf\":%u,\"nominal_perf\":%u,\"lowest_nonlinear_perf\":%u,"
            "\"lowest_perf\":%u,\"lowest_mhz\":%u,\"nominal_mhz\":%u},\"shared_type\":%u,"
            "\"domain_info\":{\"num_entries\":%llu,\"revision\":%llu,\"domain\":%llu,"
            "\"coord_type\":%llu,\"num_processors\":%llu}}",
            d->flags, d->pad[0], d->pad[1], d->pad[2], d->cpc.highest_perf,
            d->cpc.nominal_perf, d->cpc.lowest_nonlinear_perf, d->cpc.lowest_perf,
            d->cpc.lowest_mhz, d->cpc.nominal_mhz, d->shared_type,
            (unsigned long long)dp->num_entries, (unsigned long long)dp->revision,
            (unsigned long long)dp->domain, (unsigned long long)dp->coord_type,
            (unsigned long long)dp->num_processors);
    if (!cpu || d->pad[0] || d->pad[1] || d->pad[2])
        return EINVAL;
    if ((d->flags & XEN_CPPC_PSD) && d->shared_type != XEN_CPUPERF_SHARED_TYPE_HW &&
        d->shared_type != XEN_CPUPERF_SHARED_TYPE_ALL &&
        d->shared_type != XEN_CPUPERF_SHARED_TYPE_ANY)
        return EINVAL;
    return d->shared_type == XEN_CPUPERF_SHARED_TYPE_HW ? 0 : EINVAL;
}
#endif

/* XENPF_set_processor_pminfo: the switch in do_platform_op()
 * (xen/arch/x86/platform_hypercall.c). */
static int set_pminfo(struct call *c, const struct xenpf_set_processor_pminfo *p)
{
    struct cpu cpus[MAX_CPUS];
    size_t n = load_cpus(cpus);
    const struct cpu *cpu = cpu_by(cpus, n, 1, p->id);
    int ret;

    c->is_pminfo = 1;
    c->pm_type = p->type;
    c->pm_id = p->id;
    fprintf(c->body, ",\"set_pminfo\":{\"id\":%u,\"type\":%u", p->id, p->type);
    switch (p->type) {
    case XEN_PM_CX: ret = set_cx(c, cpu, &p->u.power); break;
    case XEN_PM_PX: ret = set_px(c, cpu, &p->u.perf); break;
    case XEN_PM_PDC: ret = set_pdc(c, cpu, p->id, p->u.pdc.p); break;
    /* xen_processor_pmbits never has XEN_PROCESSOR_PM_TX: -ENOSYS. */
    case XEN_PM_TX: ret = ENOSYS; break;
#ifdef XEN_PM_CPPC
    case XEN_PM_CPPC: ret = set_cppc(c, cpu, &p->u.cppc_data); break;
#endif
    default: ret = EINVAL; break;
    }
    fputc('}', c->body);
    return ret;
}

/* XENPF_get_cpuinfo: flags are set, not or-ed; apic_id and acpi_id of an
 * id that is not present go back as the caller sent them; only
 * u.pcpu_info is copied back (__copy_field_to_guest). */
static int get_cpuinfo(struct call *c, struct xen_platform_op *g, struct xenpf_pcpuinfo info)
{
    struct cpu cpus[MAX_CPUS];
    size_t n = load_cpus(cpus);
    const struct cpu *cpu = cpu_by(cpus, n, 0, info.xen_cpuid);

    if (!cpu) {
        info.flags = XEN_PCPU_FLAGS_INVALID;
    } else {
        info.apic_id = (uint32_t)cpu->apic_id;
        info.acpi_id = (uint32_t)cpu->acpi_id;
        info.flags = cpu->online ? XEN_PCPU_FLAGS_ONLINE : 0;
    }
    info.max_present = max_present(cpus, n);
    fprintf(c->body, ",\"pcpu_info\":{\"xen_cpuid\":%u,\"max_present\":%u,\"flags\":%u,"
            "\"apic_id\":%u,\"acpi_id\":%u}", info.xen_cpuid, info.max_present,
            info.flags, info.apic_id, info.acpi_id);
    stage_write(c, &g->u.pcpu_info, &info, sizeof info);
    return 0;
}

/* XENPF_get_cpu_version: an id that is not online (or >= nr_cpu_ids) gets
 * zeroed vendor/family/model/stepping and still returns 0. */
static int get_cpu_version(struct call *c, struct xen_platform_op *g, struct xenpf_pcpu_version v)
{
    struct cpu cpus[MAX_CPUS];
    size_t n = load_cpus(cpus);
    const struct cpu *cpu = cpu_by(cpus, n, 0, v.xen_cpuid);

    memset(v.vendor_id, 0, sizeof v.vendor_id);
    v.family = v.model = v.stepping = 0;
    if (cpu && cpu->online) {
        memcpy(v.vendor_id, "GenuineIntel", sizeof v.vendor_id);
        v.family = 6;
        v.model = 42;
        v.stepping = 1;
    }
    v.max_present = max_present(cpus, n);
    fprintf(c->body, ",\"pcpu_version\":{\"xen_cpuid\":%u,\"max_present\":%u,\"vendor_id\":",
            v.xen_cpuid, v.max_present);
    json_str(c->body, v.vendor_id, sizeof v.vendor_id);
    fprintf(c->body, ",\"family\":%u,\"model\":%u,\"stepping\":%u}", v.family, v.model,
            v.stepping);
    stage_write(c, &g->u.pcpu_version, &v, sizeof v);
    return 0;
}

/* do_platform_op(): copy the op (-EFAULT), then the interface version
 * (-EACCES) before anything looks at cmd; unknown cmd -> -ENOSYS. */
static int platform_op(struct call *c, uint64_t arg0)
{
    struct xen_platform_op *g = (struct xen_platform_op *)(uintptr_t)arg0;
    const void *p = guest_array(c, "op", g, 1, sizeof *g);
    struct xen_platform_op op;

    if (!p)
        return EFAULT;
    memcpy(&op, p, sizeof op);
    c->have_op = 1;
    c->cmd = op.cmd;
    c->version = op.interface_version;
    if (op.interface_version != XENPF_INTERFACE_VERSION)
        return EACCES;
    c->version_ok = 1;
    switch (op.cmd) {
    case XENPF_set_processor_pminfo: return set_pminfo(c, &op.u.set_pminfo);
    case XENPF_get_cpuinfo: return get_cpuinfo(c, g, op.u.pcpu_info);
    case XENPF_get_cpu_version: return get_cpu_version(c, g, op.u.pcpu_version);
    default: return ENOSYS;
    }
}

/* FAKEPRIVCMD_ERRNO: "cmd[/type][:acpi_id]=errno,...", first match wins;
 * type and acpi_id only match XENPF_set_processor_pminfo calls. */
static int injected_errno(const struct call *c)
{
    const char *env = getenv("FAKEPRIVCMD_ERRNO"), *s = env;
    char *end;

    while (s && *s) {
        unsigned long cmd, type = ULONG_MAX, id = ULONG_MAX, err;
        cmd = strtoul(s, &end, 0);
        if (end == s) die("FAKEPRIVCMD_ERRNO", env);
        if (*end == '/') {
            type = strtoul(s = end + 1, &end, 0);
            if (end == s) die("FAKEPRIVCMD_ERRNO", env);
        }
        if (*end == ':') {
            id = strtoul(s = end + 1, &end, 0);
            if (end == s) die("FAKEPRIVCMD_ERRNO", env);
        }
        if (*end != '=') die("FAKEPRIVCMD_ERRNO", env);
        err = strtoul(s = end + 1, &end, 0);
        if (end == s || !err || err > 4095 || (*end && *end != ',')) die("FAKEPRIVCMD_ERRNO", env);
        s = *end ? end + 1 : end;
        if (cmd == c->cmd && (type == ULONG_MAX || (c->is_pminfo && type == c->pm_type)) &&
            (id == ULONG_MAX || (c->is_pminfo && id == c->pm_id)))
            return (int)err;
    }
    return 0;
}

static void write_log(struct call *c, uint64_t op, int err)
{
    const char *path = getenv("FAKEPRIVCMD_LOG");
    char *line = NULL;
    size_t len = 0;
    FILE *f;
    int fd;

    if (!path || !*path)
        return;
    f = open_memstream(&line, &len);
    fprintf(f, "{\"op\":%llu", (unsigned long long)op);
    if (c->have_op)
        fprintf(f, ",\"cmd\":%u,\"interface_version\":%u", c->cmd, c->version);
    fprintf(f, ",\"errno\":%d,\"buffers\":[%s]%s}\n", err, c->bufs_s, c->body_s);
    fclose(f);
    /* One write() with O_APPEND: lines from several processes never mix. */
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, line, len) != (ssize_t)len)
        die("FAKEPRIVCMD_LOG", path);
    close(fd);
    free(line);
}

/* IOCTL_PRIVCMD_HYPERCALL on the fake device: platform_op and XENVER_version.
 * Linux's privcmd passes any op to Xen, which answers an unknown one with
 * -ENOSYS. */
static int hypercall(const privcmd_hypercall_t *arg)
{
    const char *allow = getenv("FAKEPRIVCMD_ALLOW_UNLOCKED");
    struct call c = { .allow_unlocked = allow && !strcmp(allow, "1") };
    privcmd_hypercall_t hc = { .op = UINT64_MAX };
    int err, inj = 0;

    c.bufs = open_memstream(&c.bufs_s, &c.bufs_n);
    c.body = open_memstream(&c.body_s, &c.body_n);
    /* Linux copy_from_user()s the 48 bytes: they need not be locked. */
    load_vmas(&c.vmas);
    for (size_t i = 0; i < c.vmas.n; i++)
        if (c.vmas.v[i].start <= (uintptr_t)arg && (uintptr_t)(arg + 1) <= c.vmas.v[i].end)
            hc = *arg;

    hypercall_result = 0;
    if (hc.op == UINT64_MAX)
        err = EFAULT;
    else if (hc.op == __HYPERVISOR_xen_version && hc.arg[0] == XENVER_version)
        err = 0, hypercall_result = FAKE_XEN_VERSION;  /* no argument to read */
    else if (hc.op != __HYPERVISOR_platform_op)
        err = ENOSYS;
    else {
        err = platform_op(&c, hc.arg[0]);
        if (c.version_ok)
            inj = injected_errno(&c);
    }
    fclose(c.bufs);
    fclose(c.body);
    /* An unsafe buffer wins: Xen would have stopped at the failed copy. */
    err = c.fault ? c.fault : inj ? inj : err;
    if (!err && c.wb_len)
        memcpy(c.wb_addr, c.wb, c.wb_len);
    write_log(&c, hc.op == UINT64_MAX ? 0 : hc.op, err);
    free(c.bufs_s);
    free(c.body_s);
    free(c.vmas.v);
    return err;
}

static int is_fake_fd(int fd)
{
    const char *want = getenv("FAKEPRIVCMD_PATH");
    char link[64], have[PATH_MAX], real[PATH_MAX];
    ssize_t n;

    if (!want || !*want || !realpath(want, real))
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, have, sizeof have - 1);
    if (n < 0)
        return 0;
    have[n] = '\0';
    return !strcmp(have, real);
}

int ioctl(int fd, unsigned long request, ...)
{
    static int (*real_ioctl)(int, unsigned long, ...);
    va_list ap;
    void *arg;
    int saved = errno, err;

    va_start(ap, request);
    arg = va_arg(ap, void *);
    va_end(ap);

    if (!is_fake_fd(fd)) {
        if (!real_ioctl)
            real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
        errno = saved;
        return real_ioctl(fd, request, arg);
    }
    /* privcmd_ioctl() answers requests it does not know with -ENOTTY. */
    err = request == IOCTL_PRIVCMD_HYPERCALL ? hypercall(arg) : ENOTTY;
    if (err) {
        errno = err;
        return -1;
    }
    return request == IOCTL_PRIVCMD_HYPERCALL ? hypercall_result : 0;
}

/* The package refuses a privcmd path that is not a character device before
 * any ioctl (transport._check_privcmd): the regular file standing in for
 * privcmd reports itself as one, as /dev/xen/privcmd does. */
static int fake_fstat(const char *name, int fd, struct stat *st)
{
    int (*real)(int, struct stat *) = (int (*)(int, struct stat *))dlsym(RTLD_NEXT, name);
    int rc = real(fd, st);

    if (rc == 0 && is_fake_fd(fd))
        st->st_mode = (st->st_mode & ~S_IFMT) | S_IFCHR;
    return rc;
}

/* x86_64: struct stat64 is struct stat; CPython calls fstat64. */
int fstat(int fd, struct stat *st) { return fake_fstat("fstat", fd, st); }
int fstat64(int fd, struct stat64 *st) { return fake_fstat("fstat64", fd, (struct stat *)st); }
