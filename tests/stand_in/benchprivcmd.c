/*
 * benchprivcmd.c - the cheapest LD_PRELOAD stand-in for /dev/xen/privcmd,
 * for tests/benchmark.py only.
 *
 * Why it exists: fakeprivcmd.c decodes, checks and logs every hypercall
 * (it reads /proc/self/smaps each time), which costs far more than the
 * Python being measured.  This one answers in user space with almost no
 * work, so a benchmark's ratio to its hand-packed floor counts only the
 * Python on each side.  It is not a model of Xen: fakeprivcmd.c is.
 *
 *   BENCHPRIVCMD_PATH  the regular file that plays the device; ioctls on
 *                      other files go to the real ioctl()
 *   BENCHPRIVCMD_CPUS  n: XENPF_get_cpuinfo answers Xen CPUs 0..n-1 with
 *                      ACPI id 2i+1 and APIC id 2i (default 2)
 *
 * Every other platform_op succeeds and changes nothing (a _PDC word comes
 * back as it went: Xen's copy back, without Xen's masking).
 */
#define _GNU_SOURCE
#define __XEN_TOOLS__ 1

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <xen/xen.h>
#include <xen/platform.h>
#include <xen/sys/privcmd.h>

static dev_t fake_dev;
static ino_t fake_ino;
static int fake_known;  /* 1: fake_dev/fake_ino set; -1: no BENCHPRIVCMD_PATH */
static unsigned long nr_cpus = 2;

static void init(void)
{
    const char *path = getenv("BENCHPRIVCMD_PATH"), *cpus = getenv("BENCHPRIVCMD_CPUS");
    struct stat st;

    if (cpus && *cpus)
        nr_cpus = strtoul(cpus, NULL, 0);
    if (!path || !*path || stat(path, &st) != 0) {
        fake_known = -1;
        return;
    }
    fake_dev = st.st_dev;
    fake_ino = st.st_ino;
    fake_known = 1;
}

static int real_fstat(const char *name, int fd, struct stat *st)
{
    int (*real)(int, struct stat *) = (int (*)(int, struct stat *))dlsym(RTLD_NEXT, name);
    return real(fd, st);
}

static int is_fake_stat(const struct stat *st)
{
    if (!fake_known)
        init();
    return fake_known > 0 && st->st_dev == fake_dev && st->st_ino == fake_ino;
}

/* The privcmd fd of this process, remembered by number once recognised
 * (the benchmark never closes it and reuses the number for another file). */
static int is_fake_fd(int fd)
{
    static int last_fd = -1;
    struct stat st;

    if (fd == last_fd)
        return 1;
    if (real_fstat("fstat", fd, &st) != 0 || !is_fake_stat(&st))
        return 0;
    last_fd = fd;
    return 1;
}

/* The package may refuse a privcmd that is not a character device before any
 * ioctl: the regular file standing in for it reports itself as one (as
 * fakeprivcmd.c does). */
static int fake_fstat(const char *name, int fd, struct stat *st)
{
    int rc = real_fstat(name, fd, st);

    if (rc == 0 && is_fake_stat(st))
        st->st_mode = (st->st_mode & ~S_IFMT) | S_IFCHR;
    return rc;
}

/* x86_64: struct stat64 is struct stat; CPython calls fstat64. */
int fstat(int fd, struct stat *st) { return fake_fstat("fstat", fd, st); }
int fstat64(int fd, struct stat64 *st) { return fake_fstat("fstat64", fd, (struct stat *)st); }

static int platform_op(struct xen_platform_op *op)
{
    if (op->interface_version != XENPF_INTERFACE_VERSION)
        return EACCES;
    if (op->cmd == XENPF_get_cpuinfo) {
        struct xenpf_pcpuinfo *info = &op->u.pcpu_info;
        uint32_t id = info->xen_cpuid;
        info->max_present = nr_cpus ? (uint32_t)(nr_cpus - 1) : 0;
        if (id < nr_cpus) {
            info->flags = XEN_PCPU_FLAGS_ONLINE;
            info->apic_id = 2 * id;
            info->acpi_id = 2 * id + 1;
        } else {
            info->flags = XEN_PCPU_FLAGS_INVALID;
        }
    }
    return 0;
}

int ioctl(int fd, unsigned long request, ...)
{
    static int (*real_ioctl)(int, unsigned long, ...);
    va_list ap;
    void *arg;
    int err;

    va_start(ap, request);
    arg = va_arg(ap, void *);
    va_end(ap);
    if (request != IOCTL_PRIVCMD_HYPERCALL || !is_fake_fd(fd)) {
        if (!real_ioctl)
            real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
        return real_ioctl(fd, request, arg);
    }
    {
        privcmd_hypercall_t *hc = arg;
        err = hc->op == __HYPERVISOR_platform_op
            ? platform_op((struct xen_platform_op *)(uintptr_t)hc->arg[0]) : ENOSYS;
    }
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
