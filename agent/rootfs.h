/* The container's root file system: the virtio-fs root share, the OCI
 * mounts, /dev, masked and read-only paths, hostname and sysctls, then the
 * switch into it.  Run by the container's init before it execs; the agent
 * (PID 1 of the guest) stays in the initramfs. */
#ifndef NOVM_AGENT_ROOTFS_H
#define NOVM_AGENT_ROOTFS_H

#include "hostconfig.h"
#include "error.h"

/* Where the root is assembled, in the initramfs. */
#define ROOTFS_NEW_ROOT "/newroot"
/* Where each share is mounted once before being bound into the root. */
#define ROOTFS_SHARES_DIR "/run/novm/shares"

/* Builds the root at ROOTFS_NEW_ROOT as cfg describes, in the container's
 * own mount namespace (its init's, before it runs).  Needs the initramfs's
 * /proc (mount targets are named through /proc/self/fd) and the fuse and
 * virtiofs modules loaded. */
int rootfs_setup(const struct agent_config *cfg, novm_error_t *err);

/* Detaches the initramfs's mounts from this mount namespace, moves the new
 * root over "/" and chroots into it (pivot_root is refused on the
 * initramfs), leaving the initramfs unreachable. */
int rootfs_switch(const struct agent_config *cfg, novm_error_t *err);

#endif
