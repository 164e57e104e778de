#!/bin/busybox sh
# PID 1 of the test dom0 (packed into the initramfs by prepare.py).
#
# It turns the host's root file system, shared read-only over virtio-9p, into dom0's root: an
# overlay with a tmpfs upper layer, so dom0 can write anywhere (writes vanish at power-off) while
# the host stays untouched, and the host's python3, the repository and the cache keep their paths.
# Then it hands over to the command agent (tests/xen/agent.py), which becomes PID 1.
#
# The host passes the agent's interpreter and script as kernel parameters; the kernel gives unknown
# `name=value` parameters to init as environment variables: $pyxen_python, $pyxen_agent, and
# $pyxen_keep (":"-separated paths under the host's /tmp that dom0 needs, see below).

/bin/busybox mkdir -p /bin /proc /sys /dev /lower /rw /newroot
/bin/busybox --install -s /bin
export PATH=/bin

# Say why we stop, then power off at once: the host sees QEMU exit and shows this console.
fail() {
    echo "pyxen-init: FAILED: $*"
    poweroff -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

# Modules in dependency order (prepare.py resolved the order from each module's `depends=`).
while read -r module; do
    insmod "/lib/modules/$module" || fail "insmod $module"
done < /etc/modules

# msize: bigger 9p messages mean fewer round trips, which are slow under TCG. cache=loose: without
# it every python3 start re-reads its hundreds of files over 9p (3.6 s instead of ~1 s); the price
# is that a host file changed after dom0 read it may look stale. dom0 does not write through it.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower \
    || fail "mount of the host root over 9p"
mount -t tmpfs -o mode=0755 rw /rw
mkdir /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot \
    || fail "overlay mount"

# The host's /tmp, /run and /dev/shm are not ours: give dom0 its own, empty and writable.
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
# ...except what dom0 needs from it (a repository cloned under /tmp, its venv, the cache): bind
# those back from the host's root, read-only, or the agent and the package would be hidden.
for keep in $(echo "$pyxen_keep" | tr ':' ' '); do
    mkdir -p "/newroot$keep" && mount --bind "/lower$keep" "/newroot$keep" || fail "bind $keep"
done
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
mount --move /dev /newroot/dev
mkdir -p /newroot/dev/shm /newroot/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount --move /sys /newroot/sys
mount --move /proc /newroot/proc
# xenfs gives /proc/xen/capabilities ("control_d" in dom0) and the legacy /proc/xen/privcmd.
mount -t xenfs xenfs /newroot/proc/xen || fail "xenfs mount"

[ -x "/newroot$pyxen_python" ] || fail "no python at $pyxen_python"
[ -f "/newroot$pyxen_agent" ] || fail "no agent at $pyxen_agent"
echo "pyxen-init: starting the agent"
# -I -S: the agent needs only the standard library; site-packages cost seconds over 9p.
exec switch_root /newroot "$pyxen_python" -I -S "$pyxen_agent"
