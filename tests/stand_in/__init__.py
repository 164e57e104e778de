"""A test stand-in for Linux's /dev/xen/privcmd that answers like Xen's do_platform_op.

``fakeprivcmd.c`` (LD_PRELOAD) decodes what a process hands to
``ioctl(IOCTL_PRIVCMD_HYPERCALL)`` with Xen's own headers; ``fake`` builds and
runs it; ``fixtures`` gives pytest fixtures.
"""
