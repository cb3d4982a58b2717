/* The kernel modules a novm guest needs (virtio transport and devices,
 * virtiofs, vsock, pvpanic, overlayfs, virtio-net), picked out of a distribution's
 * lib/modules/<release> together with their dependencies.
 *
 * Dependencies come from each module's own .modinfo section (`depends=`),
 * not from modules.dep: a kernel package as shipped has none, and running
 * depmod would need the whole tree installed. */
#ifndef NOVM_KMODULES_H
#define NOVM_KMODULES_H

#include <stddef.h>

#include "error.h"

/* Module names ('-' and '_' are equivalent, as for modprobe). */
extern const char *const kmodules_guest_set[];
extern const size_t kmodules_guest_set_size;

/* Copies the modules named in `wanted` that exist under modules_dir/kernel
 * (plain or .ko.xz/.ko.zst/.ko.gz, written out decompressed as <name>.ko)
 * and all they depend on into dest_dir, and writes dest_dir/order listing
 * the copied file names, one a line, each after its dependencies.
 *
 * A wanted module that is built in (modules.builtin) or absent is skipped;
 * so is a built-in dependency.  A dependency that is neither is an error,
 * as is a corrupt module or a dependency cycle.  dest_dir is created if
 * needed. */
int kmodules_install_set(const char *modules_dir, const char *const *wanted, size_t nr_wanted,
			 const char *dest_dir, novm_error_t *err);

/* kmodules_install_set() with kmodules_guest_set. */
int kmodules_install(const char *modules_dir, const char *dest_dir, novm_error_t *err);

#endif
